// int8 and int16 (16x8) DIV bit for bit against TFLite's integer arithmetic, re-derived here
// from its published definition: int8 on every one of the 65,536 (dividend, divisor) pairs of
// int8 values, int16 on random pairs (a tenth of each operand extreme) and every pair of a grid
// of extremes, for several quantizations and fused activations. Each case is a one-op TFLite
// model imported, planned and run on the host, so the compiler's multiplier, shift, offsets
// and clamp are checked with the kernel. The definition followed (int16: TFLite's div.cc runs
// the same DivElementwise<int16_t>, the int16 activation range; zero points 0 in 16x8):
//  - tflite-micro kernels/div.cc (CalculateOpDataDiv): QuantizeMultiplier(s0 / (s1 * s_out),
//    the quotient in float), CalculateActivationRangeQuantized;
//  - tensorflow/lite/kernels/internal/reference/div.h (DivElementwise<T>): a = x - zp0, b = y -
//    zp1, both negated when b < 0; GetReciprocal(b, 31) (kernels/internal/common.h: b shifted
//    by its leading zeros, gemmlowp's one_over_one_plus_x_for_x_in_0_1 on it minus one);
//    headroom = CountLeadingSignBits(a); SaturatingRoundingDoublingHighMul(a << headroom, 1/b);
//    MultiplyByQuantizedMultiplierSmallerThanOneExp by the output multiplier with shift
//    output_shift - reciprocal shift - headroom; + zp_out, clamped;
//  - gemmlowp fixedpoint.h (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
//    RoundingHalfSum, the Newton-Raphson constants 48/17 and -32/17 in Q2.29, three steps).
// Where TFLite is undefined the kernel documents its choice, checked here too: b == 0 clamps
// a / 0 (+-infinity, 0 for 0 / 0), and a total shift beyond 31 rounds to 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
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
using Act = tfl::ActivationFunctionType;

// --- TFLite's and gemmlowp's arithmetic, in int64 ------------------------------------------

int64_t srdhm(int64_t a, int64_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = a * b;
  return (ab + (ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30))) / (int64_t{1} << 31);
}

int64_t floor_shift(int64_t a, int k) {
  const int64_t d = int64_t{1} << k;
  return a >= 0 ? a / d : -((-a + d - 1) / d);
}

int64_t rdbp(int64_t x, int e) {
  const int64_t mask = (int64_t{1} << e) - 1;
  const int64_t rem = x - floor_shift(x, e) * (int64_t{1} << e);
  return floor_shift(x, e) + (rem > (mask >> 1) + (x < 0 ? 1 : 0) ? 1 : 0);
}

int64_t saturate32(int64_t v) { return std::clamp<int64_t>(v, INT32_MIN, INT32_MAX); }

// gemmlowp one_over_one_plus_x_for_x_in_0_1 on a Q0.31 raw value.
int64_t one_over_one_plus_x(int64_t a) {
  const int64_t sum = a + INT32_MAX;  // RoundingHalfSum(a, One)
  const int64_t half_den = (sum + (sum >= 0 ? 1 : -1)) / 2;
  int64_t x = 1515870810 + srdhm(half_den, -1010580540);
  for (int i = 0; i < 3; ++i) {
    const int64_t one_minus = (int64_t{1} << 29) - srdhm(half_den, x);
    x = x + saturate32(srdhm(x, one_minus) * 4);  // Rescale<2> of a Q4.27 product
  }
  return saturate32(x * 2);  // ExactMulByPot<-1> then Rescale<0>
}

int leading_zeros(uint32_t v) {
  int n = 0;
  while (n < 32 && (v & (0x80000000u >> n)) == 0) ++n;
  return n;
}

int leading_sign_bits(int64_t a) {
  return leading_zeros(static_cast<uint32_t>(a < 0 ? ~a : a)) - 1;
}

struct Quant {
  float s0;
  int zp0;
  float s1;
  int zp1;
  float so;
  int zpo;
  Act act;
  bool int16 = false;
};

struct Prepared {
  int64_t m;
  int shift;
  int lo, hi;
};

Prepared prepare(const Quant& q) {
  const auto real = static_cast<double>(q.s0 / (q.s1 * q.so));
  int e = 0;
  const double f = std::frexp(real, &e);
  int64_t m = std::llround(f * 2147483648.0);
  if (m == (int64_t{1} << 31)) {
    m /= 2;
    ++e;
  }
  const auto quantize = [&q](float v) { return q.zpo + static_cast<int>(std::round(v / q.so)); };
  int lo = q.int16 ? -32768 : -128, hi = q.int16 ? 32767 : 127;
  if (q.act == Act::RELU || q.act == Act::RELU6) lo = std::max(lo, quantize(0.0f));
  if (q.act == Act::RELU6) hi = std::min(hi, quantize(6.0f));
  return {m, e, lo, hi};
}

