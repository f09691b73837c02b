// The 16x8 MUL, ADD, SUB and RELU family (int16 activations, zero points 0) end to end: a
// TFLite model from the test builder is imported, planned and run on the host, and every
// output element is compared bit for bit with a reference written here from TFLite's
// published arithmetic:
// - MUL (kernels/mul.cc Prepare, reference_integer_ops::MulElementwise on int16):
//   QuantizeMultiplier(s1 * s2 / s_out), x * y rescaled by MultiplyByQuantizedMultiplier,
//   clamped to CalculateActivationRangeQuantized's bounds;
// - ADD and SUB (TFLite Micro's add_common.cc / TFLite's sub.cc PrepareGeneralSubOp for
//   int16, reference_ops::AddElementwise / SubElementwise<int16_t>): left_shift 15,
//   twice_max = 2 * max(s1, s2); each input x * 2^15 rescaled by s_in / twice_max, the two
//   added or subtracted, rescaled by twice_max / (2^15 * s_out), clamped; every multiplier
//   QuantizeMultiplier'd (below one: MultiplyByQuantizedMultiplierSmallerThanOneExp);
// - SQUARED_DIFFERENCE (TFLite Micro's micro/kernels/squared_difference.cc for int16):
//   left_shift 0, the same input rescaling, the difference squared, rescaled by
//   twice_max^2 / s_out, clamped to int16;
// - RELU, RELU6, RELU_N1_TO_1 (kernels/activations.cc ReluPrepare, QuantizedReluX,
//   reference_ops::ReluX): QuantizeMultiplier(s_in / s_out), MultiplyByQuantizedMultiplier of
//   each value, clamped to the bounds round(lo / s_out), round(hi / s_out) within int16;
// - the fixed-point primitives and QuantizeMultiplier of tests/int16x8_reference.h.
// MUL, ADD and SUB run random broadcasting shapes, activations and scales (the converter's
// 1/32768 * k ones and extremes); the RELUs every one of the 65,536 int16 inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "expect_error.h"
#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "int16x8_reference.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;
using namespace testing::int16x8;

// --- MUL ----------------------------------------------------------------------

struct Binary {
  std::vector<int32_t> a, b, out;
  float sa, sb, so;
  Act act;
};

// A scale: the converter's k / 32768 (k in 1..64), or an extreme.
float random_scale(std::mt19937& rng) {
  switch (pick(rng, 0, 4)) {
    case 0:
      return 1e-6f * static_cast<float>(pick(rng, 1, 50));
    case 1:
      return static_cast<float>(pick(rng, 1, 400)) / 10.0f;
    default:
      return static_cast<float>(pick(rng, 1, 64)) / 32768.0f;
  }
}

Binary random_binary(uint32_t seed, B builtin) {
  std::mt19937 rng(seed);
  Binary l{{}, {}, {}, random_scale(rng), random_scale(rng), 0.0f, Act::NONE};
  const int rank = pick(rng, 1, 4);
  std::vector<int32_t> full;
  for (int d = 0; d < rank; ++d) full.push_back(pick(rng, 1, 5));
  // Each input: trailing dims of `full`, some of them 1 (broadcast); the output is theirs.
  for (std::vector<int32_t>* s : {&l.a, &l.b}) {
    const int keep = pick(rng, 1, rank);
    for (int d = rank - keep; d < rank; ++d)
      s->push_back(pick(rng, 0, 2) == 0 ? 1 : full[static_cast<size_t>(d)]);
  }
  const size_t out_rank = std::max(l.a.size(), l.b.size());
  for (size_t d = 0; d < out_rank; ++d) {
    auto dim = [&](const std::vector<int32_t>& s) {
      const size_t lead = out_rank - s.size();
      return d < lead ? 1 : s[d - lead];
    };
    l.out.push_back(std::max(dim(l.a), dim(l.b)));
  }
  // MUL: s_out from s1 * s2 * 2^15 / 400 to s1 * s2 * 2^15 * 400 (products span 2^30):
  // the multiplier from about 2^-24 to 2^-6, outputs from a few steps to saturated.
  // ADD, SUB: s_out from max(s1, s2) / 150 to max(s1, s2) * 150 (the output multiplier
  // stays below one, as TFLite requires, down to max(s1, s2) / 16384).
  // SQUARED_DIFFERENCE: s_out from 4 max^2 * 2^15 / 400 to 4 max^2 * 2^15 * 400 (squared
  // differences span 2^30), as MUL's.
  const double max_scale = std::max(l.sa, l.sb);
  const double mid = builtin == B::MUL                  ? static_cast<double>(l.sa) * l.sb * 32768.0
                     : builtin == B::SQUARED_DIFFERENCE ? 4.0 * max_scale * max_scale * 32768.0
                                                        : max_scale;
  const double spread = builtin == B::MUL || builtin == B::SQUARED_DIFFERENCE ? 6.0 : 5.0;
  l.so = static_cast<float>(mid *
                            std::exp(std::uniform_real_distribution<double>(-spread, spread)(rng)));
  const Act acts[] = {Act::NONE, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1};
  l.act = builtin == B::SQUARED_DIFFERENCE ? Act::NONE : acts[pick(rng, 0, 3)];
  return l;
}

