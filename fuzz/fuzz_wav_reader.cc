// Fuzz target: arbitrary bytes as a WAV file (`listen --wav`). parse_wav must refuse with
// tinyforge::Error or accept without reading out of bounds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "audio/wav.h"
#include "ir/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (4u << 20)) return 0;
  std::vector<uint8_t> bytes(data, data + size);
  // Most inputs lack the RIFF/WAVE magic: give it to half of them so mutations reach the
  // chunk walker.
  if (size >= 12 && (data[0] & 1)) {
    const uint8_t magic[] = {'R', 'I', 'F', 'F'};
    std::copy(magic, magic + 4, bytes.begin());
    const uint8_t wave[] = {'W', 'A', 'V', 'E'};
    std::copy(wave, wave + 4, bytes.begin() + 8);
  }
  try {
    tinyforge::audio::parse_wav(bytes, "fuzz.wav");
  } catch (const tinyforge::Error&) {
  }
  return 0;
}
