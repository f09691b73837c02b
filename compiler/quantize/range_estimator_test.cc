// Range methods on synthetic distributions whose right answer is known.
#include "quantize/range_estimator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "expect_error.h"
#include "ir/graph.h"

namespace tinyforge::quantize {
namespace {

// 100000 values ~ N(0, 1) plus a single outlier at 50.
std::vector<float> gaussian_with_outlier() {
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> v(100000);
  for (float& x : v) x = n(rng);
  v[500] = 50.0f;
  return v;
}

TensorStats observed(const std::vector<float>& v, RangeMethod m) {
  TensorStats s;
  s.observe_extremes(v.data(), v.size());
  if (needs_histogram(m)) s.observe_histogram(v.data(), v.size());
  return s;
}

TEST(RangeEstimator, MinMaxIsTheObservedExtremes) {
  const std::vector<float> v{-1.5f, 0.25f, 3.0f, NAN, 2.0f};
  const Range r = observed(v, RangeMethod::minmax).choose(RangeMethod::minmax, 99.99);
  EXPECT_FLOAT_EQ(r.min, -1.5f);
  EXPECT_FLOAT_EQ(r.max, 3.0f);  // NaN ignored
}

TEST(RangeEstimator, PercentileClipsARareOutlier) {
  const std::vector<float> v = gaussian_with_outlier();
  const Range r = observed(v, RangeMethod::percentile).choose(RangeMethod::percentile, 99.9);
  // 0.05% per side of N(0,1) is about 3.3 sigma; one bin of 52/2048 is the resolution.
  EXPECT_NEAR(r.max, 3.3f, 0.3f);
  EXPECT_NEAR(r.min, -3.3f, 0.3f);
}

TEST(RangeEstimator, MseClipsTheLongTailOfAHeavyTailedDistribution) {
  // Laplace(0, 1): the 8-bit MSE-optimal clip sits well inside the sample maximum (about
  // ln(200000) = 12; Banner et al., ACIQ, put the symmetric optimum near 9.9).
  std::mt19937 rng(11);
  std::exponential_distribution<float> e(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(200000);
  for (float& x : v) x = sign(rng) ? e(rng) : -e(rng);
  const TensorStats s = observed(v, RangeMethod::mse);
  const Range r = s.choose(RangeMethod::mse, 99.99);
  EXPECT_LT(r.max, 0.95f * s.extremes().max);
  EXPECT_GT(r.max, 5.0f);
  EXPECT_GT(r.min, 0.95f * s.extremes().min);
  EXPECT_LT(r.min, -5.0f);
}

TEST(RangeEstimator, MseKeepsAnOutlierThatCostsMoreToClipThanToRound) {
  // One value at 50 among 100000 ~ N(0,1): clipping it to 5 costs 45^2 / 1e5 = 0.02 per
  // value, more than the rounding error the wider range adds (about 0.004).
  const std::vector<float> v = gaussian_with_outlier();
  const Range r = observed(v, RangeMethod::mse).choose(RangeMethod::mse, 99.99);
  EXPECT_GT(r.max, 40.0f);
}

TEST(RangeEstimator, MseKeepsTheFullRangeOfAUniformDistribution) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  std::vector<float> v(50000);
  for (float& x : v) x = u(rng);
  const Range r = observed(v, RangeMethod::mse).choose(RangeMethod::mse, 99.99);
  EXPECT_GT(r.max, 3.8f);  // clipping a uniform tail costs more than the rounding it saves
}

TEST(RangeEstimator, ChannelMeans) {
  TensorStats s;
  const std::vector<float> v{1, 10, 3, 20};  // two rows of two channels
  s.observe_means(v.data(), v.size(), 2);
  const std::vector<double> m = s.means();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[0], 2.0);
  EXPECT_DOUBLE_EQ(m[1], 15.0);
}

TEST(RangeEstimator, MethodNames) {
  EXPECT_EQ(parse_range_method("mse"), RangeMethod::mse);
  EXPECT_STREQ(range_method_name(RangeMethod::percentile), "percentile");
  EXPECT_ERROR(parse_range_method("kl"), tinyforge::Error, "unknown calibration method 'kl'");
}

}  // namespace
}  // namespace tinyforge::quantize
