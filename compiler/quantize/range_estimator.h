// Activation ranges from calibration data: what each tensor's values look like over the
// calibration set, and the [min, max] clipping range a method picks from that.
//
// Methods:
//   minmax      the observed extremes (TFLite's converter default).
//   percentile  the extremes of the central `percentile` % of the values (e.g. 99.99:
//               the 0.005 % smallest and largest values are clipped), read from a
//               histogram; robust to rare outliers.
//   mse         the range minimizing the expected squared error of int8 quantization
//               (clipping error outside, uniform rounding error scale^2/12 inside), found
//               by a coordinate search over each end on a 128-point grid of the
//               observed range.
// percentile and mse need a histogram, so they take a second pass over the data: pass 1
// observes extremes (observe_extremes), pass 2 fills the histogram (observe_histogram)
// over pass 1's range. Pass 1 also sums values per channel, for bias correction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::quantize {

enum class RangeMethod { minmax, percentile, mse };

// "minmax" | "percentile" | "mse"; throws tinyforge::Error for anything else.
RangeMethod parse_range_method(const std::string& name);
const char* range_method_name(RangeMethod m);
inline bool needs_histogram(RangeMethod m) { return m != RangeMethod::minmax; }

struct Range {
  float min = 0.0f, max = 0.0f;
};

class TensorStats {
 public:
  static constexpr size_t kBins = 2048;

  void observe_extremes(const float* values, size_t count);
  // Precondition: observe_extremes saw every value first (values outside are clamped).
  void observe_histogram(const float* values, size_t count);

  // Per-channel sums for the mean: element i belongs to channel i % period (NHWC: the
  // last dim; a fully-connected input: its row length). `period` must not change.
  void observe_means(const float* values, size_t count, size_t period);
  // Mean per channel over everything observe_means saw; empty if it saw nothing.
  std::vector<double> means() const;

  bool seen() const { return seen_; }
  Range extremes() const { return {min_, max_}; }
  // The range `method` picks; minmax needs no histogram.
  Range choose(RangeMethod method, double percentile) const;

 private:
  double bin_width() const { return (static_cast<double>(max_) - min_) / kBins; }
  double bin_center(size_t i) const { return min_ + (static_cast<double>(i) + 0.5) * bin_width(); }
  Range percentile_range(double percentile) const;
  Range mse_range() const;
  double expected_error(double lo, double hi) const;

  bool seen_ = false;
  float min_ = 0.0f, max_ = 0.0f;
  std::vector<uint64_t> histogram_;
  uint64_t total_ = 0;
  std::vector<double> channel_sums_;
  uint64_t channel_count_ = 0;  // values per channel observed
};

}  // namespace tinyforge::quantize
