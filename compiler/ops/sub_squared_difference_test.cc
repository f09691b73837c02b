// Sub and SquaredDifference against their definitions, written here independently of the
// kernel: TFLite's int8 arithmetic (reference sub.h and squared_difference.cc: inputs
// offset, shifted left, rescaled to twice the larger input scale, subtracted (and squared),
// rescaled to the output) with gemmlowp's rounding spelled out on 64-bit magnitudes, and
// the float definitions x - y (fused activation) and (x - y)^2. Random and extreme inputs,
// extreme zero points and scale ratios, broadcasting both ways; the invariant (multipliers
// below one) refused at import and lowering; ONNX Sub imported as Sub.
#include "ops/sub_squared_difference.h"

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

struct Quant {
  float scale;
  int32_t zero_point;
};

// ---- the definition ----------------------------------------------------------------------

// TFLite QuantizeMultiplier: real = q * 2^(shift - 31), q in [2^30, 2^31).
void quantize_multiplier(double real, int32_t* q, int* shift) {
  const double fraction = std::frexp(real, shift);
  int64_t fixed = static_cast<int64_t>(std::round(fraction * 2147483648.0));
  if (fixed == (int64_t{1} << 31)) {
    fixed /= 2;
    ++*shift;
  }
  *q = static_cast<int32_t>(fixed);
}

// gemmlowp SaturatingRoundingDoublingHighMul: a * b / 2^31, nearest; a tie rounds up
// (towards +inf, as its nudge of 2^30 or 1 - 2^30 before a truncating division does).
int32_t doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == a)
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t{a} * b;
  const int64_t magnitude = ab < 0 ? -ab : ab;
  const int64_t half = int64_t{1} << 30;
  return static_cast<int32_t>(ab < 0 ? -((magnitude + half - 1) >> 31) : (magnitude + half) >> 31);
}

// gemmlowp RoundingDivideByPOT: x / 2^e, nearest, ties away from zero.
int32_t divide_by_pot(int32_t x, int e) {
  if (e == 0) return x;
  const int64_t magnitude = x < 0 ? -int64_t{x} : int64_t{x};
  const int64_t r = (magnitude + (int64_t{1} << (e - 1))) >> e;
  return static_cast<int32_t>(x < 0 ? -r : r);
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0).
int32_t rescale(int32_t x, double real) {
  int32_t q;
  int shift;
  quantize_multiplier(real, &q, &shift);
  EXPECT_LE(shift, 0);
  return divide_by_pot(doubling_high_mul(x, q), -shift);
}

int8_t expected_int8(OpCode op, int8_t x, int8_t y, Quant qa, Quant qb, Quant qo, int32_t lo,
                     int32_t hi) {
  const int left_shift = op == OpCode::Sub ? 20 : 7;
  const double twice_max = 2.0 * std::max(qa.scale, qb.scale);
  const int32_t a = rescale((x - qa.zero_point) * (1 << left_shift), qa.scale / twice_max);
  const int32_t b = rescale((y - qb.zero_point) * (1 << left_shift), qb.scale / twice_max);
  int32_t raw;
  if (op == OpCode::Sub) {
    raw = rescale(a - b, twice_max / ((1 << left_shift) * static_cast<double>(qo.scale)));
  } else {
    raw = rescale((a - b) * (a - b),
                  twice_max * twice_max / ((1 << 2 * left_shift) * static_cast<double>(qo.scale)));
  }
  return static_cast<int8_t>(std::min(hi, std::max(lo, raw + qo.zero_point)));
}

// ---- graphs ---------------------------------------------------------------------------------

void quantize(ir::Tensor& t, Quant q) {
  t.type = DType::i8;
  t.quant.scale = {q.scale};
  t.quant.zero_point = {q.zero_point};
}

struct Shapes {
  std::vector<int32_t> a, b, out;
};

