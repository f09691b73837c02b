// HardSwish against its definition, written here apart from the kernel and lowering: TFLite's
// HardSwishPrepare multipliers (float expressions, QuantizeMultiplier via frexp, the int16
// down-scaling) and its reference integer arithmetic spelled out on int32/int64, for every
// int8 input under many scales and zero points; the results are also within two output steps
// of the float function on the dequantized input. Float against x * relu6(x + 3) / 6 on random
// and extreme inputs. A TFLite int8 model built in the test; invariants refused at import.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "expect_error.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

// TFLite QuantizeMultiplier: q in [2^30, 2^31) and exponent with real = q * 2^(exponent - 31).
void quantize_multiplier(double real, int32_t& q, int& exponent) {
  const double fraction = std::frexp(real, &exponent);
  int64_t v = std::llround(fraction * 2147483648.0);
  if (v == (int64_t{1} << 31)) {
    v /= 2;
    ++exponent;
  }
  q = static_cast<int32_t>(v);
}

int32_t to_q15(int32_t q31) {
  return q31 >= INT32_MAX - (1 << 15) ? 32767 : static_cast<int32_t>((int64_t{q31} + 32768) >> 16);
}

// Rounding (nearest, ties away from zero) a * b / 2^15, saturating the one overflow.
int32_t rounding_q15_mul(int32_t a, int32_t b) {
  if (a == -32768 && b == -32768) return 32767;
  const int64_t ab = int64_t{a} * b;
  const int64_t mag = (std::llabs(ab) + (1 << 14)) >> 15;
  return static_cast<int32_t>(ab < 0 ? -mag : mag);
}
int32_t truncating_q15_mul(int32_t a, int32_t b) {
  if (a == -32768 && b == -32768) return 32767;
  return static_cast<int32_t>(int64_t{a} * b / 32768);  // toward zero
}
int32_t saturate16(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, -32768, 32767));
}
int32_t divide_pot(int32_t v, int shift) {  // nearest, ties away from zero
  if (shift == 0) return v;
  const int32_t mag = (std::abs(v) + (1 << (shift - 1))) >> shift;
  return v < 0 ? -mag : mag;
}

int8_t expected_int8(int8_t x, float s_in, int32_t zp_in, float s_out, int32_t zp_out) {
  const float hires = (1.0f / 128.0f) * s_in;
  int32_t out_q, relu_q;
  int out_e, relu_e;
  quantize_multiplier(static_cast<double>(hires / s_out), out_q, out_e);
  quantize_multiplier(static_cast<double>(hires / (3.0f / 32768.0f)), relu_q, relu_e);
  const int32_t m_out = to_q15(out_q), m_relu = to_q15(relu_q);
  const int32_t h = (x - zp_in) * 128;
  const int32_t pre_out = rounding_q15_mul(h, m_out);
  int32_t r = h;
  if (relu_e > 0) r = saturate16(int64_t{r} * (int64_t{1} << (relu_e - 1)));  // no UB for r < 0
  r = rounding_q15_mul(r, m_relu);
  if (relu_e > 0) r = saturate16(int64_t{r} * 2);
  if (relu_e < 0) r = divide_pot(r, -relu_e);
  r = (r + 32768) >> 1;  // [-1, 1] -> [0, 1] in Q15
  const int32_t v = divide_pot(truncating_q15_mul(r, pre_out), -out_e);
  return static_cast<int8_t>(
      std::clamp(static_cast<int16_t>(v + zp_out), int16_t{-128}, int16_t{127}));
}

float hard_swish(float x) { return x * std::min(6.0f, std::max(0.0f, x + 3)) / 6; }

ir::Graph graph(bool int8, float s_in = 0, int32_t zp_in = 0, float s_out = 0, int32_t zp_out = 0) {
  GraphBuilder b;
  const int x = b.activation("x", {2, 128});
  const int y = b.activation("y", {2, 128});
  if (int8)
    for (auto [t, s, zp] : {std::tuple{x, s_in, zp_in}, std::tuple{y, s_out, zp_out}}) {
      b.g.tensors[t].type = DType::i8;
      b.g.tensors[t].quant.scale = {s};
      b.g.tensors[t].quant.zero_point = {zp};
    }
  b.node(OpCode::HardSwish, {x}, y);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "hard_swish";
  b.g.check();
  return b.g;
}