int64_t reference(int x, int y, const Quant& q, const Prepared& p) {
  int64_t a = x - q.zp0, b = y - q.zp1;
  if (b == 0) return a > 0 ? p.hi : a < 0 ? p.lo : std::clamp(q.zpo, p.lo, p.hi);
  if (b < 0) {
    a = -a;
    b = -b;
  }
  const int clz = leading_zeros(static_cast<uint32_t>(b));
  const int recip_shift = 31 - clz;
  const int64_t inverse =
      one_over_one_plus_x((static_cast<int64_t>(b) << clz) - (int64_t{1} << 31));
  const int headroom = leading_sign_bits(a);
  const int64_t unscaled = srdhm(a * (int64_t{1} << headroom), inverse);
  const int total = p.shift - recip_shift - headroom;
  const int64_t scaled = total < -31 ? 0 : rdbp(srdhm(unscaled, p.m), -total);
  return std::clamp<int64_t>(scaled + q.zpo, p.lo, p.hi);
}

// --- models ----------------------------------------------------------------------------------

ModelSpec one_op(const Quant& q, int32_t n = 65536) {
  const tfl::TensorType type = q.int16 ? tfl::TensorType::INT16 : tfl::TensorType::INT8;
  ModelSpec m;
  m.tensors = {{"x", {n}, type, {}, {q.s0}, {q.zp0}},
               {"y", {n}, type, {}, {q.s1}, {q.zp1}},
               {"z", {n}, type, {}, {q.so}, {q.zpo}}};
  OpSpec op{tfl::BuiltinOperator::DIV, {0, 1}, {2}};
  op.activation = q.act;
  m.ops = {op};
  m.inputs = {0, 1};
  m.outputs = {2};
  return m;
}

template <typename T>
std::vector<T> run(const ModelSpec& model, const std::vector<T>& x, const std::vector<T>& y) {
  const std::vector<uint8_t> file = testing::build_tflite(model);
  const plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
  EXPECT_EQ(built.ops.size(), 1u);
  if (built.ops.empty()) return {};
  EXPECT_EQ(built.ops[0].op, OpCode::Div);
  host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
  const std::vector<std::vector<uint8_t>> out =
      runner.run({testing::bytes_of(x), testing::bytes_of(y)}, 1);
  std::vector<T> got(out.at(0).size() / sizeof(T));
  std::memcpy(got.data(), out[0].data(), got.size() * sizeof(T));
  return got;
}

// --- tests -----------------------------------------------------------------------------------

// The re-derived reciprocal is 1 / b: GetReciprocal's result times 2^-shift within 2^-27 of
// it for every divisor an int8 DIV can see (measured: 3.8e-9 at b = 217).
TEST(DivInt8, RederivedReciprocalIsOneOverB) {
  for (int b = 1; b <= 256; ++b) {
    const int clz = leading_zeros(static_cast<uint32_t>(b));
    const double r =
        static_cast<double>(one_over_one_plus_x((int64_t{b} << clz) - (int64_t{1} << 31))) /
        2147483648.0 / std::ldexp(1.0, 31 - clz);
    EXPECT_NEAR(r * b, 1.0, 1.0 / (1 << 27)) << b;
  }
}

TEST(DivInt8, BitExactOnEveryPair) {
  // Scales equal, extreme zero points, a tiny output scale, coarse and fine scales with
  // RELU / RELU6, a quotient multiplier of 256 and one near its 2^23 bound.
  const Quant cases[] = {{0.05f, 0, 0.05f, 0, 0.05f, 0, Act::NONE},
                         {0.02f, -128, 0.1f, 127, 0.25f, -10, Act::NONE},
                         {1e-3f, 5, 20.0f, -7, 1e-5f, 100, Act::RELU},
                         {4.0f, 127, 1e-4f, -128, 20.0f, 0, Act::RELU6},
                         {0.5f, 0, 0.5f, 0, 1.0f / 256, -128, Act::NONE},
                         {1.0f, -3, 1e-3f, 9, 1e-3f, 2, Act::NONE}};
  std::vector<int8_t> x(65536), y(65536);
  for (int i = 0; i < 65536; ++i) {
    x[i] = static_cast<int8_t>(i % 256 - 128);
    y[i] = static_cast<int8_t>(i / 256 - 128);
  }
  for (const Quant& q : cases) {
    SCOPED_TRACE("scales " + std::to_string(q.s0) + " " + std::to_string(q.s1) + " " +
                 std::to_string(q.so));
    const Prepared p = prepare(q);
    const std::vector<int8_t> got = run(one_op(q), x, y);
    ASSERT_EQ(got.size(), x.size());
    int worst = 0;
    for (int i = 0; i < 65536; ++i) {
      ASSERT_EQ(int{got[i]}, reference(x[i], y[i], q, p))
          << "x " << int{x[i]} << " y " << int{y[i]};
      if (y[i] == q.zp1) continue;
      // Anchored to the real quotient, rounded and clamped.
      const double real =
          (x[i] - q.zp0) * static_cast<double>(q.s0) / ((y[i] - q.zp1) * static_cast<double>(q.s1));
      const double want = std::clamp(std::round(real / q.so) + q.zpo, static_cast<double>(p.lo),
                                     static_cast<double>(p.hi));
      worst = std::max(worst, static_cast<int>(std::fabs(got[i] - want)));
    }
    EXPECT_LE(worst, 1);  // measured: the fixed-point quotient is within one step
  }
}

