// LeakyRelu against its definition, written here independently of the kernel: TFLite's
// int8 QuantizeLeakyRelu (v = x - zp_in; zp_out + MultiplyByQuantizedMultiplier(v, s_in / s_out
// or s_in * alpha / s_out, both computed in float), clamped) with gemmlowp's rounding spelled
// out on 64-bit magnitudes, and the float x > 0 ? x : alpha * x. Every int8 input, extreme
// zero points, scale ratios above and below one, alphas below zero, in (0, 1) and above one;
// the invariant (finite alpha, multipliers below 2^22) refused at import and lowering. The
// 16x8 form (QuantizeLeakyRelu<int16_t>, zero points 0, multipliers below 2^15) on every
// int16 input.
#include "ops/leaky_relu.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "plan/lower.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

// x * real as TFLite's MultiplyByQuantizedMultiplier(x, QuantizeMultiplier(real)).
int32_t multiply(int32_t x, double real) {
  if (real == 0.0) return 0;
  int exponent;
  const double fraction = std::frexp(real, &exponent);
  int64_t q = static_cast<int64_t>(std::round(fraction * 2147483648.0));
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  if (exponent < -31) return 0;  // QuantizeMultiplier flushes it to zero
  const int left = exponent > 0 ? exponent : 0, right = exponent > 0 ? 0 : -exponent;
  const int64_t a = int64_t{x} * (int64_t{1} << left);
  // Doubling high multiply, nearest, ties towards +inf (gemmlowp's nudge).
  const int64_t ab = a * q;
  const int64_t mag = ab < 0 ? -ab : ab;
  const int64_t high =
      ab < 0 ? -((mag + (int64_t{1} << 30) - 1) >> 31) : (mag + (int64_t{1} << 30)) >> 31;
  if (right == 0) return static_cast<int32_t>(high);
  // Divide by 2^right, nearest, ties away from zero.
  const int64_t hmag = high < 0 ? -high : high;
  const int64_t r = (hmag + (int64_t{1} << (right - 1))) >> right;
  return static_cast<int32_t>(high < 0 ? -r : r);
}

int8_t expected_int8(int8_t x, float s_in, int32_t zp_in, float s_out, int32_t zp_out,
                     float alpha) {
  const int32_t v = x - zp_in;
  const float identity = s_in / s_out;
  const float scaled_alpha = s_in * alpha / s_out;
  const int32_t out = zp_out + multiply(v, v >= 0 ? identity : scaled_alpha);
  return static_cast<int8_t>(std::min(127, std::max(-128, out)));
}

int16_t expected_int16(int16_t x, float s_in, float s_out, float alpha) {
  const float identity = s_in / s_out;
  const float scaled_alpha = s_in * alpha / s_out;
  const int32_t out = multiply(x, x >= 0 ? identity : scaled_alpha);
  return static_cast<int16_t>(std::min(32767, std::max(-32768, out)));
}

ir::Graph graph(float alpha, bool int8, float s_in = 0, int32_t zp_in = 0, float s_out = 0,
                int32_t zp_out = 0, DType type = DType::i8) {
  GraphBuilder b;
  const int x = b.activation("x", {2, 8, 16});
  const int y = b.activation("y", {2, 8, 16});
  if (int8) {
    for (auto [t, s, zp] : {std::tuple{x, s_in, zp_in}, std::tuple{y, s_out, zp_out}}) {
      b.g.tensors[t].type = type;
      b.g.tensors[t].quant.scale = {s};
      b.g.tensors[t].quant.zero_point = {zp};
    }
  }
  b.node(OpCode::LeakyRelu, {x}, y);
  b.g.nodes.back().params = ops::LeakyReluOptions{alpha};
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "leaky_relu";
  b.g.check();
  return b.g;
}