ModelSpec model_of(const Binary& l, B builtin) {
  OpSpec op{builtin, {0, 1}, {2}};
  op.activation = l.act;
  ModelSpec m;
  m.tensors = {int16_tensor("a", l.a, l.sa), int16_tensor("b", l.b, l.sb),
               int16_tensor("y", l.out, l.so)};
  m.ops = {op};
  m.inputs = {0, 1};
  m.outputs = {2};
  return m;
}

// The element of an input of `shape` that output element `i` reads (numpy broadcasting).
size_t source(std::vector<int32_t> shape, const std::vector<int32_t>& out, size_t i) {
  while (shape.size() < out.size()) shape.insert(shape.begin(), 1);
  size_t at = 0, stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    const size_t coordinate = i % static_cast<size_t>(out[d]);
    i /= static_cast<size_t>(out[d]);
    if (shape[d] != 1) at += coordinate * stride;
    stride *= static_cast<size_t>(shape[d]);
  }
  return at;
}

std::vector<int16_t> mul_reference(const Binary& l, const std::vector<int16_t>& a,
                                   const std::vector<int16_t>& b) {
  const Range r = activation_range(l.act, l.so);
  const Multiplier mul = quantize_multiplier(static_cast<double>(l.sa) * l.sb / l.so);
  std::vector<int16_t> y(static_cast<size_t>(count(l.out)));
  for (size_t i = 0; i < y.size(); ++i) {
    const int32_t product = a[source(l.a, l.out, i)] * b[source(l.b, l.out, i)];
    y[i] = static_cast<int16_t>(std::clamp(multiply(product, mul), r.lo, r.hi));
  }
  return y;
}

// ADD (subtract: SUB) as TFLite's general-scale int16 path computes it.
std::vector<int16_t> add_sub_reference(const Binary& l, const std::vector<int16_t>& a,
                                       const std::vector<int16_t>& b, bool subtract) {
  const Range r = activation_range(l.act, l.so);
  const int left_shift = 15;
  const double twice_max = 2.0 * static_cast<double>(std::max(l.sa, l.sb));
  const Multiplier m1 = quantize_multiplier(static_cast<double>(l.sa) / twice_max);
  const Multiplier m2 = quantize_multiplier(static_cast<double>(l.sb) / twice_max);
  const Multiplier mo =
      quantize_multiplier(twice_max / ((1 << left_shift) * static_cast<double>(l.so)));
  std::vector<int16_t> y(static_cast<size_t>(count(l.out)));
  for (size_t i = 0; i < y.size(); ++i) {
    const int32_t x1 = multiply(a[source(l.a, l.out, i)] * (1 << left_shift), m1);
    const int32_t x2 = multiply(b[source(l.b, l.out, i)] * (1 << left_shift), m2);
    const int32_t raw = multiply(subtract ? x1 - x2 : x1 + x2, mo);
    y[i] = static_cast<int16_t>(std::clamp(raw, r.lo, r.hi));
  }
  return y;
}

std::vector<int16_t> squared_difference_reference(const Binary& l, const std::vector<int16_t>& a,
                                                  const std::vector<int16_t>& b) {
  const double twice_max = 2.0 * static_cast<double>(std::max(l.sa, l.sb));
  const Multiplier m1 = quantize_multiplier(static_cast<double>(l.sa) / twice_max);
  const Multiplier m2 = quantize_multiplier(static_cast<double>(l.sb) / twice_max);
  const Multiplier mo = quantize_multiplier(twice_max * twice_max / static_cast<double>(l.so));
  std::vector<int16_t> y(static_cast<size_t>(count(l.out)));
  for (size_t i = 0; i < y.size(); ++i) {
    const int32_t d =
        multiply(a[source(l.a, l.out, i)], m1) - multiply(b[source(l.b, l.out, i)], m2);
    y[i] = static_cast<int16_t>(std::clamp(multiply(d * d, mo), -32768, 32767));
  }
  return y;
}

void check_binary(B builtin, OpCode op, uint32_t first_seed) {
  for (uint32_t seed = first_seed; seed < first_seed + 60; ++seed) {
    const Binary l = random_binary(seed, builtin);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<int16_t> a = values(static_cast<size_t>(count(l.a)), seed * 2);
    const std::vector<int16_t> b = values(static_cast<size_t>(count(l.b)), seed * 2 + 1);
    const std::vector<int16_t> got = run(model_of(l, builtin), {a, b}, op);
    const std::vector<int16_t> want = builtin == B::MUL ? mul_reference(l, a, b)
                                      : builtin == B::SQUARED_DIFFERENCE
                                          ? squared_difference_reference(l, a, b)
                                          : add_sub_reference(l, a, b, op == OpCode::Sub);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
  }
}

TEST(Int16x8Elementwise, MulMatchesTfliteBitForBit) { check_binary(B::MUL, OpCode::Mul, 1); }
TEST(Int16x8Elementwise, AddMatchesTfliteBitForBit) { check_binary(B::ADD, OpCode::Add, 101); }
TEST(Int16x8Elementwise, SubMatchesTfliteBitForBit) { check_binary(B::SUB, OpCode::Sub, 201); }
TEST(Int16x8Elementwise, SquaredDifferenceMatchesTfliteMicroBitForBit) {
  check_binary(B::SQUARED_DIFFERENCE, OpCode::SquaredDifference, 301);
}

// An output scale below twice_max^2: the output multiplier above one (TFLM's
// QuantizeMultiplier allows it), small differences scaled up and clamped.
TEST(Int16x8Elementwise, SquaredDifferenceWithAnOutputMultiplierAboveOne) {
  const float s = 1.0f / 32768;
  Binary l{{6}, {6}, {6}, s, s, s * s, Act::NONE};  // multiplier 4 * s^2 / s^2 = 4
  // (Squares times 8 stay inside int32: TFLite's left shift of a larger one overflows.)
  const std::vector<int16_t> a{0, 10, -10, 100, 300, 1000}, b{0, 0, 5, -100, 0, -1000};
  const std::vector<int16_t> got =
      run(model_of(l, B::SQUARED_DIFFERENCE), {a, b}, OpCode::SquaredDifference);
  EXPECT_EQ(got, squared_difference_reference(l, a, b));
  EXPECT_EQ(got[5], 32767);  // saturated
}

// Every int16 value against a random partner, at scales whose ratios are no simple
// fractions (with 3, 5 and 7 steps the exact results keep 1/14 away from a rounding tie): the
// precision of each rescale (a left shift of 15, not 14) shows on some of the 65,536
// elements.
TEST(Int16x8Elementwise, AddAndSubOnEveryInt16Input) {
  std::vector<int16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<int16_t>(static_cast<int>(i) - 32768);
  const std::vector<int16_t> partner = values(all.size(), 7);
  for (B builtin : {B::ADD, B::SUB}) {
    SCOPED_TRACE(tfl::EnumNameBuiltinOperator(builtin));
    const Binary l{{65536}, {65536}, {65536}, 1.234567e-4f, 2.345678e-4f, 3.456789e-4f, Act::NONE};
    const OpCode op = builtin == B::ADD ? OpCode::Add : OpCode::Sub;
    const std::vector<int16_t> got = run(model_of(l, builtin), {all, partner}, op);
    const std::vector<int16_t> want = add_sub_reference(l, all, partner, op == OpCode::Sub);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << all[i] << " and " << partner[i];
  }
}

// Equal extreme inputs at equal scales: the largest sums and differences of the int32
// accumulator (2 * 32768 * 2^15 / 2 = 2^30), each saturating the output.
TEST(Int16x8Elementwise, AddAndSubSaturateAtTheInt16Extremes) {
  const float s = 1.0f / 32768;
  Binary l{{4}, {4}, {4}, s, s, s, Act::NONE};
  const std::vector<int16_t> a{-32768, 32767, -32768, 32767}, b{-32768, 32767, 32767, -32768};
  const std::vector<int16_t> sum = run(model_of(l, B::ADD), {a, b}, OpCode::Add);
  EXPECT_EQ(sum, (std::vector<int16_t>{-32768, 32767, -1, -1}));
  EXPECT_EQ(sum, add_sub_reference(l, a, b, false));
  const std::vector<int16_t> difference = run(model_of(l, B::SUB), {a, b}, OpCode::Sub);
  EXPECT_EQ(difference, (std::vector<int16_t>{0, 0, -32768, 32767}));
  EXPECT_EQ(difference, add_sub_reference(l, a, b, true));
}

// Export to TFLite of a 16x8 node is refused by name (not written as an int8 operator).
TEST(Int16x8Elementwise, ExportOfA16x8BinaryNodeIsRefusedByName) {
  for (B builtin : {B::ADD, B::SUB, B::SQUARED_DIFFERENCE}) {
    SCOPED_TRACE(tfl::EnumNameBuiltinOperator(builtin));
    const Binary l{{3}, {3}, {3}, 1e-3f, 1e-3f, 2e-3f, Act::NONE};
    const std::vector<uint8_t> file = testing::build_tflite(model_of(l, builtin));
    const ir::Graph g = import_tflite(file.data(), file.size(), "m.tflite");
    EXPECT_ERROR(tflite_export::write_tflite(g), std::exception, "16x8");
  }
}

// TFLite's 16x8 scheme has zero points 0; a model with another is refused by name.
TEST(Int16x8Elementwise, AddAndSubRefuseANonZeroInt16ZeroPoint) {
  for (B builtin : {B::ADD, B::SUB}) {
    Binary l{{3}, {3}, {3}, 1e-3f, 1e-3f, 2e-3f, Act::NONE};
    ModelSpec m = model_of(l, builtin);
    m.tensors[1].zero_point = {5};
    const std::vector<uint8_t> file = testing::build_tflite(m);
    SCOPED_TRACE(tfl::EnumNameBuiltinOperator(builtin));
    EXPECT_ERROR(plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite")),
                 std::exception, "zero point 0");
  }
}

// --- the RELU family ------------------------------------------------------------------

TEST(Int16x8Elementwise, ReluFamilyMatchesTfliteOnEveryInput) {
  std::vector<int16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<int16_t>(static_cast<int>(i) - 32768);
  struct Case {
    B builtin;
    float lo, hi, s_in, s_out;
  };
  const float inf = std::numeric_limits<float>::infinity();
  const Case cases[] = {
      {B::RELU, 0.0f, inf, 3.0f / 32768, 3.0f / 32768},    // the same scale: a copy above 0
      {B::RELU, 0.0f, inf, 4.0f / 32768, 3.0f / 32768},    // a multiplier above one
      {B::RELU, 0.0f, inf, 1e-5f, 20.0f},                  // tiny into huge
      {B::RELU6, 0.0f, 6.0f, 8.0f / 32768, 6.0f / 32768},  // the converter's RELU6 output
      {B::RELU6, 0.0f, 6.0f, 1.0f / 1024, 1.0f / 2048},    // 6 inside the output's range
      {B::RELU_N1_TO_1, -1.0f, 1.0f, 2.0f / 32768, 1.0f / 32768},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(tfl::EnumNameBuiltinOperator(c.builtin)) + " " +
                 std::to_string(c.s_in) + " -> " + std::to_string(c.s_out));
    ModelSpec m;
    m.tensors = {int16_tensor("x", {65536}, c.s_in), int16_tensor("y", {65536}, c.s_out)};
    m.ops = {OpSpec{c.builtin, {0}, {1}}};
    m.inputs = {0};
    m.outputs = {1};
    const std::vector<int16_t> got = run(m, {all}, OpCode::Clamp);
    ASSERT_EQ(got.size(), all.size());
    const Multiplier mult = quantize_multiplier(static_cast<double>(c.s_in) / c.s_out);
    auto bound = [&](float v, int32_t limit, bool lower) {
      if (std::isinf(v)) return limit;
      const auto q = static_cast<int32_t>(std::round(v / c.s_out));
      return lower ? std::max(limit, q) : std::min(limit, q);
    };
    const int32_t lo = bound(c.lo, -32768, true), hi = bound(c.hi, 32767, false);
    for (size_t i = 0; i < all.size(); ++i)
      ASSERT_EQ(got[i], static_cast<int16_t>(std::clamp(multiply(all[i], mult), lo, hi)))
          << "input " << all[i];
  }
}

}  // namespace
}  // namespace tinyforge
