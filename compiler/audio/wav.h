// WAV (RIFF/WAVE) reader for `tinyforge listen`: 16-bit integer PCM, mono. Every chunk
// length is checked against the end of the file before it is used; chunks other than
// `fmt ` and `data` are skipped by their length (odd lengths padded, as RIFF requires).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::audio {

struct Wav {
  uint32_t sample_rate = 0;
  std::vector<int16_t> samples;
};

// Throws tinyforge::Error "NAME: what is wrong (what to do)" for anything else.
Wav parse_wav(const std::vector<uint8_t>& bytes, const std::string& name);

// A mono 16-bit PCM WAV file's bytes (tests and tools).
std::vector<uint8_t> make_wav(const Wav& wav);

}  // namespace tinyforge::audio
