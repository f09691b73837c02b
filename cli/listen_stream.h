// What `listen` and `features` share: the plan blob that carries the audio front-end, the
// WAV checked against the front-end's sample rate, and the loop that streams samples
// through the front-end frame by frame, as the device does (targets/firmware/listen_main.cc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "audio/wav.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge::cli {

// The plan blob with its front-end: a blob as it is (it must carry one), or the model file
// compiled for `target` with the front-end of `frontend` (a --frontend SPEC; empty:
// micro_speech's). A SPEC given with a blob is a usage error.
std::vector<uint8_t> listening_blob(const std::string& model, const std::string& frontend,
                                    const std::string& target);

// The WAV at `path`, refused (tinyforge::Error) unless it is at the front-end's rate.
audio::Wav read_wav_at(const std::string& path, const FrontendConfig& config);

// Streams `samples` through `frontend` from a reset state; `on_frame(frame)` after each
// complete frame (its features are in frontend.features()). Returns the number of frames.
template <typename OnFrame>
uint32_t stream_frames(AudioFrontend& frontend, const std::vector<int16_t>& samples,
                       const OnFrame& on_frame) {
  frontend.reset();
  uint32_t at = 0, frames = 0;
  while (at < samples.size()) {
    uint32_t consumed = 0;
    if (frontend.process(samples.data() + at, static_cast<uint32_t>(samples.size() - at),
                         &consumed))
      on_frame(frames++);
    at += consumed;
  }
  return frames;
}

}  // namespace tinyforge::cli
