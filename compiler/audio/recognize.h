// Posterior smoothing for keyword spotting: the model's per-class scores of the last
// `average_ms` are averaged; a keyword is detected when its average is the highest, above
// `threshold`, and it is not the keyword detected less than `suppress_ms` ago. The scheme is
// TFLM micro_speech's RecognizeCommands (its defaults: 1000 ms, 200/255, 1500 ms, 3 results);
// with one inference per 20 ms frame a 500 ms average and a 0.7 threshold also catch the
// shorter second word of "yes no" spoken by espeak-ng (bench/results/audio.md), where 1000 ms
// and 0.78 miss it.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace tinyforge::audio {

struct RecognizeOptions {
  uint32_t average_ms = 500;
  float threshold = 0.7f;  // of a probability
  uint32_t suppress_ms = 1500;
  uint32_t min_count = 3;
  std::vector<std::string> labels;  // one per class; "silence", "unknown" and names that
                                    // start with '_' are never detected
};

struct Detection {
  uint32_t time_ms = 0;
  std::string label;
  float score = 0;  // the averaged probability
};

class Recognizer {
 public:
  explicit Recognizer(RecognizeOptions options);
  // One inference's class probabilities at `time_ms` (non-decreasing). Returns a detection.
  std::optional<Detection> update(uint32_t time_ms, const std::vector<float>& scores);

 private:
  RecognizeOptions options_;
  std::deque<std::pair<uint32_t, std::vector<float>>> recent_;
  std::optional<Detection> last_;
};

}  // namespace tinyforge::audio
