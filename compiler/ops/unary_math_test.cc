// UnaryMath against definitions written here apart from the lowering's tables:
// - int8 EXP, LOG, ELU, NEG: TFLite's LUTPopulate (kernels/internal/common.h) spelled out
//   (dequantize in float, the function in float, round(y * (1 / s_out)) + zp_out, clamp;
//   LOG of x <= 0 the lowest output) on every int8 input under many quantizations: exact;
// - int8 SQRT: TFLite's SqrtEvalQuantized, int(sqrt(x) / s_out) + zp_out (truncating): exact;
// - int8 ABS: TFLite's AbsEvalQuantized, |q - zp_in| + zp_out (equal scales, exact) or
//   through QuantizeMultiplier(s_in / s_out) and MultiplyByQuantizedMultiplier on int64
//   (exact);
// - int8 RSQRT (TFLite's fixed-point Newton-Raphson): within one output step of the rounded
//   real 1 / sqrt(x), and 127 at x <= 0;
// - float: every function against <cmath> on random and extreme inputs.
// Refusals: quantizations whose shifts leave int32 are refused at import as unsupported.
#include "ops/unary_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "expect_error.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

struct Quant {
  float scale;
  int32_t zero_point;
};

ir::Graph graph(const ops::UnaryMathAttrs& a, bool int8, Quant in = {}, Quant out = {}) {
  GraphBuilder b;
  const int x = b.activation("x", {2, 128});
  const int y = b.activation("y", {2, 128});
  if (int8)
    for (auto [t, q] : {std::pair{x, in}, std::pair{y, out}}) {
      b.g.tensors[t].type = DType::i8;
      b.g.tensors[t].quant.scale = {q.scale};
      b.g.tensors[t].quant.zero_point = {q.zero_point};
    }
  b.node(OpCode::UnaryMath, {x}, y, a);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "unary_math";
  b.g.check();
  return b.g;
}

// Every int8 input once, run through the op with these quantizations.
std::vector<int8_t> run_every_input(UnaryFunction f, Quant in, Quant out) {
  std::vector<int8_t> every(256);
  for (int i = 0; i < 256; ++i) every[static_cast<size_t>(i)] = static_cast<int8_t>(i - 128);
  const std::vector<uint8_t> got =
      testing::run_graph(graph({f, 1.0f, 1.0f}, true, in, out), {testing::bytes_of(every)}, 1);
  return std::vector<int8_t>(got.begin(), got.end());
}

int8_t clamp8(double v) { return static_cast<int8_t>(std::clamp(v, -128.0, 127.0)); }

// TFLite's LUTPopulate for `f`, one entry.
int8_t lut_entry(int q, Quant in, Quant out, const std::function<float(float)>& f) {
  const float x = in.scale * static_cast<float>(q - in.zero_point);
  const float rescaled = std::round(f(x) * (1.0f / out.scale));
  return clamp8(static_cast<double>(rescaled + static_cast<float>(out.zero_point)));
}

