// Reference kernels added for the ONNX path: Mul, Logistic, Tanh, Clamp, Concatenation,
// Transpose, Pad. Expected values are worked out by hand in the comments or follow from an
// index formula written independently of the kernel; check_ refusals are covered too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "runtime/kernels/reference/test_views.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename T>
struct Buf {
  std::vector<int32_t> shape;
  std::vector<T> data;
  float scale = 0.0f;
  int32_t zero_point = 0;
  TensorView view(DType type) { return testing::test_view(type, data, shape, scale, zero_point); }
};

template <typename T>
Buf<T> make(std::vector<int32_t> shape, std::vector<T> data = {}) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  if (data.empty()) data.assign(static_cast<size_t>(n), T{});
  EXPECT_EQ(static_cast<int64_t>(data.size()), n);
  return {shape, data};
}

struct Views {
  std::vector<TensorView> in, out;
  KernelIO io() const {
    return KernelIO{in.data(),  static_cast<uint8_t>(in.size()),
                    out.data(), static_cast<uint8_t>(out.size()),
                    nullptr,    0};
  }
};

constexpr float kInf = INFINITY;

// ---- Mul --------------------------------------------------------------------------------

TEST(OnnxOpsKernels, MulFloatBroadcastsAndClamps) {
  auto a = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = make<float>({3}, {10, -1, 0.5f});
  auto out = make<float>({2, 3});
  Views v{{a.view(DType::f32), b.view(DType::f32)}, {out.view(DType::f32)}};
  MulParams p{};
  p.f_act_min = -kInf;
  p.f_act_max = 20.0f;
  ASSERT_EQ(check_Mul(p, v.io()), Status::ok);
  eval_Mul(p, v.io());
  EXPECT_EQ(out.data, (std::vector<float>{10, -2, 1.5f, 20, -5, 3}));  // 40 clamped to 20
}

TEST(OnnxOpsKernels, MulInt8RescalesOffsetsAndSaturates) {
  // in1 scale 0.5 zp -1, in2 scale 0.5 zp 0, out scale 0.25 zp 3: real multiplier 1.0 =
  // 2^30 * 2^(1-31) -> multiplier 2^30, shift 1.
  auto a = make<int8_t>({4}, {9, -1, 127, -128});
  auto b = make<int8_t>({4}, {4, 100, 127, 127});
  auto out = make<int8_t>({4});
  Views v{{a.view(DType::i8), b.view(DType::i8)}, {out.view(DType::i8)}};
  MulParams p{};
  p.input1_offset = 1;
  p.input2_offset = 0;
  p.output_offset = 3;
  p.output_multiplier = 1 << 30;
  p.output_shift = 1;
  p.act_min = -128;
  p.act_max = 127;
  ASSERT_EQ(check_Mul(p, v.io()), Status::ok);
  eval_Mul(p, v.io());
  // (9+1)*4 = 40 -> 43; (-1+1)*100 = 0 -> 3; 128*127 saturates to 127; -127*127 to -128.
  EXPECT_EQ(out.data, (std::vector<int8_t>{43, 3, 127, -128}));
}

TEST(OnnxOpsKernels, MulRefusesShapesThatDoNotBroadcast) {
  auto a = make<float>({2, 3});
  auto b = make<float>({2});
  auto out = make<float>({2, 3});
  Views v{{a.view(DType::f32), b.view(DType::f32)}, {out.view(DType::f32)}};
  MulParams p{};
  EXPECT_EQ(check_Mul(p, v.io()), Status::bad_shape);
}

// ---- Logistic, Tanh, Clamp ---------------------------------------------------------------

