#include "quantize/range_estimator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir/graph.h"

namespace tinyforge::quantize {
namespace {

constexpr int kSearchSteps = 128;  // grid points per end for the mse search
constexpr int kSearchRounds = 3;   // alternations between the two ends

}  // namespace

RangeMethod parse_range_method(const std::string& name) {
  if (name == "minmax") return RangeMethod::minmax;
  if (name == "percentile") return RangeMethod::percentile;
  if (name == "mse") return RangeMethod::mse;
  throw tinyforge::Error(
      fmt::format("unknown calibration method '{}'; expected minmax, percentile or mse", name));
}

const char* range_method_name(RangeMethod m) {
  switch (m) {
    case RangeMethod::minmax:
      return "minmax";
    case RangeMethod::percentile:
      return "percentile";
    case RangeMethod::mse:
      return "mse";
  }
  return "?";
}

void TensorStats::observe_extremes(const float* values, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) continue;  // a NaN/inf activation says nothing about the range
    if (!seen_) {
      min_ = max_ = v;
      seen_ = true;
    }
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
}

void TensorStats::observe_histogram(const float* values, size_t count) {
  if (!seen_ || !(max_ > min_)) return;
  if (histogram_.empty()) histogram_.assign(kBins, 0);
  const double scale = kBins / (static_cast<double>(max_) - min_);
  for (size_t i = 0; i < count; ++i) {
    const float v = values[i];
    if (!std::isfinite(v)) continue;
    const double pos = (static_cast<double>(v) - min_) * scale;
    const size_t bin = pos <= 0 ? 0 : std::min(static_cast<size_t>(pos), kBins - 1);
    ++histogram_[bin];
    ++total_;
  }
}

void TensorStats::observe_means(const float* values, size_t count, size_t period) {
  if (period == 0 || count % period != 0) return;
  if (channel_sums_.empty()) channel_sums_.assign(period, 0.0);
  if (channel_sums_.size() != period) return;
  for (size_t i = 0; i < count; ++i)
    if (std::isfinite(values[i])) channel_sums_[i % period] += values[i];
  channel_count_ += count / period;
}

std::vector<double> TensorStats::means() const {
  std::vector<double> m;
  if (channel_count_ == 0) return m;
  for (double s : channel_sums_) m.push_back(s / static_cast<double>(channel_count_));
  return m;
}

Range TensorStats::choose(RangeMethod method, double percentile) const {
  if (method == RangeMethod::minmax || total_ == 0) return extremes();
  return method == RangeMethod::percentile ? percentile_range(percentile) : mse_range();
}

Range TensorStats::percentile_range(double percentile) const {
  const double tail = std::clamp((100.0 - percentile) / 200.0, 0.0, 0.5);  // per side
  const auto clipped = static_cast<uint64_t>(std::floor(tail * static_cast<double>(total_)));
  // lo: the lower edge of the bin holding the first kept value; hi: the upper edge of the
  // bin holding the last kept value.
  size_t first = 0, last = kBins - 1;
  uint64_t below = 0;
  while (first < kBins - 1 && below + histogram_[first] <= clipped) below += histogram_[first++];
  uint64_t above = 0;
  while (last > first && above + histogram_[last] <= clipped) above += histogram_[last--];
  const double w = bin_width();
  return {static_cast<float>(min_ + static_cast<double>(first) * w),
          static_cast<float>(min_ + static_cast<double>(last + 1) * w)};
}

// Expected squared error per value of int8 quantization with range [lo, hi] (0 included,
// as the quantizer will): clipping outside, scale^2 / 12 rounding error inside.
double TensorStats::expected_error(double lo, double hi) const {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const double scale = (hi - lo) / 255.0;
  const double rounding = scale * scale / 12.0;
  double sum = 0.0;
  for (size_t i = 0; i < kBins; ++i) {
    if (histogram_[i] == 0) continue;
    const double x = bin_center(i);
    const double e = x < lo ? (lo - x) * (lo - x) : x > hi ? (x - hi) * (x - hi) : rounding;
    sum += e * static_cast<double>(histogram_[i]);
  }
  return sum / static_cast<double>(total_);
}

Range TensorStats::mse_range() const {
  double lo = min_, hi = max_;
  double best = expected_error(lo, hi);
  for (int round = 0; round < kSearchRounds; ++round) {
    for (int end = 0; end < 2; ++end) {
      const double extreme = end == 0 ? max_ : min_;
      if ((end == 0 && extreme <= 0) || (end == 1 && extreme >= 0)) continue;
      for (int k = 1; k <= kSearchSteps; ++k) {
        const double candidate = extreme * k / kSearchSteps;
        const double e = end == 0 ? expected_error(lo, candidate) : expected_error(candidate, hi);
        if (e < best) {
          best = e;
          (end == 0 ? hi : lo) = candidate;
        }
      }
    }
  }
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

}  // namespace tinyforge::quantize