std::vector<Quant> quantizations(uint32_t seed) {
  std::vector<Quant> qs = {{0.05f, 0}, {0.02f, -128}, {0.1f, 127}, {1e-4f, 3}, {20.0f, -7}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(-9.0f, 2.0f);
  for (int i = 0; i < 15; ++i)
    qs.push_back({std::exp2(log_scale(rng)), static_cast<int32_t>(rng() % 256) - 128});
  return qs;
}

TEST(UnaryMath, Int8LookupTablesAreTflitesLutPopulate) {
  const std::vector<Quant> qs = quantizations(1);
  struct Case {
    UnaryFunction f;
    std::function<float(float, Quant)> real;  // (x, output quantization)
  };
  const Case cases[] = {
      {UnaryFunction::exp, [](float x, Quant) { return std::exp(x); }},
      {UnaryFunction::log,
       [](float x, Quant o) {
         return x <= 0 ? static_cast<float>(-128 - o.zero_point) * o.scale : std::log(x);
       }},
      {UnaryFunction::elu, [](float x, Quant) { return x < 0 ? std::exp(x) - 1.0f : x; }},
      {UnaryFunction::neg, [](float x, Quant) { return -x; }},
  };
  for (const Case& c : cases)
    for (size_t i = 0; i < qs.size(); ++i) {
      const Quant in = qs[i], out = qs[(i * 7 + 3) % qs.size()];
      SCOPED_TRACE(::testing::Message()
                   << ops::unary_function_name(c.f) << " in " << in.scale << "/" << in.zero_point
                   << " out " << out.scale << "/" << out.zero_point);
      const std::vector<int8_t> got = run_every_input(c.f, in, out);
      for (int q = -128; q <= 127; ++q)
        ASSERT_EQ(got[static_cast<size_t>(q + 128)],
                  lut_entry(q, in, out, [&](float x) { return c.real(x, out); }))
            << "q " << q;
    }
}

TEST(UnaryMath, Int8SqrtTruncatesAsTflite) {
  const std::vector<Quant> qs = quantizations(2);
  for (size_t i = 0; i < qs.size(); ++i) {
    const Quant in = qs[i], out = qs[(i * 5 + 1) % qs.size()];
    const std::vector<int8_t> got = run_every_input(UnaryFunction::sqrt, in, out);
    for (int q = -128; q <= 127; ++q) {
      const float x = in.scale * static_cast<float>(q - in.zero_point);
      // TFLite stops on x < 0; the table reads it as 0.
      const float quotient = std::sqrt(std::max(x, 0.0f)) / out.scale;
      const double want = std::trunc(std::min(quotient, 1000.0f)) + out.zero_point;
      ASSERT_EQ(got[static_cast<size_t>(q + 128)], clamp8(want)) << "q " << q << " i " << i;
    }
  }
}

// TFLite's QuantizeMultiplier and MultiplyByQuantizedMultiplier, on int64.
int64_t multiply_by_quantized_multiplier(int64_t x, double real) {
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);
  int64_t q = std::llround(fraction * 2147483648.0);
  if (q == (int64_t{1} << 31)) q /= 2, ++exponent;
  const int64_t shifted = x * (int64_t{1} << std::max(exponent, 0));
  const int64_t product = shifted * q;  // SaturatingRoundingDoublingHighMul, no overflow here
  const int64_t high = (product + (product >= 0 ? (1 << 30) : 1 - (1 << 30))) / (int64_t{1} << 31);
  const int right = std::max(-exponent, 0);
  if (right == 0) return high;
  const int64_t mask = (int64_t{1} << right) - 1, remainder = high & mask;
  const int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}

TEST(UnaryMath, Int8AbsIsTflitesIntegerArithmetic) {
  const std::vector<Quant> qs = quantizations(3);
  for (size_t i = 0; i < qs.size(); ++i) {
    const Quant in = qs[i];
    const Quant out = i % 3 == 0 ? Quant{in.scale, qs[i + 1].zero_point} : qs[(i * 3 + 2) % 20];
    const double ratio = static_cast<double>(in.scale / out.scale);
    if (ratio >= 1 << 22) continue;  // refused (below)
    const std::vector<int8_t> got = run_every_input(UnaryFunction::abs, in, out);
    for (int q = -128; q <= 127; ++q) {
      const int64_t v = std::abs(q - in.zero_point);
      const int64_t scaled = in.scale == out.scale ? v : multiply_by_quantized_multiplier(v, ratio);
      ASSERT_EQ(got[static_cast<size_t>(q + 128)],
                clamp8(static_cast<double>(scaled + out.zero_point)))
          << "q " << q << " i " << i;
    }
  }
}

TEST(UnaryMath, Int8RsqrtIsWithinOneStepOfTheFunction) {
  const Quant cases[][2] = {{{0.02f, -128}, {0.03f, -128}},
                            {{1.0f, -128}, {0.004f, -128}},
                            {{0.05f, 0}, {0.1f, -100}},
                            {{1e-3f, -20}, {0.5f, -128}}};
  for (const auto& [in, out] : cases) {
    const std::vector<int8_t> got = run_every_input(UnaryFunction::rsqrt, in, out);
    for (int q = -128; q <= 127; ++q) {
      const double x = static_cast<double>(in.scale) * (q - in.zero_point);
      const int8_t g = got[static_cast<size_t>(q + 128)];
      if (x <= 0) {
        EXPECT_EQ(g, 127) << "q " << q;
        continue;
      }
      const double want = std::round(1 / std::sqrt(x) / out.scale) + out.zero_point;
      EXPECT_LE(std::fabs(g - static_cast<double>(clamp8(want))), 1.0) << "q " << q;
    }
  }
}