ir::Graph graph(OpCode op, const Shapes& s, const Quant* q, ir::Activation act) {
  GraphBuilder b;
  const int x = b.activation("x", s.a);
  const int z = b.activation("z", s.b);
  const int y = b.activation("y", s.out);
  if (q) {
    quantize(b.g.tensors[x], q[0]);
    quantize(b.g.tensors[z], q[1]);
    quantize(b.g.tensors[y], q[2]);
  }
  b.node(op, {x, z}, y);
  if (op == OpCode::Sub) b.g.nodes.back().params = ops::SubOptions{act};
  b.g.inputs = {x, z};
  b.g.outputs = {y};
  b.g.source = "sub_squared_difference";
  b.g.check();
  return b.g;
}

// Index of the element of a tensor of shape `in` (right-aligned, dims of 1 broadcast) that
// output element `o` of shape `out` reads.
size_t source(const std::vector<int32_t>& in, const std::vector<int32_t>& out, size_t o) {
  size_t index = 0, stride = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t d = out.size() - 1 - k;
    const size_t coordinate = o % static_cast<size_t>(out[d]);
    o /= static_cast<size_t>(out[d]);
    if (k < in.size()) {
      const int32_t dim = in[in.size() - 1 - k];
      if (dim != 1) index += coordinate * stride;
      stride *= static_cast<size_t>(dim);
    }
  }
  return index;
}

size_t count(const std::vector<int32_t>& s) {
  size_t n = 1;
  for (int32_t d : s) n *= static_cast<size_t>(d);
  return n;
}

template <typename T>
std::vector<uint8_t> bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

const Shapes kShapes[] = {
    {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},  // same shape
    {{2, 1, 4}, {3, 1}, {2, 3, 4}},     // both broadcast
    {{1}, {2, 2, 1, 3}, {2, 2, 1, 3}},  // scalar first
    {{1, 2, 3, 5}, {5}, {1, 2, 3, 5}},  // row second
};

TEST(SubSquaredDifference, Int8MatchesTheDefinition) {
  std::mt19937 rng(11);
  const Quant quants[][3] = {
      {{0.05f, 3}, {0.05f, 3}, {0.1f, 0}},       // same input scales
      {{0.01f, -128}, {0.5f, 127}, {0.2f, -5}},  // extreme zero points, scale ratio 50
      {{0.003f, 127}, {0.0001f, -128}, {0.004f, 127}},
      {{1.0f, 0}, {0.0078125f, -1}, {0.75f, -128}},
  };
  for (OpCode op : {OpCode::Sub, OpCode::SquaredDifference}) {
    SCOPED_TRACE(op_info(op).name);
    for (const Shapes& s : kShapes) {
      for (const auto& q : quants) {
        for (ir::Activation act : {ir::Activation::none, ir::Activation::relu6}) {
          if (op == OpCode::SquaredDifference && act != ir::Activation::none) continue;
          Quant qo = q[2];
          if (op == OpCode::SquaredDifference) qo.scale *= 40;  // (range)^2-sized
          const Quant qs[3] = {q[0], q[1], qo};
          const ir::Graph g = graph(op, s, qs, act);
          std::vector<int8_t> xa(count(s.a)), xb(count(s.b));
          for (int round = 0; round < 4; ++round) {
            for (int8_t& v : xa) v = static_cast<int8_t>(rng());
            for (int8_t& v : xb) v = static_cast<int8_t>(rng());
            if (round == 0)  // the extremes against each other
              for (size_t i = 0; i < xa.size(); ++i) xa[i] = i % 2 ? 127 : -128;
            if (round == 1)
              for (size_t i = 0; i < xb.size(); ++i) xb[i] = i % 3 ? -128 : 127;
            int32_t lo = -128, hi = 127;
            if (act == ir::Activation::relu6) {
              lo = std::max(-128, qo.zero_point);
              hi = std::min<int32_t>(
                  127, qo.zero_point + static_cast<int32_t>(std::round(6.0 / qo.scale)));
            }
            std::vector<int8_t> want(count(s.out));
            for (size_t o = 0; o < want.size(); ++o)
              want[o] = expected_int8(op, xa[source(s.a, s.out, o)], xb[source(s.b, s.out, o)],
                                      q[0], q[1], qo, lo, hi);
            EXPECT_EQ(testing::run_graph(g, {bytes(xa), bytes(xb)}, 1), bytes(want));
          }
        }
      }
    }
  }
}