// A quotient multiplier of 2^23 or more (the kernel's total shift would turn left) is refused
// by name at lowering.
TEST(DivInt8, RefusesAMultiplierBeyondTheKernelsShift) {
  const std::vector<uint8_t> file =
      testing::build_tflite(one_op({10.0f, 0, 1e-4f, 0, 1e-3f, 0, Act::NONE}));
  EXPECT_ERROR(plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite")), Error,
               "is 2^23 or more");
}

// int16: random pairs (a tenth of each operand -32768, a tenth 32767) and every pair of a
// grid of extremes and small values (divisor 0 included).
TEST(DivInt16, BitExactOnRandomAndExtremePairs) {
  // Equal scales, a RELU, RELU6 on a multiplier of 5000, a multiplier near the kernel's 2^15
  // bound, one below 1 and one of 256.
  const Quant cases[] = {{0.05f, 0, 0.05f, 0, 0.05f, 0, Act::NONE, true},
                         {1e-3f, 0, 0.5f, 0, 1e-4f, 0, Act::RELU, true},
                         {2.0f, 0, 1e-4f, 0, 4.0f, 0, Act::RELU6, true},
                         {1.0f, 0, 1.0f / 30000, 0, 1.0f, 0, Act::NONE, true},
                         {1e-4f, 0, 10.0f, 0, 1e-2f, 0, Act::NONE, true},
                         {1.0f / 32768, 0, 1.0f / 32768, 0, 1.0f / 256, 0, Act::NONE, true}};
  const int16_t grid[] = {-32768, -32767, -181, -2, -1, 0, 1, 2, 3, 181, 32766, 32767};
  std::vector<int16_t> x = testing::int16x8::values(100000, 1);
  std::vector<int16_t> y = testing::int16x8::values(x.size(), 2);
  for (int16_t a : grid)
    for (int16_t b : grid) {
      x.push_back(a);
      y.push_back(b);
    }
  for (const Quant& q : cases) {
    SCOPED_TRACE("scales " + std::to_string(q.s0) + " " + std::to_string(q.s1) + " " +
                 std::to_string(q.so));
    const Prepared p = prepare(q);
    const std::vector<int16_t> got = run(one_op(q, static_cast<int32_t>(x.size())), x, y);
    ASSERT_EQ(got.size(), x.size());
    int worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(int{got[i]}, reference(x[i], y[i], q, p)) << "x " << x[i] << " y " << y[i];
      if (y[i] == 0) continue;
      const double real = x[i] * static_cast<double>(q.s0) / (y[i] * static_cast<double>(q.s1));
      const double want =
          std::clamp(std::round(real / q.so), static_cast<double>(p.lo), static_cast<double>(p.hi));
      worst = std::max(worst, static_cast<int>(std::fabs(got[i] - want)));
    }
    EXPECT_LE(worst, 1);  // the fixed-point quotient is within one step of the real one
  }
}

// What the int16 arithmetic cannot run is refused by name: a quotient multiplier of 2^15 or
// more (the total shift would turn left), zero points (TFLite's 16x8 has none), and export.
TEST(DivInt16, RefusesWhatTheKernelCannotRun) {
  const std::vector<uint8_t> big =
      testing::build_tflite(one_op({0.3f, 0, 0.7f, 0, 1e-6f, 0, Act::NONE, true}, 4));
  EXPECT_ERROR(plan::build_plan(import_tflite(big.data(), big.size(), "m.tflite")), Error,
               "is 2^15 or more");
  const std::vector<uint8_t> zp =
      testing::build_tflite(one_op({0.1f, 0, 0.1f, 3, 0.1f, 0, Act::NONE, true}, 4));
  EXPECT_ERROR(import_tflite(zp.data(), zp.size(), "m.tflite"), Error,
               "has zero point 3; expected 0 (TFLite's 16x8)");
  const std::vector<uint8_t> ok =
      testing::build_tflite(one_op({0.1f, 0, 0.1f, 0, 0.1f, 0, Act::NONE, true}, 4));
  const ir::Graph g = import_tflite(ok.data(), ok.size(), "m.tflite");
  EXPECT_ERROR(tflite_export::write_tflite(g), Error, "exporting a 16x8");
}

}  // namespace
}  // namespace tinyforge