TEST(HardSwish, Int8MatchesTflitesIntegerArithmeticOnEveryInput) {
  std::vector<int8_t> every(256);
  for (int i = 0; i < 256; ++i) every[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> log_scale(-9.0f, 1.0f);
  for (int round = 0; round < 60; ++round) {
    float s_in = std::exp2(log_scale(rng)), s_out = std::exp2(log_scale(rng));
    int32_t zp_in = static_cast<int32_t>(rng() % 256) - 128;
    int32_t zp_out = static_cast<int32_t>(rng() % 256) - 128;
    if (round == 0) s_in = 6.0f / 127, s_out = 6.0f / 127, zp_in = 0, zp_out = -128;
    if (round == 1) s_in = 0.1f, s_out = 0.001f, zp_in = -128, zp_out = -128;  // saturates
    // The output exponent in -15..0: s_in / 128 / s_out in [2^-15, 1).
    s_out = std::clamp(s_out, s_in / 128 * 1.25f, s_in * 200);
    SCOPED_TRACE(::testing::Message() << "s_in " << s_in << " zp_in " << zp_in << " s_out " << s_out
                                      << " zp_out " << zp_out);
    ir::Graph g = graph(true, s_in, zp_in, s_out, zp_out);
    std::vector<uint8_t> got;
    try {
      got = testing::run_graph(g, {testing::bytes_of(every)}, 1);
    } catch (const tinyforge::Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    for (size_t i = 0; i < 256; ++i) {
      const int8_t want = expected_int8(every[i], s_in, zp_in, s_out, zp_out);
      ASSERT_EQ(static_cast<int8_t>(got[i]), want) << "x " << int{every[i]};
      // And close to the real function where the output range holds it.
      const float real = hard_swish(s_in * static_cast<float>(every[i] - zp_in));
      const float q = std::round(real / s_out) + static_cast<float>(zp_out);
      if (q > -128 && q < 127) ASSERT_LE(std::fabs(static_cast<float>(want) - q), 2.0f);
    }
  }
}

TEST(HardSwish, FloatMatchesTheFunction) {
  std::vector<float> x = testing::as_floats(testing::random_floats(256, 3, -8, 8));
  x[0] = -3, x[1] = 3, x[2] = 0, x[3] = -1e30f, x[4] = 1e30f, x[5] = -2.5f;
  const std::vector<float> got =
      testing::as_floats(testing::run_graph(graph(false), {testing::bytes_of(x)}, 1));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(got[i], hard_swish(x[i])) << x[i];
  EXPECT_EQ(got[0], 0.0f);
  EXPECT_EQ(got[1], 3.0f);
  EXPECT_EQ(got[5], -2.5f * 0.5f / 6);
}

std::vector<uint8_t> model(float s_in, float s_out) {
  using namespace testing;
  ModelSpec m;
  m.tensors = {TensorSpec("x", {1, 4}, tfl::TensorType::INT8, {}, {s_in}, {0}),
               TensorSpec("y", {1, 4}, tfl::TensorType::INT8, {}, {s_out}, {-128})};
  m.ops = {OpSpec(tfl::BuiltinOperator::HARD_SWISH, {0}, {1})};
  m.inputs = {0};
  m.outputs = {1};
  return build_tflite(m);
}

TEST(HardSwish, TfliteInt8ModelRunsAndBadScalesAreRefused) {
  const std::vector<uint8_t> file = model(0.05f, 0.02f);
  const ir::Graph g = import_tflite(file.data(), file.size(), "hs.tflite");
  const std::vector<int8_t> x = {-128, -60, 0, 127};  // -6.4, -3, 0, 6.35
  const std::vector<uint8_t> got = testing::run_graph(g, {testing::bytes_of(x)}, 1);
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(static_cast<int8_t>(got[i]), expected_int8(x[i], 0.05f, 0, 0.02f, -128));
  // hard_swish(6.35) = 6.35 -> 6.35 / 0.02 - 128 = 189.5: saturates; the rest are 0 -> -128.
  EXPECT_EQ(static_cast<int8_t>(got[3]), 127);
  EXPECT_EQ(static_cast<int8_t>(got[1]), -128);
  EXPECT_EQ(static_cast<int8_t>(got[2]), -128);
  // Output scale below input scale / 128 / 2^15: the output exponent is positive.
  const std::vector<uint8_t> bad = model(1.0f, 1.0f / 128 / 4);
  EXPECT_ERROR(import_tflite(bad.data(), bad.size(), "hs.tflite"), tinyforge::Error,
               "expected -15..0");
}

}  // namespace
}  // namespace tinyforge
