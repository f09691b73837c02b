// The 16x8 PRELU (int16 x and output with zero points 0, int8 alpha) end to end: a TFLite
// model from the test builder is imported, planned and run on the host, and every output
// element is compared bit for bit with a reference written here from tflite-micro's
// arithmetic:
// - kernels/prelu_common.cc CalculatePreluParams: QuantizeMultiplier of s_in / s_out and of
//   s_in * s_alpha / s_out (in double); offsets -zp_in, -zp_alpha, +zp_out; PreluPrepare
//   requires an int8 alpha for an int16 output;
// - kernels/internal/reference/prelu.h BroadcastPrelu4DSlow<int16_t, int8_t>: v = x - zp_in;
//   v >= 0 ? MultiplyByQuantizedMultiplier(v, m1, s1) : MultiplyByQuantizedMultiplier(v *
//   (alpha - zp_alpha), m2, s2); + zp_out; clamped to int16;
// - QuantizeMultiplier (quantization_util.cc: frexp, the fraction rounded to Q31) and
//   MultiplyByQuantizedMultiplier (common.h: left shift, gemmlowp's
//   SaturatingRoundingDoublingHighMul, RoundingDivideByPOT), spelled out on int64 here.
// Every int16 x value meets alphas across the int8 range, on broadcasting shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "expect_error.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "int16x8_reference.h"
#include "ir/error.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;

struct Case {
  std::vector<int32_t> x, alpha;
  float s_in, s_alpha, s_out;
  int64_t zp_alpha;
};

std::vector<int32_t> broadcast(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int32_t> out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t ia = i + a.size() - out.size(), ib = i + b.size() - out.size();
    const int32_t da = i + a.size() >= out.size() ? a[ia] : 1;
    const int32_t db = i + b.size() >= out.size() ? b[ib] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}

int32_t count(const std::vector<int32_t>& s) {
  int32_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

// The element of `in` dims (right-aligned, broadcast) that output element `o` reads.
size_t source(const std::vector<int32_t>& in, const std::vector<int32_t>& out, int32_t o) {
  size_t at = 0, stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const int32_t coord = o % out[d];
    o /= out[d];
    const size_t k = d + in.size() - out.size();
    if (d + in.size() < out.size()) continue;
    at += static_cast<size_t>(in[k] == 1 ? 0 : coord) * stride;
    stride *= static_cast<size_t>(in[k]);
  }
  return at;
}

ModelSpec model(const Case& c) {
  ModelSpec m;
  m.tensors = {{"x", c.x, tfl::TensorType::INT16, {}, {c.s_in}, {0}},
               {"alpha", c.alpha, tfl::TensorType::INT8, {}, {c.s_alpha}, {c.zp_alpha}},
               {"y", broadcast(c.x, c.alpha), tfl::TensorType::INT16, {}, {c.s_out}, {0}}};
  m.ops = {OpSpec{B::PRELU, {0, 1}, {2}}};
  m.inputs = {0, 1};
  m.outputs = {2};
  return m;
}

TEST(PreluInt16x8, MatchesTfliteMicroBitForBit) {
  const Case cases[] = {
      {{1, 4, 4, 3}, {3}, 3.0f / 32768, 0.01f, 2.0f / 32768, 0},
      {{2, 5, 7}, {5, 1}, 1e-5f, 0.02f, 1e-5f, -128},
      {{4, 1}, {1, 6}, 8.0f / 32768, 0.5f, 1.0f / 32768, 127},
      {{65536}, {1}, 1.0f / 1024, 0.004f, 1.0f / 2048, 3},
      {{3, 2, 2, 2}, {3, 2, 2, 2}, 20.0f, 0.1f, 40.0f, -60},
  };
  std::mt19937 rng(5);
  for (const Case& c : cases) {
    SCOPED_TRACE("x " + std::to_string(count(c.x)) + " alpha " + std::to_string(count(c.alpha)) +
                 " s_in " + std::to_string(c.s_in));
    std::vector<int16_t> x(static_cast<size_t>(count(c.x)));
    std::vector<int8_t> alpha(static_cast<size_t>(count(c.alpha)));
    std::uniform_int_distribution<int> i16(-32768, 32767), i8(-128, 127);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<int16_t>(x.size() == 65536 ? static_cast<int>(i) - 32768 : i16(rng));
    x[0] = -32768;  // the extremes meet alpha's
    x[x.size() - 1] = 32767;
    for (int8_t& a : alpha) a = static_cast<int8_t>(i8(rng));
    alpha[0] = -128;

    const std::vector<uint8_t> file = testing::build_tflite(model(c));
    const plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
    ASSERT_EQ(built.ops.size(), 1u);
    EXPECT_EQ(built.ops[0].op, OpCode::Prelu);
    host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
    const auto out = runner.run({testing::bytes_of(x), testing::bytes_of(alpha)}, 1);
    std::vector<int16_t> got(out.at(0).size() / 2);
    std::memcpy(got.data(), out[0].data(), got.size() * 2);

    const std::vector<int32_t> shape = broadcast(c.x, c.alpha);
    ASSERT_EQ(got.size(), static_cast<size_t>(count(shape)));
    const double m1 = static_cast<double>(c.s_in) / static_cast<double>(c.s_out);
    const double m2 =
        static_cast<double>(c.s_in) * static_cast<double>(c.s_alpha) / static_cast<double>(c.s_out);
    int negative = 0;
    for (int32_t o = 0; o < count(shape); ++o) {
      const int64_t v = x[source(c.x, shape, o)];
      const int64_t a = alpha[source(c.alpha, shape, o)] - c.zp_alpha;
      const int64_t y =
          v >= 0 ? testing::int16x8::multiply(v, testing::int16x8::quantize_multiplier(m1))
                 : testing::int16x8::multiply(v * a, testing::int16x8::quantize_multiplier(m2));
      negative += v < 0;
      ASSERT_EQ(got[static_cast<size_t>(o)],
                static_cast<int16_t>(std::clamp<int64_t>(y, -32768, 32767)))
          << "output " << o << " x " << v << " alpha " << a;
    }
    EXPECT_GT(negative, 0);
  }
}

TEST(PreluInt16x8, RefusesWhatTfliteMicroDoesNot) {
  Case c{{2, 3}, {3}, 1.0f / 1024, 0.01f, 1.0f / 1024, 0};
  ModelSpec m = model(c);
  m.tensors[0].zero_point = {5};
  std::vector<uint8_t> file = testing::build_tflite(m);
  EXPECT_ERROR(import_tflite(file.data(), file.size(), "m.tflite"), Error,
               "expected 0 (TFLite's 16x8)");
  m = model(c);
  m.tensors[1].type = tfl::TensorType::INT16;  // tflite-micro requires an int8 alpha
  m.tensors[1].zero_point = {0};
  file = testing::build_tflite(m);
  EXPECT_ERROR(import_tflite(file.data(), file.size(), "m.tflite"), Error, "expected int8");
  m = model({{2, 3}, {3}, 1.0f, 0.01f, 1e-5f, 0});  // s_in / s_out = 2^16.6: shift 17
  file = testing::build_tflite(m);
  EXPECT_ERROR(import_tflite(file.data(), file.size(), "m.tflite"), Error, "expected -31..15");
}

}  // namespace
}  // namespace tinyforge
