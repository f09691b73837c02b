// 16x8 SOFTMAX (int16 activations, zero points 0, output scale 1/32768) bit for bit against
// TFLite's int16 arithmetic, re-derived here from its published definition, on random rows of
// several depths and on extreme rows, for several input scales and betas. Each case is a
// one-op TFLite model imported, planned (the compiler makes the multiplier, the shift and
// both lookup tables) and run on the host. The definition followed:
//  - tflite-micro kernels/softmax_common.cc (CalculateSoftmaxParams, InitializeLutForInt16):
//    zero points 0, output scale within 0.1 % of 1/32768; QuantizeMultiplier(s_in * beta /
//    (10 / 65535)); the exp table LUTPopulate<int16_t>(10 / 65535, 32767, 2 / 65535, 0, exp)
//    and the 1 / (1 + x) table LUTPopulate<int16_t>(1 / 65535, -32768, 2 / 65535, 0, ...);
//  - tensorflow/lite/kernels/internal/common.h (LUTPopulateInt16 in float: 512 samples and
//    the end point, each lowered by half its interpolation error at the midpoint, rounded
//    half away from zero; lut_lookup_with_interpolation: entry 256 + (v >> 7), slope on the
//    low 7 bits, (slope * offset + 64) >> 7);
//  - tensorflow/lite/kernels/internal/reference/softmax.h (SoftmaxInt16, SoftMaxCalculateExp):
//    MultiplyByQuantizedMultiplier(x - max, m, shift) + 32767 saturated to int16, looked up in
//    the exp table; the sum normalized by CountLeadingZeros, (sum << (clz - 1) + 2^13) >> 14,
//    minus 2^15 + 2^16, saturated, looked up in the 1 / (1 + x) table; (exp * r + 2^(30 -
//    clz)) >> (31 - clz) clamped to [0, 32767].
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "expect_error.h"
#include "export/tflite_writer.h"
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
using testing::int16x8::lookup;
using testing::int16x8::lut;

// --- TFLite's arithmetic ---------------------------------------------------------------------

struct Multiplier {
  int64_t m;
  int shift;
};

Multiplier quantize(double real) {
  int e = 0;
  const double f = std::frexp(real, &e);
  int64_t q = std::llround(f * 2147483648.0);
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++e;
  }
  return {q, e};
}

// MultiplyByQuantizedMultiplier (double rounding): high mul rounded half away from zero, then
// a right shift rounded half away from zero.
int64_t mbqm(int64_t x, const Multiplier& q) {
  const int64_t xs = x * (int64_t{1} << std::max(q.shift, 0));
  const int64_t ab = xs * q.m;
  const int64_t d = int64_t{1} << 31;
  const int64_t high = ab >= 0 ? (ab + (d >> 1)) / d : -((-ab + (d >> 1)) / d);
  const int right = std::max(-q.shift, 0);
  if (right == 0) return high;
  const int64_t r = int64_t{1} << right;
  return high >= 0 ? (high + r / 2) / r : -((-high + r / 2) / r);
}

std::vector<int16_t> reference(const std::vector<int16_t>& x, int depth, float s_in, float beta) {
  const Multiplier q = quantize(static_cast<double>(s_in) * beta / (10.0 / 65535.0));
  constexpr float kOut = 2.0f / 65535.0f;
  const auto exp_t = lut([](float v) { return std::exp(v); }, 10.0f / 65535, 32767, kOut);
  const auto rec_t = lut([](float v) { return 1.0f / (1.0f + v); }, 1.0f / 65535, -32768, kOut);
  std::vector<int16_t> y(x.size());
  for (size_t r = 0; r < x.size() / depth; ++r) {
    const int16_t* in = x.data() + r * depth;
    const int64_t mx = *std::max_element(in, in + depth);
    std::vector<int64_t> e(depth);
    int64_t sum = 0;
    for (int c = 0; c < depth; ++c) {
      e[c] = lookup(std::clamp<int64_t>(mbqm(in[c] - mx, q) + 32767, -32768, 32767), exp_t);
      sum += e[c];
    }
    int clz = 0;
    while (((sum << clz) & 0x80000000) == 0) ++clz;
    const int64_t shifted = ((sum << (clz - 1)) + (1 << 13)) >> 14;
    const int64_t rec =
        lookup(std::clamp<int64_t>(shifted - (1 << 15) - (1 << 16), -32768, 32767), rec_t);
    for (int c = 0; c < depth; ++c) {
      const int64_t v = (e[c] * rec + (int64_t{1} << (30 - clz))) >> (31 - clz);
      y[r * depth + c] = static_cast<int16_t>(std::clamp<int64_t>(v, 0, 32767));
    }
  }
  return y;
}

// --- models ----------------------------------------------------------------------------------

ModelSpec one_op(int rows, int depth, float s_in, float beta, float s_out = 1.0f / 32768) {
  ModelSpec m;
  m.tensors = {{"x", {rows, depth}, tfl::TensorType::INT16, {}, {s_in}, {0}},
               {"y", {rows, depth}, tfl::TensorType::INT16, {}, {s_out}, {0}}};
  OpSpec op{tfl::BuiltinOperator::SOFTMAX, {0}, {1}};
  op.beta = beta;
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {1};
  return m;
}

std::vector<int16_t> run(const ModelSpec& model, const std::vector<int16_t>& in) {
  const std::vector<uint8_t> file = testing::build_tflite(model);
  const plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
  EXPECT_EQ(built.ops.size(), 1u);
  if (built.ops.empty()) return {};
  EXPECT_EQ(built.ops[0].op, OpCode::Softmax);
  host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
  const std::vector<std::vector<uint8_t>> out = runner.run({testing::bytes_of(in)}, 1);
  std::vector<int16_t> got(out.at(0).size() / 2);
  std::memcpy(got.data(), out[0].data(), got.size() * 2);
  return got;
}

// Rows of `depth`: random ones, then all -32768, all 32767, alternating extremes, one
// maximum among minima, and values within 3 of each other.
std::vector<int16_t> rows_of(int depth, int random_rows, std::mt19937& rng) {
  std::uniform_int_distribution<int> any(-32768, 32767);
  std::vector<int16_t> x;
  for (int r = 0; r < random_rows; ++r)
    for (int c = 0; c < depth; ++c) x.push_back(static_cast<int16_t>(any(rng)));
  for (int c = 0; c < depth; ++c) x.push_back(-32768);
  for (int c = 0; c < depth; ++c) x.push_back(32767);
  for (int c = 0; c < depth; ++c) x.push_back(c % 2 ? 32767 : -32768);
  for (int c = 0; c < depth; ++c) x.push_back(c == depth / 2 ? 32767 : -32768);
  for (int c = 0; c < depth; ++c) x.push_back(static_cast<int16_t>(100 + c % 4));
  return x;
}

// --- tests -----------------------------------------------------------------------------------

// The rebuilt tables follow their functions: exp(x) and 1 / (1 + x) at the 513 sample points
// in units of 2 / 65535, within one step (the midpoint correction moves a sample by at most
// one).
TEST(SoftmaxInt16, RebuiltTablesFollowTheirFunctions) {
  constexpr float kOut = 2.0f / 65535.0f;
  const auto exp_t = lut([](float v) { return std::exp(v); }, 10.0f / 65535, 32767, kOut);
  const auto rec_t = lut([](float v) { return 1.0f / (1.0f + v); }, 1.0f / 65535, -32768, kOut);
  for (int i = 0; i <= 512; ++i) {
    const double x = -10.0 + 10.0 * i / 512;
    EXPECT_NEAR(static_cast<double>(exp_t[i]), std::exp(x) * 32768.0, 1.5) << i;
    EXPECT_NEAR(static_cast<double>(rec_t[i]), 32768.0 / (1.0 + i / 512.0), 1.5) << i;
  }
  EXPECT_EQ(exp_t[512], 32767);  // exp(0) saturates
  EXPECT_EQ(rec_t[0], 32767);
  EXPECT_EQ(rec_t[512], 16384);
}

TEST(SoftmaxInt16, BitExactOnRandomAndExtremeRows) {
  struct Case {
    float s_in, beta;
  };
  // Logit-like scales (10/32768: [-10, 10]), fine and coarse ones, betas around 1, a tiny
  // scale (every exp near 1) and the largest shift the kernel takes (15).
  const Case cases[] = {{10.0f / 32768, 1.0f}, {1.0f / 32768, 1.0f}, {1e-3f, 1.0f}, {0.05f, 0.5f},
                        {3.0f / 32768, 2.0f},  {1e-7f, 1.0f},        {4.0f, 1.0f},  {0.3f, 1.0f}};
  const int depths[] = {1, 2, 5, 10, 33, 1000};
  std::mt19937 rng(7);
  int worst_vs_real = 0;
  for (const Case& k : cases) {
    for (int depth : depths) {
      SCOPED_TRACE("scale " + std::to_string(k.s_in) + " beta " + std::to_string(k.beta) +
                   " depth " + std::to_string(depth));
      const std::vector<int16_t> x = rows_of(depth, 4, rng);
      const int rows = static_cast<int>(x.size()) / depth;
      const std::vector<int16_t> got = run(one_op(rows, depth, k.s_in, k.beta), x);
      const std::vector<int16_t> want = reference(x, depth, k.s_in, k.beta);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "row " << i / depth << " element " << i % depth;
      // Anchored to the real softmax for rows TFLite's [-10, 0] exp range covers.
      if (k.s_in * k.beta * 65535 > 10.0f) continue;
      for (int r = 0; r < rows; ++r) {
        const int16_t* in = x.data() + r * depth;
        const double mx = *std::max_element(in, in + depth);
        double sum = 0;
        for (int c = 0; c < depth; ++c) sum += std::exp((in[c] - mx) * k.s_in * k.beta);
        for (int c = 0; c < depth; ++c) {
          const double real = std::exp((in[c] - mx) * k.s_in * k.beta) / sum;
          const double diff = std::fabs(got[r * depth + c] - std::min(real * 32768, 32767.0));
          worst_vs_real = std::max(worst_vs_real, static_cast<int>(std::ceil(diff)));
        }
      }
    }
  }
  // Measured: 2 steps of 2^-15 from the real softmax (two interpolated tables and a 14-bit
  // reciprocal); a wrong multiplier or table is far off.
  EXPECT_LE(worst_vs_real, 3);
  std::printf("[ softmax16 ] worst |ours - real softmax| = %d steps of 2^-15\n", worst_vs_real);
}

// What TFLite's 16x8 softmax cannot run is refused by name: a zero point, another output
// scale, and a beta * input scale whose rescaled differences overflow int32.
TEST(SoftmaxInt16, RefusesWhatTheArithmeticCannotRun) {
  const std::vector<int16_t> in(4, 0);
  ModelSpec zp = one_op(1, 4, 1e-3f, 1.0f);
  zp.tensors[0].zero_point = {5};
  EXPECT_ERROR(run(zp, in), Error, "zero point");
  EXPECT_ERROR(run(one_op(1, 4, 1e-3f, 1.0f, 1.0f / 65536), in), Error, "expected 1/32768");
  EXPECT_ERROR(run(one_op(1, 4, 8.0f, 1.0f), in), Error, "too large for TFLite's int16 softmax");
  // Export of a 16x8 node is refused by name, not written with int8 op versions.
  const std::vector<uint8_t> file = testing::build_tflite(one_op(1, 4, 1e-3f, 1.0f));
  const ir::Graph g = import_tflite(file.data(), file.size(), "m.tflite");
  EXPECT_ERROR(tflite_export::write_tflite(g), Error, "exporting a 16x8");
}

}  // namespace
}  // namespace tinyforge