TEST(UnaryMath, FloatFunctions) {
  std::vector<float> x = testing::as_floats(testing::random_floats(256, 4, -6, 6));
  x[0] = 0, x[1] = -0.0f, x[2] = 1e30f, x[3] = -1e30f, x[4] = 100, x[5] = -100;
  const float selu_alpha = 1.6732632f, selu_gamma = 1.050701f;
  struct Case {
    ops::UnaryMathAttrs attrs;
    std::function<double(double)> f;
  };
  const Case cases[] = {
      {{UnaryFunction::exp}, [](double v) { return std::exp(v); }},
      {{UnaryFunction::log}, [](double v) { return std::log(v); }},
      {{UnaryFunction::sqrt}, [](double v) { return std::sqrt(v); }},
      {{UnaryFunction::rsqrt}, [](double v) { return 1 / std::sqrt(v); }},
      {{UnaryFunction::abs}, [](double v) { return std::fabs(v); }},
      {{UnaryFunction::neg}, [](double v) { return -v; }},
      {{UnaryFunction::elu, 0.5f, 1.0f}, [](double v) { return v > 0 ? v : 0.5 * std::expm1(v); }},
      {{UnaryFunction::elu, selu_alpha, selu_gamma},
       [&](double v) { return selu_gamma * (v > 0 ? v : selu_alpha * std::expm1(v)); }},
      {{UnaryFunction::reciprocal}, [](double v) { return 1 / v; }},
      {{UnaryFunction::softplus},
       [](double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ops::unary_function_name(c.attrs.function));
    const std::vector<float> got =
        testing::as_floats(testing::run_graph(graph(c.attrs, false), {testing::bytes_of(x)}, 1));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = c.f(x[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got[i])) << x[i];
      } else if (std::isinf(static_cast<float>(want))) {
        EXPECT_EQ(got[i], static_cast<float>(want)) << x[i];
      } else {
        EXPECT_NEAR(got[i], want, 2e-6 * std::max(1.0, std::fabs(want))) << x[i];
      }
    }
  }
}

std::vector<uint8_t> model(tfl::BuiltinOperator op, Quant in, Quant out) {
  using namespace testing;
  ModelSpec m;
  m.tensors = {TensorSpec("x", {1, 4}, tfl::TensorType::INT8, {}, {in.scale}, {in.zero_point}),
               TensorSpec("y", {1, 4}, tfl::TensorType::INT8, {}, {out.scale}, {out.zero_point})};
  m.ops = {OpSpec(op, {0}, {1})};
  m.inputs = {0};
  m.outputs = {1};
  return build_tflite(m);
}

TEST(UnaryMath, TfliteModelsImportAndOutOfRangeShiftsAreUnsupported) {
  const std::vector<uint8_t> ok = model(tfl::BuiltinOperator::RSQRT, {0.02f, -128}, {0.03f, -128});
  const ir::Graph g = import_tflite(ok.data(), ok.size(), "rsqrt.tflite");
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].params.get<ops::UnaryMathAttrs>().function, UnaryFunction::rsqrt);
  // ABS rescaling by 2^24: the shifted |x| leaves int32.
  const std::vector<uint8_t> abs = model(tfl::BuiltinOperator::ABS, {16.0f, 0}, {1e-6f, 0});
  EXPECT_ERROR(import_tflite(abs.data(), abs.size(), "abs.tflite"), tinyforge::Error,
               "expected -31..23");
  // RSQRT whose output multiplier needs a left shift beyond the 20 spare bits.
  const std::vector<uint8_t> rsqrt = model(tfl::BuiltinOperator::RSQRT, {1e-6f, 0}, {1e-6f, 0});
  EXPECT_ERROR(import_tflite(rsqrt.data(), rsqrt.size(), "rsqrt.tflite"), tinyforge::Error,
               "expected -11..20");
}

}  // namespace
}  // namespace tinyforge
