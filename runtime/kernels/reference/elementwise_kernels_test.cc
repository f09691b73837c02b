// Reference kernels Add, Reshape, Softmax, Quantize, Dequantize and the fixed-point helpers
// of the int8 softmax. Expected values are derived by hand in the comments (or from exact
// real arithmetic within 1 LSB), never produced by the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "runtime/kernels/reference/fixed_point.h"
#include "runtime/kernels/reference/test_views.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// A tensor owned by the test, viewed as the executor would hand it to a kernel.
template <typename T>
struct Buf {
  std::vector<int32_t> shape;
  std::vector<T> data;
  TensorView view(DType type) { return testing::test_view(type, data, shape); }
};

template <typename T>
Buf<T> make(std::vector<int32_t> shape, std::vector<T> data = {}) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  if (data.empty()) data.assign(static_cast<size_t>(n), T{});
  EXPECT_EQ(static_cast<int64_t>(data.size()), n);
  return {shape, data};
}

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::i8;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}

// Checks then runs a kernel on (inputs..., output).
struct Views {
  std::vector<TensorView> in, out;
  KernelIO io() const {
    return KernelIO{in.data(),  static_cast<uint8_t>(in.size()),
                    out.data(), static_cast<uint8_t>(out.size()),
                    nullptr,    0};
  }
};

// ---- fixed-point helpers ---------------------------------------------------------------

TEST(ElementwiseFixedPoint, SaturatingShiftLeftAndRescale) {
  EXPECT_EQ(fixed::saturating_shift_left(3, 4), 48);
  EXPECT_EQ(fixed::saturating_shift_left(-3, 4), -48);
  EXPECT_EQ(fixed::saturating_shift_left(1 << 27, 4), INT32_MAX);
  EXPECT_EQ(fixed::saturating_shift_left(-(1 << 27) - 1, 4), INT32_MIN);
  // Q12.19 -> Q0.31 gains 12 fractional bits; the other way rounds half away from zero.
  EXPECT_EQ(fixed::rescale(1 << 19, 12, 0), INT32_MAX);  // 1.0 saturates in Q0.31
  EXPECT_EQ(fixed::rescale(6144, 0, 12), 2);             // 6144 / 4096 = 1.5 -> 2
  EXPECT_EQ(fixed::rescale(-6144, 0, 12), -2);
}

TEST(ElementwiseFixedPoint, RoundingHalfSum) {
  EXPECT_EQ(fixed::rounding_half_sum(3, 4), 4);                          // 3.5 -> 4
  EXPECT_EQ(fixed::rounding_half_sum(-3, -4), -4);                       // -3.5 -> -4
  EXPECT_EQ(fixed::rounding_half_sum(INT32_MAX, INT32_MAX), INT32_MAX);  // no overflow
}

TEST(ElementwiseFixedPoint, CountLeadingZeros) {
  EXPECT_EQ(fixed::count_leading_zeros(0), 32);
  EXPECT_EQ(fixed::count_leading_zeros(1), 31);
  EXPECT_EQ(fixed::count_leading_zeros(0x80000000u), 0);
  EXPECT_EQ(fixed::count_leading_zeros(1u << 21), 10);
}

TEST(ElementwiseFixedPoint, ExpOnNegativeValuesMatchesExp) {
  EXPECT_EQ(fixed::exp_on_negative_values(0, 5), INT32_MAX);  // exp(0) saturated
  const double q31 = 2147483648.0;
  for (double x : {-0.001, -0.1, -0.25, -0.3, -1.0, -2.5, -5.0, -10.0, -20.0, -31.9}) {
    const int32_t raw = static_cast<int32_t>(std::lround(x * (1 << 26)));  // Q5.26
    const double got = fixed::exp_on_negative_values(raw, 5) / q31;
    // A 4th-order Taylor polynomial on [-1/4, 0): error up to ~(1/8)^5 / 120 = 2.5e-7.
    EXPECT_NEAR(got, std::exp(raw / double(1 << 26)), 3e-7) << "x=" << x;
  }
}

TEST(ElementwiseFixedPoint, OneOverOnePlusXAndReciprocal) {
  const double q31 = 2147483648.0;
  for (double x : {0.0, 0.25, 0.5, 0.75, 0.999}) {
    const int32_t raw = static_cast<int32_t>(std::min(x * q31, q31 - 1));
    EXPECT_NEAR(fixed::one_over_one_plus_x_for_x_in_0_1(raw) / q31, 1.0 / (1.0 + raw / q31), 4e-9)
        << "x=" << x;
  }
  // 3.0 in Q12.19 = 1.5 * 2^1: nbou = 1 and r = 1 / 1.5 in Q0.31, so 1/3 = r * 2^-1.
  int nbou = 0;
  const int32_t r = fixed::reciprocal(3 << 19, 12, &nbou);
  EXPECT_EQ(nbou, 1);
  EXPECT_NEAR(r / q31 / 2.0, 1.0 / 3.0, 1e-8);
  // 0.75 in Q12.19 = 1.5 * 2^-1: nbou = -1.
  fixed::reciprocal(3 << 17, 12, &nbou);
  EXPECT_EQ(nbou, -1);
}

TEST(ElementwiseFixedPoint, RequantizeRoundingMatchesSpec) {
  // TFLite's double rounding: the doubling high multiply rounds ties up (toward +inf, like
  // ARM's VQRDMULH), the power-of-two division rounds ties away from zero.
  // 0.5 * x with multiplier 2^30 (0.5) and shift 0: only the high multiply rounds.
  EXPECT_EQ(fixed::multiply_by_quantized_multiplier(3, 1 << 30, 0), 2);    // 1.5 -> 2
  EXPECT_EQ(fixed::multiply_by_quantized_multiplier(-3, 1 << 30, 0), -1);  // -1.5 -> -1
  // shift -2: 5 * 0.5 / 4 = 0.625 -> 1 ; -0.625 -> -1
  EXPECT_EQ(fixed::multiply_by_quantized_multiplier(5, 1 << 30, -2), 1);
  EXPECT_EQ(fixed::multiply_by_quantized_multiplier(-5, 1 << 30, -2), -1);
  // shift +3: 40 * 0.5 * 8 = 160
  EXPECT_EQ(fixed::multiply_by_quantized_multiplier(40, 1 << 30, 3), 160);
}

// ---- Add -------------------------------------------------------------------------------

// Params for unit scales on both inputs and the output (derivation): twice_max_input_scale
// = 2, input multipliers 1/2 = 2^30 * 2^-31 (shift 0), output multiplier 2/2^20 = 2^-19 =
// 2^30 * 2^-31 * 2^-18 (shift -18). Then out = zp_out + (x - zp1) + (y - zp2) exactly.
AddParams unit_scale_add(int32_t zp1, int32_t zp2, int32_t zp_out, int32_t lo = -128,
                         int32_t hi = 127) {
  AddParams p{};
  p.left_shift = 20;
  p.input1_offset = -zp1;
  p.input1_multiplier = 1 << 30;
  p.input1_shift = 0;
  p.input2_offset = -zp2;
  p.input2_multiplier = 1 << 30;
  p.input2_shift = 0;
  p.output_offset = zp_out;
  p.output_multiplier = 1 << 30;
  p.output_shift = -18;
  p.act_min = lo;
  p.act_max = hi;
  return p;
}

int8_t add_one(const AddParams& p, int8_t x, int8_t y) {
  auto a = make<int8_t>({1}, {x});
  auto b = make<int8_t>({1}, {y});
  auto o = make<int8_t>({1});
  Views r{{a.view(DType::i8), b.view(DType::i8)}, {o.view(DType::i8)}};
  EXPECT_EQ(check_Add(p, r.io()), Status::ok);
  eval_Add(p, r.io());
  return o.data[0];
}

struct AddCase {
  const char* name;
  int32_t zp1, zp2, zp_out, lo, hi;
  int8_t x, y, expected;
};