TEST(OnnxOpsKernels, LogisticAndTanhAtKnownPoints) {
  // sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4; tanh(ln 2) = 3/5.
  const float ln3 = std::log(3.0f), ln2 = std::log(2.0f);
  auto x = make<float>({4}, {0.0f, ln3, -ln3, 100.0f});
  auto y = make<float>({4});
  Views v{{x.view(DType::f32)}, {y.view(DType::f32)}};
  ASSERT_EQ(check_Logistic(LogisticParams{}, v.io()), Status::ok);
  eval_Logistic(LogisticParams{}, v.io());
  EXPECT_FLOAT_EQ(y.data[0], 0.5f);
  EXPECT_NEAR(y.data[1], 0.75f, 1e-6);
  EXPECT_NEAR(y.data[2], 0.25f, 1e-6);
  EXPECT_FLOAT_EQ(y.data[3], 1.0f);

  x.data = {0.0f, ln2, -ln2, -100.0f};
  Views t{{x.view(DType::f32)}, {y.view(DType::f32)}};
  ASSERT_EQ(check_Tanh(TanhParams{}, t.io()), Status::ok);
  eval_Tanh(TanhParams{}, t.io());
  EXPECT_FLOAT_EQ(y.data[0], 0.0f);
  EXPECT_NEAR(y.data[1], 0.6f, 1e-6);
  EXPECT_NEAR(y.data[2], -0.6f, 1e-6);
  EXPECT_FLOAT_EQ(y.data[3], -1.0f);
}

// int8 with input scale 1/16, zero point 0: input_real = 2^-4 * 2^27 = 0.5 * 2^24, so
// multiplier 2^30, left shift 24, radius floor(15 * 2^27 / 2^24) = 120. Every input must
// land within 1 LSB of the exactly rounded real function (logistic: scale 1/256, zp -128;
// tanh: scale 1/128, zp 0), and the fixed points 0 -> 1/2 and 0 -> 0 are exact.
TEST(OnnxOpsKernels, LogisticAndTanhInt8WithinOneLsbOfRealFunction) {
  std::vector<int8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<int8_t>(i - 128);
  auto x = make<int8_t>({256}, all);
  auto y = make<int8_t>({256});
  x.scale = 1.0f / 16;
  y.scale = 1.0f / 256;
  y.zero_point = -128;
  Views v{{x.view(DType::i8)}, {y.view(DType::i8)}};
  const LogisticParams lp{0, 120, 1 << 30, 24};
  ASSERT_EQ(check_Logistic(lp, v.io()), Status::ok);
  eval_Logistic(lp, v.io());
  for (int i = 0; i < 256; ++i) {
    const double real = 1.0 / (1.0 + std::exp(-(i - 128) / 16.0));
    const double want = std::min(127.0, std::round(real * 256) - 128);
    EXPECT_NEAR(y.data[i], want, 1.0) << "input " << i - 128;
  }
  EXPECT_EQ(y.data[128], 0);    // sigmoid(0) = 1/2 -> 128/256 -> -128 + 128
  EXPECT_EQ(y.data[0], -128);   // -8: beyond the radius
  EXPECT_EQ(y.data[255], 127);  // 7.94: beyond the radius

  y.scale = 1.0f / 128;
  y.zero_point = 0;
  Views t{{x.view(DType::i8)}, {y.view(DType::i8)}};
  const TanhParams tp{0, 120, 1 << 30, 24};
  ASSERT_EQ(check_Tanh(tp, t.io()), Status::ok);
  eval_Tanh(tp, t.io());
  for (int i = 0; i < 256; ++i) {
    const double want =
        std::max(-128.0, std::min(127.0, std::round(std::tanh((i - 128) / 16.0) * 128)));
    EXPECT_NEAR(y.data[i], want, 1.0) << "input " << i - 128;
  }
  EXPECT_EQ(y.data[128], 0);
  EXPECT_EQ(y.data[128 + 16], 97);  // tanh(1) * 128 = 97.48

  y.zero_point = 5;  // the reference's fixed output quantization is required
  Views bad{{x.view(DType::i8)}, {y.view(DType::i8)}};
  EXPECT_EQ(check_Tanh(tp, bad.io()), Status::bad_params);
}

TEST(OnnxOpsKernels, ClampFloatAndInt8) {
  auto x = make<float>({5}, {-3, -0.5f, 0.5f, 3, 9});
  auto y = make<float>({5});
  Views v{{x.view(DType::f32)}, {y.view(DType::f32)}};
  ClampParams p{};
  p.f_min = 0.0f;
  p.f_max = kInf;  // Relu
  ASSERT_EQ(check_Clamp(p, v.io()), Status::ok);
  eval_Clamp(p, v.io());
  EXPECT_EQ(y.data, (std::vector<float>{0, 0, 0.5f, 3, 9}));
  p.f_min = -1.0f;
  p.f_max = 6.0f;
  eval_Clamp(p, v.io());
  EXPECT_EQ(y.data, (std::vector<float>{-1, -0.5f, 0.5f, 3, 6}));
  p.f_min = NAN;
  EXPECT_EQ(check_Clamp(p, v.io()), Status::bad_params);

  // int8 Relu6 with in scale 0.1 zp -10 -> out scale 0.05 zp -128: multiplier 2.0 =
  // 2^30 * 2^(2-31); bounds -128 + round(0/0.05) = -128 and -128 + round(6/0.05) = -8.
  auto qx = make<int8_t>({4}, {-20, -10, 0, 60});
  auto qy = make<int8_t>({4});
  Views q{{qx.view(DType::i8)}, {qy.view(DType::i8)}};
  ClampParams c{};
  c.input_offset = 10;
  c.output_offset = -128;
  c.output_multiplier = 1 << 30;
  c.output_shift = 2;
  c.act_min = -128;
  c.act_max = -8;
  ASSERT_EQ(check_Clamp(c, q.io()), Status::ok);
  eval_Clamp(c, q.io());
  // real -1.0 -> clamp 0 -> -128; 0 -> -128; 1.0 -> -128 + 20 = -108; 7.0 -> 6.0 -> -8.
  EXPECT_EQ(qy.data, (std::vector<int8_t>{-128, -128, -108, -8}));
}

// ---- data movement -----------------------------------------------------------------------

TEST(OnnxOpsKernels, ConcatenationAlongEachAxis) {
  for (int axis = 0; axis < 3; ++axis) {
    // a: [2,2,2] values 0..7, b: same shape values 100..107; out dim axis doubles.
    auto a = make<float>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
    auto b = make<float>({2, 2, 2}, {100, 101, 102, 103, 104, 105, 106, 107});
    std::vector<int32_t> os{2, 2, 2};
    os[axis] = 4;
    auto out = make<float>(os);
    Views v{{a.view(DType::f32), b.view(DType::f32)}, {out.view(DType::f32)}};
    ConcatenationParams p{axis};
    ASSERT_EQ(check_Concatenation(p, v.io()), Status::ok);
    eval_Concatenation(p, v.io());
    for (int i = 0; i < os[0]; ++i)
      for (int j = 0; j < os[1]; ++j)
        for (int k = 0; k < os[2]; ++k) {
          int idx[3] = {i, j, k};
          const bool second = idx[axis] >= 2;
          if (second) idx[axis] -= 2;
          const float want =
              (second ? 100.0f : 0.0f) + static_cast<float>(idx[0] * 4 + idx[1] * 2 + idx[2]);
          EXPECT_EQ(out.data[(i * os[1] + j) * os[2] + k], want) << "axis " << axis;
        }
  }
}

TEST(OnnxOpsKernels, ConcatenationRefusesMismatches) {
  auto a = make<int8_t>({1, 2});
  auto b = make<int8_t>({1, 3});
  auto out = make<int8_t>({1, 5});
  a.scale = b.scale = out.scale = 0.5f;
  Views v{{a.view(DType::i8), b.view(DType::i8)}, {out.view(DType::i8)}};
  EXPECT_EQ(check_Concatenation(ConcatenationParams{1}, v.io()), Status::ok);
  EXPECT_EQ(check_Concatenation(ConcatenationParams{0}, v.io()), Status::bad_shape);
  EXPECT_EQ(check_Concatenation(ConcatenationParams{2}, v.io()), Status::bad_params);
  b.scale = 0.25f;  // int8 inputs must share the output's quantization
  Views w{{a.view(DType::i8), b.view(DType::i8)}, {out.view(DType::i8)}};
  EXPECT_EQ(check_Concatenation(ConcatenationParams{1}, w.io()), Status::bad_params);
}

