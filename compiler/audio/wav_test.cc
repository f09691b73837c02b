// The WAV reader: what it accepts (plain and extensible PCM, odd-sized chunks skipped with
// their pad byte) and a clear refusal, never a crash, for everything else.
#include "audio/wav.h"

#include <gtest/gtest.h>

#include "ir/error.h"

namespace tinyforge::audio {
namespace {

Wav sample_wav() {
  Wav w;
  w.sample_rate = 16000;
  w.samples = {0, 1, -1, 32767, -32768, 1234};
  return w;
}

void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::string refusal(const std::vector<uint8_t>& bytes) {
  try {
    parse_wav(bytes, "x.wav");
  } catch (const tinyforge::Error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Wav, RoundTripsAndSkipsOtherChunks) {
  const Wav w = sample_wav();
  std::vector<uint8_t> b = make_wav(w);
  Wav r = parse_wav(b, "x.wav");
  EXPECT_EQ(r.sample_rate, 16000u);
  EXPECT_EQ(r.samples, w.samples);
  // An odd-sized LIST chunk (and its pad byte) before fmt.
  std::vector<uint8_t> list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  b.insert(b.begin() + 12, list.begin(), list.end());
  put_u32(b, 4, static_cast<uint32_t>(b.size() - 8));
  r = parse_wav(b, "x.wav");
  EXPECT_EQ(r.samples, w.samples);
}

TEST(Wav, ReadsExtensiblePcm) {
  std::vector<uint8_t> b = make_wav(sample_wav());
  // fmt grows to 40 bytes: tag 0xFFFE, cbSize 22, valid bits, mask, sub-format GUID (tag 1).
  std::vector<uint8_t> ext(24, 0);
  ext[0] = 22;
  ext[2] = 16;
  ext[8] = 1;
  b.insert(b.begin() + 36, ext.begin(), ext.end());
  put_u32(b, 16, 40);
  b[20] = 0xFE;
  b[21] = 0xFF;
  put_u32(b, 4, static_cast<uint32_t>(b.size() - 8));
  EXPECT_EQ(parse_wav(b, "x.wav").samples, sample_wav().samples);
}

TEST(Wav, RefusesWhatItCannotRead) {
  const std::vector<uint8_t> good = make_wav(sample_wav());
  EXPECT_NE(refusal({}).find("not a WAV file"), std::string::npos);
  std::vector<uint8_t> b = good;
  b[22] = 2;  // stereo
  EXPECT_NE(refusal(b).find("only mono"), std::string::npos);
  b = good;
  b[34] = 8;  // 8-bit
  EXPECT_NE(refusal(b).find("16-bit integer PCM"), std::string::npos);
  b = good;
  b[20] = 3;  // IEEE float
  EXPECT_NE(refusal(b).find("sox"), std::string::npos);
  b = good;
  put_u32(b, 40, 1000);  // data chunk longer than the file
  EXPECT_NE(refusal(b).find("runs past the end"), std::string::npos);
  b = good;
  b.resize(36);  // no data chunk
  put_u32(b, 4, 28);
  EXPECT_NE(refusal(b).find("no data chunk"), std::string::npos);
  b = good;
  put_u32(b, 24, 0);  // rate 0
  EXPECT_NE(refusal(b).find("sample rate is 0"), std::string::npos);
  b = good;
  put_u32(b, 16, 0xFFFFFFF0u);  // fmt size near 2^32
  EXPECT_NE(refusal(b).find("runs past the end"), std::string::npos);
  Wav silent = sample_wav();  // a data chunk of no samples
  silent.samples.clear();
  EXPECT_NE(refusal(make_wav(silent)).find("holds no sample"), std::string::npos);
}

}  // namespace
}  // namespace tinyforge::audio