template <typename T>
std::vector<uint8_t> bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(LeakyRelu, Int8MatchesTheDefinitionOnEveryInput) {
  struct Q {
    float s_in;
    int32_t zp_in;
    float s_out;
    int32_t zp_out;
  };
  const Q quants[] = {{0.05f, 0, 0.05f, 0},
                      {0.02f, -128, 0.013f, 127},
                      {0.1f, 127, 0.0031f, -128},
                      {0.003f, 5, 0.7f, -20},
                      {1.0f, -1, 0.01f, 100}};
  for (float alpha : {0.01f, 0.2f, 0.0f, -0.3f, 1.7f, 0.333333f}) {
    for (const Q& q : quants) {
      SCOPED_TRACE(::testing::Message() << "alpha " << alpha << " s_in " << q.s_in);
      const ir::Graph g = graph(alpha, true, q.s_in, q.zp_in, q.s_out, q.zp_out);
      std::vector<int8_t> x(256);
      for (int i = 0; i < 256; ++i) x[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
      std::vector<int8_t> want(x.size());
      for (size_t i = 0; i < x.size(); ++i)
        want[i] = expected_int8(x[i], q.s_in, q.zp_in, q.s_out, q.zp_out, alpha);
      EXPECT_EQ(testing::run_graph(g, {bytes(x)}, 1), bytes(want));
    }
  }
}

TEST(LeakyRelu, Int16MatchesTheDefinitionOnEveryInput) {
  struct Q {
    float s_in, s_out;
  };
  const Q quants[] = {{3.0f / 32768, 3.0f / 32768},
                      {1e-5f, 4.0f / 32768},
                      {8.0f / 32768, 1e-4f},
                      {20.0f, 0.005f},
                      {1.0f / 1024, 1.0f / 2048}};
  std::vector<int16_t> x(65536);
  for (int i = 0; i < 65536; ++i) x[static_cast<size_t>(i)] = static_cast<int16_t>(i - 32768);
  for (float alpha : {0.01f, 0.2f, 0.0f, -0.3f, 1.7f}) {
    for (const Q& q : quants) {
      SCOPED_TRACE(::testing::Message() << "alpha " << alpha << " s_in " << q.s_in);
      GraphBuilder b;
      const int in = b.activation("x", {65536});
      const int out = b.activation("y", {65536});
      for (auto [t, s] : {std::pair{in, q.s_in}, std::pair{out, q.s_out}}) {
        b.g.tensors[t].type = DType::i16;
        b.g.tensors[t].quant.scale = {s};
        b.g.tensors[t].quant.zero_point = {0};
      }
      b.node(OpCode::LeakyRelu, {in}, out);
      b.g.nodes.back().params = ops::LeakyReluOptions{alpha};
      b.g.inputs = {in};
      b.g.outputs = {out};
      b.g.source = "leaky_relu";
      b.g.check();
      std::vector<int16_t> want(x.size());
      for (size_t i = 0; i < x.size(); ++i) want[i] = expected_int16(x[i], q.s_in, q.s_out, alpha);
      EXPECT_EQ(testing::run_graph(b.g, {bytes(x)}, 1), bytes(want));
    }
  }
}

TEST(LeakyRelu, Int16RescaleOf2To15IsRefused) {
  ir::Graph g = graph(0.1f, true, 1.0f, 0, 1.0f / 32768, 0, DType::i16);
  try {
    plan::lower_node(g, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2^15"), std::string::npos) << e.what();
  }
  ir::Graph shifted = graph(0.1f, true, 0.01f, 3, 0.01f, 0, DType::i16);
  try {
    plan::lower_node(shifted, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected 0 (TFLite's 16x8)"), std::string::npos)
        << e.what();
  }
}

TEST(LeakyRelu, Int8DefinitionIsCloseToTheRealResult) {
  const float s_in = 0.02f, s_out = 0.015f, alpha = 0.1f;
  const int32_t zp_in = -10, zp_out = 30;
  for (int x = -128; x <= 127; ++x) {
    const double real = s_in * (x - zp_in);
    const double y = real > 0 ? real : alpha * real;
    const double want = std::clamp(std::round(y / s_out) + zp_out, -128.0, 127.0);
    EXPECT_NEAR(expected_int8(static_cast<int8_t>(x), s_in, zp_in, s_out, zp_out, alpha), want,
                1.0);
  }
}

TEST(LeakyRelu, FloatMatchesTheDefinition) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> u(-50, 50);
  const float inf = std::numeric_limits<float>::infinity();
  for (float alpha : {0.01f, -2.0f, 3.5f}) {
    const ir::Graph g = graph(alpha, false);
    std::vector<float> x(2 * 8 * 16);
    for (float& v : x) v = u(rng);
    const float extremes[] = {inf, -inf, 0.0f, -0.0f, 3.4e38f, -3.4e38f, 1e-45f, -1e-45f};
    for (size_t i = 0; i < 8; ++i) x[i] = extremes[i];
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = x[i] > 0 ? x[i] : x[i] * alpha;
    EXPECT_EQ(testing::run_graph(g, {bytes(x)}, 1), bytes(want));
  }
}

TEST(LeakyRelu, HugeRescaleIsRefusedAtImportAndLowering) {
  const ir::Graph g = graph(0.1f, true, 1000.0f, 0, 1e-5f, 0);
  ir::Graph copy = g;
  try {
    plan::lower_node(copy, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2^22"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> file = tflite_export::write_tflite(g);
  try {
    import_tflite(file.data(), file.size(), "leaky.tflite");
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("2^22"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinyforge
