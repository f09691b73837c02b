// The 16x8 MUL and RELU family (int16 activations, zero points 0) end to end: a TFLite model
// from the test builder is imported, planned and run on the host, and every output element
// is compared bit for bit with a reference written here from TFLite's published arithmetic:
// - MUL (kernels/mul.cc Prepare, reference_integer_ops::MulElementwise on int16):
//   QuantizeMultiplier(s1 * s2 / s_out), x * y rescaled by MultiplyByQuantizedMultiplier,
//   clamped to CalculateActivationRangeQuantized's bounds;
// - RELU, RELU6, RELU_N1_TO_1 (kernels/activations.cc ReluPrepare, QuantizedReluX,
//   reference_ops::ReluX): QuantizeMultiplier(s_in / s_out), MultiplyByQuantizedMultiplier of
//   each value, clamped to the bounds round(lo / s_out), round(hi / s_out) within int16;
// - the fixed-point primitives as gemmlowp defines them (SaturatingRoundingDoublingHighMul,
//   RoundingDivideByPOT) and QuantizeMultiplier (quantization_util.cc: frexp, the fraction
//   rounded to Q31).
// MUL runs random broadcasting shapes, activations and scales (the converter's
// 1/32768 * k ones and extremes); the RELUs every one of the 65,536 int16 inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;
using Act = tfl::ActivationFunctionType;

// --- TFLite's arithmetic --------------------------------------------------------------

struct Multiplier {
  int32_t q;
  int shift;
};

Multiplier quantize_multiplier(double real) {
  if (real == 0.0) return {0, 0};
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);
  int64_t q = std::llround(fraction * 2147483648.0);
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  return {static_cast<int32_t>(q), exponent};
}

int32_t doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t{a} * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // truncates toward zero
}

int32_t divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // floor(x / 2^exponent), written without shifting a negative value
  const int64_t floor = (int64_t{x} - remainder) / (int64_t{1} << exponent);
  return static_cast<int32_t>(floor + (remainder > threshold ? 1 : 0));
}

int32_t multiply(int32_t x, Multiplier m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  return divide_by_pot(
      doubling_high_mul(static_cast<int32_t>(int64_t{x} * (int64_t{1} << left)), m.q), right);
}

struct Range {
  int32_t lo, hi;
};

// CalculateActivationRangeQuantized for int16, zero point 0 (the bounds divided in float).
Range activation_range(Act a, float scale) {
  auto q = [&](float real) { return static_cast<int32_t>(std::round(real / scale)); };
  Range r{-32768, 32767};
  if (a == Act::RELU || a == Act::RELU6) r.lo = std::max(r.lo, q(0.0f));
  if (a == Act::RELU6) r.hi = std::min(r.hi, q(6.0f));
  if (a == Act::RELU_N1_TO_1) r = {std::max(r.lo, q(-1.0f)), std::min(r.hi, q(1.0f))};
  return r;
}

// --- models ---------------------------------------------------------------------------

TensorSpec int16_tensor(const std::string& name, std::vector<int32_t> shape, float scale) {
  return {name, std::move(shape), tfl::TensorType::INT16, {}, {scale}, {0}};
}

int32_t count(const std::vector<int32_t>& shape) {
  int32_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

std::vector<int16_t> run(const ModelSpec& model, const std::vector<std::vector<int16_t>>& in,
                         OpCode expected) {
  const std::vector<uint8_t> file = testing::build_tflite(model);
  const plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
  EXPECT_EQ(built.ops.size(), 1u);
  if (built.ops.empty()) return {};
  EXPECT_EQ(built.ops[0].op, expected) << op_info(built.ops[0].op).name;
  host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
  std::vector<std::vector<uint8_t>> bytes;
  for (const std::vector<int16_t>& v : in) bytes.push_back(testing::bytes_of(v));
  const std::vector<std::vector<uint8_t>> out = runner.run(bytes, 1);
  std::vector<int16_t> got(out.at(0).size() / 2);
  std::memcpy(got.data(), out[0].data(), got.size() * 2);
  return got;
}

// --- MUL ----------------------------------------------------------------------

struct Binary {
  std::vector<int32_t> a, b, out;
  float sa, sb, so;
  Act act;
};

int pick(std::mt19937& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

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

Binary random_binary(uint32_t seed) {
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
  // s_out from s1 * s2 * 2^15 / 400 to s1 * s2 * 2^15 * 400 (products span 2^30): the
  // multiplier from about 2^-24 to 2^-6, outputs from a few steps to saturated.
  const double mid = static_cast<double>(l.sa) * l.sb * 32768.0;
  l.so = static_cast<float>(mid * std::exp(std::uniform_real_distribution<double>(-6.0, 6.0)(rng)));
  const Act acts[] = {Act::NONE, Act::RELU, Act::RELU6, Act::RELU_N1_TO_1};
  l.act = acts[pick(rng, 0, 3)];
  return l;
}

ModelSpec model_of(const Binary& l) {
  OpSpec op{B::MUL, {0, 1}, {2}};
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

std::vector<int16_t> reference(const Binary& l, const std::vector<int16_t>& a,
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

// Random int16 values with both extremes among them.
std::vector<int16_t> values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int16_t> v(n);
  for (int16_t& x : v) {
    const int kind = pick(rng, 0, 9);
    x = static_cast<int16_t>(kind == 0 ? -32768 : kind == 1 ? 32767 : pick(rng, -32768, 32767));
  }
  return v;
}

TEST(Int16x8Elementwise, MulMatchesTfliteBitForBit) {
  for (uint32_t seed = 1; seed < 61; ++seed) {
    const Binary l = random_binary(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::vector<int16_t> a = values(static_cast<size_t>(count(l.a)), seed * 2);
    const std::vector<int16_t> b = values(static_cast<size_t>(count(l.b)), seed * 2 + 1);
    const std::vector<int16_t> got = run(model_of(l), {a, b}, OpCode::Mul);
    const std::vector<int16_t> want = reference(l, a, b);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
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