TEST(OnnxOpsKernels, TransposeEveryPermutationOfRank3) {
  const int32_t dims[3] = {2, 3, 4};
  std::vector<float> src(24);
  for (int i = 0; i < 24; ++i) src[i] = static_cast<float>(i);
  int32_t perm[3] = {0, 1, 2};
  do {
    auto in = make<float>({2, 3, 4}, src);
    auto out = make<float>({dims[perm[0]], dims[perm[1]], dims[perm[2]]});
    Views v{{in.view(DType::f32)}, {out.view(DType::f32)}};
    TransposeParams p{{perm[0], perm[1], perm[2], 3}};
    ASSERT_EQ(check_Transpose(p, v.io()), Status::ok);
    eval_Transpose(p, v.io());
    int o = 0;
    int idx[3];
    for (idx[perm[0]] = 0; idx[perm[0]] < dims[perm[0]]; ++idx[perm[0]])
      for (idx[perm[1]] = 0; idx[perm[1]] < dims[perm[1]]; ++idx[perm[1]])
        for (idx[perm[2]] = 0; idx[perm[2]] < dims[perm[2]]; ++idx[perm[2]])
          EXPECT_EQ(out.data[o++], src[(idx[0] * 3 + idx[1]) * 4 + idx[2]]);
  } while (std::next_permutation(perm, perm + 3));
}

TEST(OnnxOpsKernels, TransposeRefusesBadPermutations) {
  auto in = make<int8_t>({2, 3});
  auto out = make<int8_t>({3, 2});
  Views v{{in.view(DType::i8)}, {out.view(DType::i8)}};
  EXPECT_EQ(check_Transpose(TransposeParams{{1, 0, 2, 3}}, v.io()), Status::ok);
  EXPECT_EQ(check_Transpose(TransposeParams{{1, 1, 2, 3}}, v.io()), Status::bad_params);
  EXPECT_EQ(check_Transpose(TransposeParams{{0, 1, 2, 3}}, v.io()), Status::bad_shape);
  EXPECT_EQ(check_Transpose(TransposeParams{{1, 0, 3, 2}}, v.io()), Status::bad_params);
  EXPECT_EQ(check_Transpose(TransposeParams{{1, 7, 2, 3}}, v.io()), Status::bad_params);
}

TEST(OnnxOpsKernels, PadFloatAndInt8) {
  // [1,2] -> before {1,0}, after {0,2}: [[v, v, v, v], [1, 2, v, v]]
  auto in = make<float>({2, 2}, {1, 2, 3, 4});
  auto out = make<float>({3, 4});
  Views v{{in.view(DType::f32)}, {out.view(DType::f32)}};
  PadParams p{{1, 0, 0, 0}, {0, 2, 0, 0}, -1.5f, 0};
  ASSERT_EQ(check_Pad(p, v.io()), Status::ok);
  eval_Pad(p, v.io());
  const float b = -1.5f;
  EXPECT_EQ(out.data, (std::vector<float>{b, b, b, b, 1, 2, b, b, 3, 4, b, b}));

  auto qi = make<int8_t>({1, 1, 1, 2}, {5, 6});
  auto qo = make<int8_t>({1, 2, 2, 3});
  Views q{{qi.view(DType::i8)}, {qo.view(DType::i8)}};
  PadParams pq{{0, 1, 0, 1}, {0, 0, 1, 0}, 0.0f, -7};
  ASSERT_EQ(check_Pad(pq, q.io()), Status::ok);
  eval_Pad(pq, q.io());
  EXPECT_EQ(qo.data, (std::vector<int8_t>{-7, -7, -7, -7, -7, -7, -7, 5, 6, -7, -7, -7}));

  EXPECT_EQ(check_Pad(PadParams{{0, 1, 0, 0}, {0, 0, 1, 0}, 0.0f, 0}, q.io()), Status::bad_shape);
  EXPECT_EQ(check_Pad(PadParams{{-1, 1, 0, 1}, {1, 0, 1, 0}, 0.0f, 0}, q.io()), Status::bad_params);
  EXPECT_EQ(check_Pad(PadParams{{0, 1, 0, 1}, {0, 0, 1, 0}, 0.0f, 300}, q.io()),
            Status::bad_params);
}

}  // namespace
}  // namespace tinyforge