TEST(ElementwiseAdd, Int8UnitScaleTable) {
  const AddCase cases[] = {
      {"plain", 0, 0, 0, -128, 127, 20, 22, 42},
      {"saturate high", 0, 0, 0, -128, 127, 100, 100, 127},                // 200 -> 127
      {"saturate low", 0, 0, 0, -128, 127, -100, -100, -128},              // -200 -> -128
      {"zero points", 5, -7, 3, -128, 127, 10, -10, 5},                    // 3 + 5 + (-3)
      {"zp extremes cancel", -128, 127, 0, -128, 127, 127, -128, 0},       // 255 + (-255)
      {"zp extremes max", -128, -128, -128, -128, 127, 127, 127, 127},     // -128 + 510
      {"zp extremes min", 127, 127, 127, -128, 127, -128, -128, -128},     // 127 - 510
      {"relu clamps below zero point", 0, 0, -10, -10, 127, -3, -2, -10},  // -15 -> -10
      {"relu6 clamps above six", 0, 0, -10, -10, -4, 3, 4, -4},            // -3 -> -4
  };
  for (const AddCase& c : cases)
    EXPECT_EQ(add_one(unit_scale_add(c.zp1, c.zp2, c.zp_out, c.lo, c.hi), c.x, c.y), c.expected)
        << c.name;
}

TEST(ElementwiseAdd, Int8MixedScalesRoundHalfAwayFromZero) {
  // s1 = 0.5, s2 = 0.25, s_out = 1: twice_max = 1, input1 multiplier 0.5 (2^30, shift 0),
  // input2 multiplier 0.25 (2^30, shift -1), output 1/2^20 (2^30, shift -19).
  AddParams p = unit_scale_add(0, 0, 0);
  p.input2_shift = -1;
  p.output_shift = -19;
  EXPECT_EQ(add_one(p, 3, 1), 2);       // 1.5 + 0.25 = 1.75 -> 2
  EXPECT_EQ(add_one(p, 1, 0), 1);       // 0.5 -> 1 (tie away from zero)
  EXPECT_EQ(add_one(p, -1, 0), -1);     // -0.5 -> -1
  EXPECT_EQ(add_one(p, 0, 2), 1);       // 0.5 -> 1
  EXPECT_EQ(add_one(p, 0, -6), -2);     // -1.5 -> -2
  EXPECT_EQ(add_one(p, 127, 127), 95);  // 63.5 + 31.75 = 95.25 -> 95
}

// Reference broadcast: out[i] = a[i mod-broadcast] + b[...] with explicit 4-D indexing.
std::vector<int8_t> naive_broadcast_sum(const std::vector<int32_t>& sa,
                                        const std::vector<int8_t>& a,
                                        const std::vector<int32_t>& sb,
                                        const std::vector<int8_t>& b,
                                        const std::vector<int32_t>& so) {
  auto ext = [](std::vector<int32_t> s) {
    while (s.size() < 4) s.insert(s.begin(), 1);
    return s;
  };
  const auto ea = ext(sa), eb = ext(sb), eo = ext(so);
  auto at = [](const std::vector<int32_t>& s, const std::vector<int8_t>& d, int i, int j, int k,
               int l) {
    i = s[0] == 1 ? 0 : i;
    j = s[1] == 1 ? 0 : j;
    k = s[2] == 1 ? 0 : k;
    l = s[3] == 1 ? 0 : l;
    return d[((i * s[1] + j) * s[2] + k) * s[3] + l];
  };
  std::vector<int8_t> out;
  for (int i = 0; i < eo[0]; ++i)
    for (int j = 0; j < eo[1]; ++j)
      for (int k = 0; k < eo[2]; ++k)
        for (int l = 0; l < eo[3]; ++l)
          out.push_back(static_cast<int8_t>(at(ea, a, i, j, k, l) + at(eb, b, i, j, k, l)));
  return out;
}

struct BroadcastCase {
  std::vector<int32_t> a, b, out;
};

TEST(ElementwiseAdd, Int8BroadcastsLikeNumpy) {
  const BroadcastCase cases[] = {
      {{2, 3}, {3}, {2, 3}},       {{2, 3}, {2, 1}, {2, 3}},
      {{1}, {2, 2, 3}, {2, 2, 3}}, {{2, 1, 2, 1}, {1, 3, 1, 2}, {2, 3, 2, 2}},
      {{4, 1}, {1, 5}, {4, 5}},    {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}},
  };
  for (const BroadcastCase& c : cases) {
    auto a = make<int8_t>(c.a);
    auto b = make<int8_t>(c.b);
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<int8_t>(3 * i - 20);
    for (size_t i = 0; i < b.data.size(); ++i) b.data[i] = static_cast<int8_t>(20 - 2 * i);
    auto o = make<int8_t>(c.out);
    Views r{{a.view(DType::i8), b.view(DType::i8)}, {o.view(DType::i8)}};
    const AddParams p = unit_scale_add(0, 0, 0);
    ASSERT_EQ(check_Add(p, r.io()), Status::ok);
    eval_Add(p, r.io());
    EXPECT_EQ(o.data, naive_broadcast_sum(c.a, a.data, c.b, b.data, c.out));
  }
}

