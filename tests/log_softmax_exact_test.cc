// LOG_SOFTMAX bit for bit against TFLite's int8 arithmetic, re-derived from its published
// definition in log_softmax_reference.h (which names the sources), on random rows of
// lengths 1..300 and on extreme rows, for several input scales; and float32 close to
// log(softmax(x)). Each case is a one-op TFLite model imported, planned (the compiler makes
// the multipliers, shifts and diff_min) and run on the host. LOG_SOFTMAX has no beta
// (tflite-micro's kBeta is 1), so the cases vary the input scale, which is what beta * s_in
// would change.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "expect_error.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "ir/error.h"
#include "log_softmax_reference.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using namespace tflite_log_softmax;
using testing::ModelSpec;
using testing::OpSpec;

// --- models ----------------------------------------------------------------------------------

ModelSpec one_op(int rows, int depth, float s_in, int64_t zp_in, float s_out = 16.0f / 256,
                 int64_t zp_out = 127) {
  ModelSpec m;
  m.tensors = {{"x", {rows, depth}, tfl::TensorType::INT8, {}, {s_in}, {zp_in}},
               {"y", {rows, depth}, tfl::TensorType::INT8, {}, {s_out}, {zp_out}}};
  m.ops = {OpSpec{tfl::BuiltinOperator::LOG_SOFTMAX, {0}, {1}}};
  m.inputs = {0};
  m.outputs = {1};
  return m;
}

ModelSpec one_op_float(std::vector<int32_t> shape) {
  ModelSpec m;
  m.tensors = {{"x", shape}, {"y", shape}};
  m.ops = {OpSpec{tfl::BuiltinOperator::LOG_SOFTMAX, {0}, {1}}};
  m.inputs = {0};
  m.outputs = {1};
  return m;
}

plan::Plan planned(const ModelSpec& model) {
  const std::vector<uint8_t> file = testing::build_tflite(model);
  plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
  EXPECT_EQ(built.ops.size(), 1u);
  if (!built.ops.empty()) EXPECT_EQ(built.ops[0].op, OpCode::LogSoftmax);
  return built;
}

template <class T>
std::vector<T> run(const ModelSpec& model, const std::vector<T>& in) {
  const plan::Plan built = planned(model);
  host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
  const std::vector<std::vector<uint8_t>> out = runner.run({testing::bytes_of(in)}, 1);
  std::vector<T> got(out.at(0).size() / sizeof(T));
  std::memcpy(got.data(), out[0].data(), got.size() * sizeof(T));
  return got;
}

// Rows of `depth`: random ones, then all -128, all 127, all 0, alternating extremes, one
// maximum among minima, one minimum among maxima, and values within 3 of each other.
std::vector<int8_t> rows_of(int depth, int random_rows, std::mt19937& rng) {
  std::uniform_int_distribution<int> any(-128, 127);
  std::vector<int8_t> x;
  for (int r = 0; r < random_rows; ++r)
    for (int c = 0; c < depth; ++c) x.push_back(static_cast<int8_t>(any(rng)));
  for (int8_t v : {-128, 127, 0})
    for (int c = 0; c < depth; ++c) x.push_back(v);
  for (int c = 0; c < depth; ++c) x.push_back(static_cast<int8_t>(c % 2 ? 127 : -128));
  for (int c = 0; c < depth; ++c) x.push_back(static_cast<int8_t>(c == depth / 2 ? 127 : -128));
  for (int c = 0; c < depth; ++c) x.push_back(static_cast<int8_t>(c == depth / 2 ? -128 : 127));
  for (int c = 0; c < depth; ++c) x.push_back(static_cast<int8_t>(40 + c % 4));
  return x;
}

// --- tests -----------------------------------------------------------------------------------

// The re-derived arithmetic reproduces tflite-micro's own int8 test (log_softmax_test.cc,
// QuantizedActivationsOpTestLogSoftmaxInt8 and ExtraTestLogSoftmaxInt8: inputs quantized
// from [-10, 10] and [-1, 1] as its ScaleFromMinMax / ZeroPointFromMinMax do), and so does
// the compiled kernel.
TEST(LogSoftmaxInt8, MatchesTfliteMicrosPublishedOutputs) {
  struct Case {
    float min, max;
    int rows, depth;
    std::vector<float> in;
    std::vector<int8_t> want;
  };
  const Case cases[] = {
      {-10, 10, 2, 4, {0, -6, 2, 4, 3, -2, 10, 1}, {61, -36, 93, 125, 15, -65, 127, -16}},
      {-1, 1, 3, 1, {0, -1, 1}, {127, 127, 127}}};
  for (const Case& k : cases) {
    const float scale = (k.max - k.min) / 255.0f;
    const int zero_point = -128 + static_cast<int>(-k.min / scale + 0.5f);
    std::vector<int8_t> q;
    for (float v : k.in)
      q.push_back(static_cast<int8_t>(
          std::clamp(static_cast<int>(std::round(v / scale)) + zero_point, -128, 127)));
    EXPECT_EQ(log_softmax_int8(q, k.depth, op_data(scale)), k.want);
    EXPECT_EQ(run(one_op(k.rows, k.depth, scale, zero_point), q), k.want);
  }
}

TEST(LogSoftmaxInt8, CompilerParamsAreTflites) {
  for (float s : {1e-7f, 1e-3f, 20.0f / 255, 1.0f / 16, 0.5f, 3.0f, 100.0f}) {
    SCOPED_TRACE("scale " + std::to_string(s));
    const plan::Plan built = planned(one_op(1, 4, s, 0));
    ASSERT_EQ(built.ops.at(0).params.size(), sizeof(LogSoftmaxParams));
    LogSoftmaxParams p{};
    std::memcpy(&p, built.ops[0].params.data(), sizeof p);
    const OpData d = op_data(s);
    EXPECT_EQ(p.input_multiplier, d.input_multiplier);
    EXPECT_EQ(p.input_left_shift, d.input_left_shift);
    EXPECT_EQ(p.reverse_scaling_divisor, d.reverse_scaling_divisor);
    EXPECT_EQ(p.reverse_scaling_left_shift, -d.reverse_scaling_right_shift);
    EXPECT_EQ(p.diff_min, d.diff_min);
  }
}

TEST(LogSoftmaxInt8, BitExactOnRandomAndExtremeRows) {
  struct Case {
    float s_in;
    int64_t zp;
  };
  // Logit-like scales (20/255: [-10, 10]), fine and coarse ones, a tiny scale (every
  // difference rescales to about 0) and scales whose Q5.26 multiplier is capped at 2^31 - 1.
  const Case cases[] = {{20.0f / 255, 0}, {1.0f / 16, -5}, {0.1f, 30}, {1e-3f, 0}, {0.3f, -128},
                        {2.0f, 127},      {1e-7f, 3},      {40.0f, 0}, {0.02f, 7}, {1.0f, -60}};
  std::mt19937 rng(11);
  std::vector<int> depths = {1, 2, 3, 4, 7, 10, 16, 33, 64, 100, 255, 256, 300};
  for (int i = 0; i < 6; ++i) depths.push_back(std::uniform_int_distribution<int>(1, 300)(rng));
  int worst_vs_real = 0;
  size_t compared = 0, lowest = 0;
  for (const Case& k : cases) {
    const OpData d = op_data(k.s_in);
    for (int depth : depths) {
      SCOPED_TRACE("scale " + std::to_string(k.s_in) + " depth " + std::to_string(depth));
      const std::vector<int8_t> x = rows_of(depth, 4, rng);
      const int rows = static_cast<int>(x.size()) / depth;
      const std::vector<int8_t> got = run(one_op(rows, depth, k.s_in, k.zp), x);
      const std::vector<int8_t> want = log_softmax_int8(x, depth, d);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "row " << i / depth << " element " << i % depth;
      compared += got.size();
      // Anchored to the real log softmax, rounded to 1/16 and clamped to the int8 range.
      for (int r = 0; r < rows; ++r) {
        const int8_t* in = x.data() + r * depth;
        const double mx = *std::max_element(in, in + depth);
        double sum = 0;
        for (int c = 0; c < depth; ++c) sum += std::exp((in[c] - mx) * k.s_in);
        for (int c = 0; c < depth; ++c) {
          const double real = (in[c] - mx) * k.s_in - std::log(sum);
          const double code = std::clamp(std::round(real * 16) + 127, -128.0, 127.0);
          const int diff = std::abs(got[r * depth + c] - static_cast<int>(code));
          worst_vs_real = std::max(worst_vs_real, diff);
          lowest += got[r * depth + c] == -128;
        }
      }
    }
  }
  // A wrong multiplier, log or output stage is far off.
  EXPECT_LE(worst_vs_real, 1);
  EXPECT_GT(lowest, 0u);  // the cases reach the -128 cut-off
  std::printf("[ logsoftmax8 ] %zu outputs bit-exact; worst |ours - real| = %d steps of 1/16\n",
              compared, worst_vs_real);
}

// What TFLite's int8 log softmax cannot run is refused by name.
TEST(LogSoftmaxInt8, RefusesWhatTheArithmeticCannotRun) {
  const std::vector<int8_t> in(4, 0);
  EXPECT_ERROR(run(one_op(1, 4, 0.1f, 0, 1.0f / 16, 0), in), Error, "expected 16/256 and 127");
  EXPECT_ERROR(run(one_op(1, 4, 0.1f, 0, 1.0f / 256, 127), in), Error, "expected 16/256 and 127");
  EXPECT_ERROR(run(one_op(1, 4, 1e-9f, 0), in), Error, "too small for TFLite's int8 log softmax");
  ModelSpec int16 = one_op(1, 4, 0.1f, 0, 16.0f / 256, 0);
  for (auto& t : int16.tensors) t.type = tfl::TensorType::INT16;
  const std::vector<int16_t> in16(4, 0);
  EXPECT_ERROR(run(int16, in16), Error, "LOG_SOFTMAX");
}

// float32: log(softmax(x)) within float rounding, finite however far below the maximum.
TEST(LogSoftmaxFloat, IsLogOfSoftmaxAndStaysFinite) {
  const int depth = 7;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> logit(-8.0f, 8.0f);
  std::vector<float> x;
  for (int i = 0; i < 4 * depth; ++i) x.push_back(logit(rng));
  const std::vector<float> wide = {0.0f, -1000.0f, 5.0f, -1e30f, 88.0f, -1e6f, 60.0f};
  x.insert(x.end(), wide.begin(), wide.end());
  const std::vector<float> equal(depth, 42.0f);
  x.insert(x.end(), equal.begin(), equal.end());
  const int rows = static_cast<int>(x.size()) / depth;
  const std::vector<float> got = run(one_op_float({rows, depth}), x);
  ASSERT_EQ(got.size(), x.size());
  for (int r = 0; r < rows; ++r) {
    const float* in = &x[static_cast<size_t>(r * depth)];
    const double mx = *std::max_element(in, in + depth);
    double sum = 0;
    for (int c = 0; c < depth; ++c) sum += std::exp(in[c] - mx);
    for (int c = 0; c < depth; ++c) {
      const double want = (in[c] - mx) - std::log(sum);
      const float value = got[static_cast<size_t>(r * depth + c)];
      EXPECT_TRUE(std::isfinite(value)) << "row " << r << " element " << c;
      EXPECT_NEAR(value, want, 1e-5 * std::max(1.0, std::fabs(want)))
          << "row " << r << " element " << c;
    }
  }
  EXPECT_NEAR(got[static_cast<size_t>(5 * depth)], -std::log(7.0), 1e-6);  // equal row
}

}  // namespace
}  // namespace tinyforge
