#include "audio/wav.h"

#include <fmt/format.h>

#include <cstring>

#include "ir/error.h"

namespace tinyforge::audio {
namespace {

// RIFF/WAVE layout (Microsoft's "Multimedia Programming Interface and Data Specifications
// 1.0"): "RIFF" size "WAVE", then chunks of id[4] size(u32 LE) bytes (+1 pad when odd).
// fmt : format tag (1 = PCM, 0xFFFE = extensible, whose sub-format GUID starts with the
// tag), channels, sample rate, byte rate, block align, bits per sample.
constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;

uint32_t u32_at(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
         uint32_t{b[at + 3]} << 24;
}
uint16_t u16_at(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

}  // namespace

Wav parse_wav(const std::vector<uint8_t>& b, const std::string& name) {
  const auto fail = [&name](const std::string& what) {
    return tinyforge::Error(name + ": " + what);
  };
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 ||
      std::memcmp(b.data() + 8, "WAVE", 4) != 0)
    throw fail("not a WAV file (expected a RIFF/WAVE header; convert with sox)");
  // The RIFF size may overstate a truncated file or understate one with trailing bytes:
  // the chunks are read within both the file and the RIFF size.
  const size_t end = std::min<size_t>(b.size(), size_t{u32_at(b, 4)} + 8);
  bool have_fmt = false, have_data = false;
  uint16_t channels = 0, bits = 0;
  Wav wav;
  size_t at = 12;
  while (at + 8 <= end) {
    const uint32_t size = u32_at(b, at + 4);
    const size_t body = at + 8;
    if (size > end - body)
      throw fail(fmt::format("chunk '{}' at byte {} runs past the end of the file (truncated?)",
                             std::string(reinterpret_cast<const char*>(b.data() + at), 4), at));
    if (std::memcmp(b.data() + at, "fmt ", 4) == 0) {
      if (size < 16) throw fail("the fmt chunk is shorter than 16 bytes");
      uint16_t tag = u16_at(b, body);
      if (tag == kFormatExtensible && size >= 26) tag = u16_at(b, body + 24);
      channels = u16_at(b, body + 2);
      wav.sample_rate = u32_at(b, body + 4);
      bits = u16_at(b, body + 14);
      if (tag != kFormatPcm || bits != 16)
        throw fail(fmt::format(
            "format {} with {} bits per sample: only 16-bit integer PCM is read (convert: "
            "sox IN -b 16 -e signed-integer OUT.wav)",
            tag, bits));
      if (channels != 1)
        throw fail(
            fmt::format("{} channels: only mono is read (convert: sox IN OUT.wav "
                        "remix -)",
                        channels));
      if (wav.sample_rate == 0) throw fail("the sample rate is 0");
      have_fmt = true;
    } else if (std::memcmp(b.data() + at, "data", 4) == 0) {
      if (!have_fmt) throw fail("the data chunk comes before the fmt chunk");
      if (have_data) throw fail("more than one data chunk");
      if (size < 2) throw fail("the data chunk holds no sample (an empty recording)");
      wav.samples.resize(size / 2);
      std::memcpy(wav.samples.data(), b.data() + body, wav.samples.size() * 2);
      have_data = true;
    }
    at = body + size + (size & 1);
  }
  if (!have_fmt) throw fail("no fmt chunk (not a complete WAV file)");
  if (!have_data) throw fail("no data chunk (not a complete WAV file)");
  return wav;
}

std::vector<uint8_t> make_wav(const Wav& wav) {
  const uint32_t data_bytes = static_cast<uint32_t>(wav.samples.size() * 2);
  std::vector<uint8_t> b = {'R', 'I', 'F', 'F'};
  put_u32(b, 36 + data_bytes);
  b.insert(b.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  put_u32(b, 16);
  put_u16(b, kFormatPcm);
  put_u16(b, 1);
  put_u32(b, wav.sample_rate);
  put_u32(b, wav.sample_rate * 2);
  put_u16(b, 2);
  put_u16(b, 16);
  b.insert(b.end(), {'d', 'a', 't', 'a'});
  put_u32(b, data_bytes);
  const auto* p = reinterpret_cast<const uint8_t*>(wav.samples.data());
  if (data_bytes > 0) b.insert(b.end(), p, p + data_bytes);  // data() may be null when empty
  return b;
}

}  // namespace tinyforge::audio