TEST(ElementwiseAdd, FloatWithClampAndBroadcast) {
  auto a = make<float>({2, 2}, {1.5f, -2.0f, 3.0f, 7.0f});
  auto b = make<float>({2}, {0.25f, 1.0f});
  auto o = make<float>({2, 2});
  AddParams p{};
  p.f_act_min = 0.0f;  // relu6
  p.f_act_max = 6.0f;
  Views r{{a.view(DType::f32), b.view(DType::f32)}, {o.view(DType::f32)}};
  ASSERT_EQ(check_Add(p, r.io()), Status::ok);
  eval_Add(p, r.io());
  EXPECT_EQ(o.data, (std::vector<float>{1.75f, 0.0f, 3.25f, 6.0f}));
}

TEST(ElementwiseAdd, CheckRejects) {
  auto a = make<int8_t>({2, 3});
  auto b = make<int8_t>({2, 3});
  auto o = make<int8_t>({2, 3});
  auto bad = make<int8_t>({4});
  auto f = make<float>({2, 3});
  auto small = make<int8_t>({2, 3});
  const AddParams good = unit_scale_add(0, 0, 0);
  auto status = [&](const AddParams& p, TensorView x, TensorView y, TensorView out) {
    x.data = y.data = out.data = nullptr;  // validation never touches data
    Views r{{x, y}, {out}};
    return check_Add(p, r.io());
  };
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::ok);
  EXPECT_EQ(status(good, a.view(DType::i8), bad.view(DType::i8), o.view(DType::i8)),
            Status::bad_shape);
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), bad.view(DType::i8)),
            Status::bad_shape);
  EXPECT_EQ(status(good, a.view(DType::i8), f.view(DType::f32), o.view(DType::i8)),
            Status::bad_shape);
  // int32 inputs and output are a form of their own (plain integers); uint32 is none.
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), o.view(DType::u32)),
            Status::bad_enum);
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), o.view(DType::i32)),
            Status::bad_shape);
  TensorView short_view = small.view(DType::i8);
  short_view.bytes = 5;  // fewer bytes than 2x3 elements
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), short_view), Status::bad_shape);
  // Output larger than the broadcast of the inputs.
  auto big = make<int8_t>({3, 3});
  EXPECT_EQ(status(good, a.view(DType::i8), b.view(DType::i8), big.view(DType::i8)),
            Status::bad_shape);

  AddParams p = good;
  p.left_shift = 40;
  EXPECT_EQ(status(p, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::bad_params);
  p = good;
  p.act_min = 10;
  p.act_max = 5;
  EXPECT_EQ(status(p, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::bad_params);
  p = good;
  p.output_shift = -40;
  EXPECT_EQ(status(p, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::bad_params);
  p = good;
  p.input2_multiplier = -1;
  EXPECT_EQ(status(p, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::bad_params);
  p = good;
  p.input1_offset = 200;  // zero point -200 is not int8
  EXPECT_EQ(status(p, a.view(DType::i8), b.view(DType::i8), o.view(DType::i8)), Status::bad_params);
  AddParams pf{};
  pf.f_act_min = 1.0f;
  pf.f_act_max = 0.0f;
  EXPECT_EQ(status(pf, f.view(DType::f32), f.view(DType::f32), f.view(DType::f32)),
            Status::bad_params);
}

// ---- Reshape ---------------------------------------------------------------------------

TEST(ElementwiseReshape, CopiesWhenNotAliasedAndChecksCounts) {
  auto a = make<int8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto o = make<int8_t>({3, 2});
  Views r{{a.view(DType::i8)}, {o.view(DType::i8)}};
  ASSERT_EQ(check_Reshape(ReshapeParams{}, r.io()), Status::ok);
  eval_Reshape(ReshapeParams{}, r.io());
  EXPECT_EQ(o.data, a.data);

  // Aliased: output view over the input's bytes, nothing changes.
  TensorView alias = o.view(DType::i8);
  alias.data = a.data.data();
  Views same{{a.view(DType::i8)}, {alias}};
  eval_Reshape(ReshapeParams{}, same.io());
  EXPECT_EQ(a.data, (std::vector<int8_t>{1, 2, 3, 4, 5, 6}));

  auto wrong = make<int8_t>({4});
  Views bad{{a.view(DType::i8)}, {wrong.view(DType::i8)}};
  EXPECT_EQ(check_Reshape(ReshapeParams{}, bad.io()), Status::bad_shape);
  auto f = make<float>({6});
  Views bad_type{{a.view(DType::i8)}, {f.view(DType::f32)}};
  EXPECT_EQ(check_Reshape(ReshapeParams{}, bad_type.io()), Status::bad_enum);
}

// ---- Softmax ---------------------------------------------------------------------------

// Input scale 1/16, beta 1 (derivation): beta * scale * 2^26 = 2^22 = 0.5 * 2^23, so
// multiplier 2^30 and left shift 23; a difference d becomes d * 2^22 = (d / 16) in Q5.26.
// diff_min = -floor(31 * 2^26 / 2^23) = -248.
SoftmaxParams softmax_scale_1_16() {
  SoftmaxParams p{};
  p.input_multiplier = 1 << 30;
  p.input_left_shift = 23;
  p.diff_min = -248;
  p.beta = 1.0f;
  return p;
}

std::vector<int8_t> softmax_int8(const SoftmaxParams& p, std::vector<int32_t> shape,
                                 std::vector<int8_t> x) {
  auto a = make<int8_t>(shape, x);
  auto o = make<int8_t>(shape);
  Views r{{a.view(DType::i8)}, {o.view(DType::i8)}};
  EXPECT_EQ(check_Softmax(p, r.io()), Status::ok);
  eval_Softmax(p, r.io());
  return o.data;
}

TEST(ElementwiseSoftmax, Int8UniformRowsGiveOneOverN) {
  // Equal logits: every probability is 1/N, quantized round(256 / N) - 128.
  for (int n : {1, 2, 3, 4, 5, 7, 10, 12, 100, 256}) {
    const int expected = std::min(127L, std::lround(256.0 / n) - 128);
    for (int8_t v : {-128, -3, 0, 90, 127}) {
      const auto y = softmax_int8(softmax_scale_1_16(), {1, n}, std::vector<int8_t>(n, v));
      for (int8_t q : y) ASSERT_EQ(q, expected) << "n=" << n << " v=" << int(v);
    }
  }
}

TEST(ElementwiseSoftmax, Int8WithinOneLsbOfExactSoftmax) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (int trial = 0; trial < 50; ++trial) {
    const int depth = 2 + trial % 12;
    const int rows = 1 + trial % 3;
    std::vector<int8_t> x(rows * depth);
    for (auto& v : x) v = static_cast<int8_t>(dist(rng) / (1 + trial % 4));
    const auto y = softmax_int8(softmax_scale_1_16(), {rows, depth}, x);
    for (int r = 0; r < rows; ++r) {
      double max = -1e9, sum = 0;
      for (int c = 0; c < depth; ++c) max = std::max<double>(max, x[r * depth + c]);
      for (int c = 0; c < depth; ++c) sum += std::exp((x[r * depth + c] - max) / 16.0);
      for (int c = 0; c < depth; ++c) {
        const double prob = std::exp((x[r * depth + c] - max) / 16.0) / sum;
        const double expected = std::min(127.0, std::round(prob * 256) - 128);
        EXPECT_NEAR(y[r * depth + c], expected, 1.0) << "trial " << trial << " prob " << prob;
      }
    }
  }
}

TEST(ElementwiseSoftmax, Int8DifferencesBelowDiffMinGiveZero) {
  // Input scale 1/2 (derivation): 2^-1 * 2^26 = 2^25 -> multiplier 2^30, shift 26,
  // diff_min = -floor(31 * 2^26 / 2^26) = -31. exp(-16) * 256 ~ 3e-5 rounds to 0 as well.
  SoftmaxParams p{};
  p.input_multiplier = 1 << 30;
  p.input_left_shift = 26;
  p.diff_min = -31;
  p.beta = 1.0f;
  const auto y = softmax_int8(p, {4}, {100, 100 - 32, 100 - 31, 100});
  EXPECT_EQ(y[1], -128);  // skipped: d = -32 < diff_min
  EXPECT_EQ(y[2], -128);  // exp(-15.5) is below half an LSB
  EXPECT_EQ(y[0], 0);     // two equal maxima share 1: 0.5 * 256 - 128
  EXPECT_EQ(y[3], 0);
  // Two logits 1 apart at scale 1/2: p = 1 / (1 + e^-0.5) = 0.6225 -> 159.4 -> 159 - 128 = 31,
  // the other 0.3775 -> 96.6 -> 97 - 128 = -31.
  const auto z = softmax_int8(p, {2}, {11, 10});
  EXPECT_EQ(z[0], 31);
  EXPECT_EQ(z[1], -31);
}

TEST(ElementwiseSoftmax, FloatMatchesDefinition) {
  auto a = make<float>({2, 3}, {1.0f, 2.0f, 3.0f, -1.0f, -1.0f, -1.0f});
  auto o = make<float>({2, 3});
  SoftmaxParams p{};
  p.beta = 2.0f;
  Views r{{a.view(DType::f32)}, {o.view(DType::f32)}};
  ASSERT_EQ(check_Softmax(p, r.io()), Status::ok);
  eval_Softmax(p, r.io());
  const double s = std::exp(-4.0) + std::exp(-2.0) + 1.0;
  EXPECT_NEAR(o.data[0], std::exp(-4.0) / s, 1e-7);
  EXPECT_NEAR(o.data[1], std::exp(-2.0) / s, 1e-7);
  EXPECT_NEAR(o.data[2], 1.0 / s, 1e-7);
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(o.data[i], 1.0 / 3.0, 1e-7);
}

TEST(ElementwiseSoftmax, CheckRejects) {
  auto a = make<int8_t>({2, 3});
  auto o = make<int8_t>({3, 2});
  auto f = make<float>({2, 3});
  Views shape{{a.view(DType::i8)}, {o.view(DType::i8)}};
  EXPECT_EQ(check_Softmax(softmax_scale_1_16(), shape.io()), Status::bad_shape);
  Views type{{a.view(DType::i8)}, {f.view(DType::f32)}};
  EXPECT_EQ(check_Softmax(softmax_scale_1_16(), type.io()), Status::bad_enum);
  auto same = make<int8_t>({2, 3});
  Views ok{{a.view(DType::i8)}, {same.view(DType::i8)}};
  SoftmaxParams p = softmax_scale_1_16();
  p.input_left_shift = 32;
  EXPECT_EQ(check_Softmax(p, ok.io()), Status::bad_params);
  p = softmax_scale_1_16();
  p.diff_min = 5;
  EXPECT_EQ(check_Softmax(p, ok.io()), Status::bad_params);
  TensorView scalar = a.view(DType::i8);
  scalar.rank = 0;
  Views rank0{{scalar}, {scalar}};
  EXPECT_EQ(check_Softmax(softmax_scale_1_16(), rank0.io()), Status::bad_shape);
}

// ---- Quantize / Dequantize -------------------------------------------------------------

TEST(ElementwiseQuantize, FloatToInt8RoundsHalfAwayFromZero) {
  QuantizeParams p{};
  p.scale = 0.5f;
  p.zero_point = 3;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f,   1.25f,   -1.25f, 0.74f, -0.76f,
                                100.0f, -100.0f, inf,    -inf,  std::nanf("")};
  // x / 0.5 = 0, 2.5, -2.5, 1.48, -1.52 -> 0, 3, -3, 1, -2; then + 3 and clamp.
  const std::vector<int8_t> expected = {3, 6, 0, 4, 1, 127, -128, 127, -128, -128};
  auto a = make<float>({10}, x);
  auto o = make<int8_t>({10});
  Views r{{a.view(DType::f32)}, {o.view(DType::i8)}};
  ASSERT_EQ(check_Quantize(p, r.io()), Status::ok);
  eval_Quantize(p, r.io());
  EXPECT_EQ(o.data, expected);
}

TEST(ElementwiseQuantize, Int8Requantize) {
  // input scale 0.5 zp 10 -> output scale 1 zp -5: multiplier 0.5 = 2^30, shift 0.
  QuantizeParams p{};
  p.scale = 1.0f;
  p.zero_point = -5;
  p.input_zero_point = 10;
  p.multiplier = 1 << 30;
  p.shift = 0;
  auto a = make<int8_t>({5}, {13, 7, 127, -128, 10});
  auto o = make<int8_t>({5});
  Views r{{a.view(DType::i8)}, {o.view(DType::i8)}};
  ASSERT_EQ(check_Quantize(p, r.io()), Status::ok);
  eval_Quantize(p, r.io());
  // (x - 10) / 2 with ties rounded up (see RequantizeRoundingMatchesSpec), then - 5:
  // 1.5 -> 2, -1.5 -> -1, 58.5 -> 59, -69, 0.
  EXPECT_EQ(o.data, (std::vector<int8_t>{-3, -6, 54, -74, -5}));

  // input scale 2, output 0.5: effective 4 = 2^30 * 2^-31 * 2^3.
  p.shift = 3;
  p.zero_point = 0;
  p.input_zero_point = 0;
  auto b = make<int8_t>({3}, {40, -40, 5});
  auto ob = make<int8_t>({3});
  Views rb{{b.view(DType::i8)}, {ob.view(DType::i8)}};
  eval_Quantize(p, rb.io());
  EXPECT_EQ(ob.data, (std::vector<int8_t>{127, -128, 20}));
}

TEST(ElementwiseQuantize, CheckRejects) {
  auto f = make<float>({4});
  auto o = make<int8_t>({4});
  auto o5 = make<int8_t>({5});
  QuantizeParams p{};
  p.scale = 0.5f;
  Views ok{{f.view(DType::f32)}, {o.view(DType::i8)}};
  EXPECT_EQ(check_Quantize(p, ok.io()), Status::ok);
  Views count{{f.view(DType::f32)}, {o5.view(DType::i8)}};
  EXPECT_EQ(check_Quantize(p, count.io()), Status::bad_shape);
  Views to_float{{f.view(DType::f32)}, {f.view(DType::f32)}};
  EXPECT_EQ(check_Quantize(p, to_float.io()), Status::bad_enum);
  QuantizeParams zero_scale = p;
  zero_scale.scale = 0.0f;
  EXPECT_EQ(check_Quantize(zero_scale, ok.io()), Status::bad_params);
  QuantizeParams bad_zp = p;
  bad_zp.zero_point = 300;
  EXPECT_EQ(check_Quantize(bad_zp, ok.io()), Status::bad_params);
  Views requant{{o.view(DType::i8)}, {o.view(DType::i8)}};
  QuantizeParams bad_shift = p;
  bad_shift.multiplier = 1 << 30;
  bad_shift.shift = 45;
  EXPECT_EQ(check_Quantize(bad_shift, requant.io()), Status::bad_params);
}

TEST(ElementwiseDequantize, Int8ToFloat) {
  DequantizeParams p{};
  p.scale = 0.25f;
  p.zero_point = -3;
  auto a = make<int8_t>({4}, {-128, -3, 0, 127});
  auto o = make<float>({4});
  Views r{{a.view(DType::i8)}, {o.view(DType::f32)}};
  ASSERT_EQ(check_Dequantize(p, r.io()), Status::ok);
  eval_Dequantize(p, r.io());
  EXPECT_EQ(o.data, (std::vector<float>{-31.25f, 0.0f, 0.75f, 32.5f}));

  Views wrong{{o.view(DType::f32)}, {o.view(DType::f32)}};
  EXPECT_EQ(check_Dequantize(p, wrong.io()), Status::bad_enum);
  DequantizeParams nan_scale = p;
  nan_scale.scale = std::nanf("");
  EXPECT_EQ(check_Dequantize(nan_scale, r.io()), Status::bad_params);
}

}  // namespace
}  // namespace tinyforge
