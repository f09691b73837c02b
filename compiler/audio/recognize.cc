#include "audio/recognize.h"

#include <algorithm>

#include "ir/error.h"

namespace tinyforge::audio {

Recognizer::Recognizer(RecognizeOptions options) : options_(std::move(options)) {}

std::optional<Detection> Recognizer::update(uint32_t time_ms, const std::vector<float>& scores) {
  if (scores.size() != options_.labels.size())
    throw tinyforge::Error("the model gives " + std::to_string(scores.size()) + " scores for " +
                           std::to_string(options_.labels.size()) + " labels");
  recent_.emplace_back(time_ms, scores);
  while (!recent_.empty() && recent_.front().first + options_.average_ms < time_ms)
    recent_.pop_front();
  if (recent_.size() < options_.min_count) return std::nullopt;
  std::vector<float> average(scores.size(), 0.0f);
  for (const auto& [t, s] : recent_)
    for (size_t c = 0; c < s.size(); ++c) average[c] += s[c] / static_cast<float>(recent_.size());
  const size_t top =
      static_cast<size_t>(std::max_element(average.begin(), average.end()) - average.begin());
  const std::string& label = options_.labels[top];
  if (average[top] <= options_.threshold) return std::nullopt;
  if (label == "silence" || label == "unknown" || label.rfind('_', 0) == 0) return std::nullopt;
  if (last_ && last_->label == label && time_ms < last_->time_ms + options_.suppress_ms)
    return std::nullopt;
  last_ = Detection{time_ms, label, average[top]};
  return last_;
}

}  // namespace tinyforge::audio
