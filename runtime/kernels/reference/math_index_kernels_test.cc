// Reference kernels of the math and index ops (UnaryMath, Div, ReduceMax, Prelu, MirrorPad,
// Gather): hand-worked cases and the check_ refusals a damaged plan must meet. Arithmetic
// against TFLite's definitions is in tests/kernel_table_test.cc and
// compiler/ops/unary_math_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "runtime/kernels/reference/test_views.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename T>
TensorView view(DType type, std::vector<T>& data, std::vector<int32_t> shape, float scale = 0,
                int32_t zero_point = 0) {
  return testing::test_view(type, data, shape, scale, zero_point);
}

KernelIO io_of(const std::vector<TensorView>& in, const std::vector<TensorView>& out) {
  return KernelIO{in.data(),  static_cast<uint8_t>(in.size()),
                  out.data(), static_cast<uint8_t>(out.size()),
                  nullptr,    0};
}

TEST(MathIndexKernels, GatherCopiesSlicesAndZeroFillsABadIndex) {
  std::vector<float> data = {0, 1, 2, 3, 4, 5};  // [3, 2]
  std::vector<int32_t> indices = {2, 0, 7, -1};  // 7 and -1: only a damaged plan has them
  std::vector<float> out(8, 9.0f);
  const std::vector<TensorView> in = {view(DType::f32, data, {3, 2}),
                                      view(DType::i32, indices, {4})};
  const std::vector<TensorView> o = {view(DType::f32, out, {4, 2})};
  const GatherParams p{0};
  ASSERT_EQ(check_Gather(p, io_of(in, o)), Status::ok);
  eval_Gather(p, io_of(in, o));
  EXPECT_EQ(out, (std::vector<float>{4, 5, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(check_Gather(GatherParams{2}, io_of(in, o)), Status::bad_params);  // axis >= rank
  const std::vector<TensorView> wrong = {view(DType::f32, out, {2, 4})};
  EXPECT_EQ(check_Gather(p, io_of(in, wrong)), Status::bad_shape);
}

TEST(MathIndexKernels, MirrorPadFoldsEachMode) {
  std::vector<int8_t> x = {1, 2, 3};
  std::vector<int8_t> y(7);
  const std::vector<TensorView> in = {view(DType::i8, x, {3}, 0.5f, 0)};
  const std::vector<TensorView> out = {view(DType::i8, y, {7}, 0.5f, 0)};
  MirrorPadParams p{};
  p.before[0] = 2;
  p.after[0] = 2;
  const int8_t want[3][7] = {{3, 2, 1, 2, 3, 2, 1},   // reflect
                             {2, 1, 1, 2, 3, 3, 2},   // symmetric
                             {1, 1, 1, 2, 3, 3, 3}};  // edge
  for (int mode = 0; mode < 3; ++mode) {
    p.mode = mode;
    ASSERT_EQ(check_MirrorPad(p, io_of(in, out)), Status::ok) << mode;
    eval_MirrorPad(p, io_of(in, out));
    EXPECT_EQ(y, std::vector<int8_t>(want[mode], want[mode] + 7)) << mode;
  }
  // Reflect pads at most n - 1, symmetric at most n.
  std::vector<int8_t> y9(9);
  const std::vector<TensorView> out9 = {view(DType::i8, y9, {9}, 0.5f, 0)};
  p.before[0] = p.after[0] = 3;
  p.mode = static_cast<int32_t>(MirrorPadMode::reflect);
  EXPECT_EQ(check_MirrorPad(p, io_of(in, out9)), Status::bad_params);
  p.mode = static_cast<int32_t>(MirrorPadMode::symmetric);
  EXPECT_EQ(check_MirrorPad(p, io_of(in, out9)), Status::ok);
  p.mode = 3;
  EXPECT_EQ(check_MirrorPad(p, io_of(in, out9)), Status::bad_enum);
}

// int8 Div's check bounds what keeps its shifts defined (output shift <= 23, int8 offsets and
// clamp); its arithmetic is checked bit for bit in tests/div_exact_test.cc.
TEST(MathIndexKernels, DivChecksItsInt8ParamsAndUnaryMathChecksItsFunction) {
  std::vector<int8_t> a = {1, 2}, b = {1, 1}, c(2);
  const std::vector<TensorView> in = {view(DType::i8, a, {2}, 1, 0), view(DType::i8, b, {2}, 1, 0)};
  const std::vector<TensorView> out = {view(DType::i8, c, {2}, 1, 0)};
  DivParams d{-1e30f, 1e30f, 0, 0, 0, 1 << 30, 1, -128, 127};
  EXPECT_EQ(check_Div(d, io_of(in, out)), Status::ok);
  d.output_shift = 24;
  EXPECT_EQ(check_Div(d, io_of(in, out)), Status::bad_params);
  d.output_shift = 1;
  d.input2_offset = 129;
  EXPECT_EQ(check_Div(d, io_of(in, out)), Status::bad_params);
  d.input2_offset = 0;
  d.act_max = 128;
  EXPECT_EQ(check_Div(d, io_of(in, out)), Status::bad_params);
  UnaryMathParams u{};
  u.function = kNumUnaryFunctions;
  EXPECT_EQ(check_UnaryMath(u, io_of({in[0]}, out)), Status::bad_enum);
  u.function = static_cast<int32_t>(UnaryFunction::neg);
  for (int i = 0; i < 256; ++i) u.table[i] = static_cast<int8_t>(255 - i);
  ASSERT_EQ(check_UnaryMath(u, io_of({in[0]}, out)), Status::ok);
  eval_UnaryMath(u, io_of({in[0]}, out));
  EXPECT_EQ(c, (std::vector<int8_t>{static_cast<int8_t>(254), static_cast<int8_t>(253)}));
}

TEST(MathIndexKernels, ReduceMaxKeepsTheLargestAndNeedsOneQuantization) {
  std::vector<int8_t> x = {-5, 7, 3, -128, 0, 2};  // [2, 3]
  std::vector<int8_t> y(2);
  ReduceParams p{};
  p.axes_mask = 2;
  const std::vector<TensorView> in = {view(DType::i8, x, {2, 3}, 0.1f, 4)};
  const std::vector<TensorView> out = {view(DType::i8, y, {2}, 0.1f, 4)};
  ASSERT_EQ(check_ReduceMax(p, io_of(in, out)), Status::ok);
  eval_ReduceMax(p, io_of(in, out));
  EXPECT_EQ(y, (std::vector<int8_t>{7, 2}));
  const std::vector<TensorView> other = {view(DType::i8, y, {2}, 0.2f, 4)};
  EXPECT_EQ(check_ReduceMax(p, io_of(in, other)), Status::bad_params);
}

TEST(MathIndexKernels, PreluInt8HandWorked) {
  // x scale 0.5 zp 0, alpha scale 0.25 zp 0, out scale 0.5 zp 0: multiplier 1 = 1,
  // multiplier 2 = 0.25. x = -8 (-4.0), alpha = 2 (0.5): -4 * 0.5 = -2.0 -> -4.
  std::vector<int8_t> x = {-8, 6}, alpha = {2}, y(2);
  PreluParams p{};
  p.multiplier_1 = 1 << 30;
  p.shift_1 = 1;
  p.multiplier_2 = 1 << 30;
  p.shift_2 = -1;
  const std::vector<TensorView> in = {view(DType::i8, x, {2}, 0.5f, 0),
                                      view(DType::i8, alpha, {1}, 0.25f, 0)};
  const std::vector<TensorView> out = {view(DType::i8, y, {2}, 0.5f, 0)};
  ASSERT_EQ(check_Prelu(p, io_of(in, out)), Status::ok);
  eval_Prelu(p, io_of(in, out));
  EXPECT_EQ(y, (std::vector<int8_t>{-4, 6}));
  p.shift_2 = 16;  // v * alpha << 16 could leave int32
  EXPECT_EQ(check_Prelu(p, io_of(in, out)), Status::bad_params);
}

}  // namespace
}  // namespace tinyforge