TEST(SubSquaredDifference, Int8IsCloseToTheRealResult) {
  // A sanity check of the definition itself: within one output step of the real value.
  const Quant qa{0.02f, -7}, qb{0.03f, 12}, qo{0.05f, 2};
  for (int x = -128; x <= 127; x += 5)
    for (int y = -128; y <= 127; y += 7) {
      const double real = qa.scale * (x - qa.zero_point) - qb.scale * (y - qb.zero_point);
      const int8_t q = expected_int8(OpCode::Sub, static_cast<int8_t>(x), static_cast<int8_t>(y),
                                     qa, qb, qo, -128, 127);
      const double want = std::clamp(std::round(real / qo.scale) + qo.zero_point, -128.0, 127.0);
      EXPECT_NEAR(q, want, 1.0) << x << " " << y;
      const Quant qs{0.5f, -128};
      const int8_t sq = expected_int8(OpCode::SquaredDifference, static_cast<int8_t>(x),
                                      static_cast<int8_t>(y), qa, qb, qs, -128, 127);
      const double sq_want =
          std::clamp(std::round(real * real / qs.scale) + qs.zero_point, -128.0, 127.0);
      EXPECT_NEAR(sq, sq_want, 1.0) << x << " " << y;
    }
}

TEST(SubSquaredDifference, FloatMatchesTheDefinition) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(-100, 100);
  const float inf = std::numeric_limits<float>::infinity();
  for (OpCode op : {OpCode::Sub, OpCode::SquaredDifference}) {
    SCOPED_TRACE(op_info(op).name);
    for (const Shapes& s : kShapes) {
      for (ir::Activation act : {ir::Activation::none, ir::Activation::relu}) {
        const ir::Graph g = graph(op, s, nullptr, act);
        std::vector<float> xa(count(s.a)), xb(count(s.b));
        for (int round = 0; round < 3; ++round) {
          for (float& v : xa) v = u(rng);
          for (float& v : xb) v = u(rng);
          if (round == 0) {
            const float extremes[] = {inf, -inf, 0.0f, -0.0f, 3.4e38f, -3.4e38f, 1e-38f};
            for (size_t i = 0; i < xa.size(); ++i) xa[i] = extremes[i % 7];
            for (size_t i = 0; i < xb.size(); ++i) xb[i] = extremes[(i + 3) % 7];
          }
          std::vector<float> want(count(s.out));
          for (size_t o = 0; o < want.size(); ++o) {
            const float d = xa[source(s.a, s.out, o)] - xb[source(s.b, s.out, o)];
            float v = op == OpCode::Sub ? d : d * d;
            if (op == OpCode::Sub) {
              // TFLite bounds "no limit" by the finite float extremes.
              const float lo = act == ir::Activation::relu ? 0.0f : -3.4028235e38f;
              v = std::min(std::max(v, lo), 3.4028235e38f);
            }
            want[o] = v;
          }
          EXPECT_EQ(testing::run_graph(g, {bytes(xa), bytes(xb)}, 1), bytes(want));
        }
      }
    }
  }
}

TEST(SubSquaredDifference, MultiplierNotBelowOneIsRefusedAtImportAndLowering) {
  // (2 * 0.5)^2 / (2^14 * 1e-5) > 1: TFLite's Prepare would abort.
  const Quant q[3] = {{0.5f, 0}, {0.5f, 0}, {1e-5f, 0}};
  const ir::Graph g = graph(OpCode::SquaredDifference, kShapes[0], q, ir::Activation::none);
  ir::Graph copy = g;
  try {
    plan::lower_node(copy, 0);
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside (0, 1)"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> file = tflite_export::write_tflite(g);
  try {
    import_tflite(file.data(), file.size(), "sqdiff.tflite");
    FAIL() << "expected a refusal";
  } catch (const tinyforge::Error& e) {
    EXPECT_NE(std::string(e.what()).find("output multiplier"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinyforge
