// 16x8 EXP, LOG, RSQRT, SQRT and ABS (int16 activations, zero points 0) bit for bit against
// TFLite's int16 arithmetic, re-derived here from its published definition, on every int16
// input under several scale pairs. Each case is a one-op TFLite model imported, planned (the
// compiler makes the table or the multiplier) and run on the host. The definition followed:
//  - tensorflow/lite/kernels/exp.cc (Prepare, int16: LUTPopulate<int16_t> of std::exp) and
//    elementwise.cc (GenericPrepare and LogLUTPrepare: LOG's table of std::log with x <= 0
//    giving (-32768 - zp_out) * s_out; RSQRT's of 1 / std::sqrt with x <= 0 giving 32767 *
//    s_out; the eval is reference_integer_ops::LookupTable, LUTLookup per element): the table
//    and lookup of tests/int16x8_reference.h;
//  - elementwise.cc AbsEvalQuantized<int16_t>: |x|, when the scales differ
//    MultiplyByQuantizedMultiplier by QuantizeMultiplier(s_in / s_out) (quotient in float),
//    clamped to int16;
//  - elementwise.cc SqrtEvalQuantized<int16_t>: s_in * x in float, std::sqrt, divided by s_out
//    in float, truncated to int, clamped. TFLite stops with an error on x < 0 (SQRT and RSQRT);
//    the kernel documents its choice there, checked too: SQRT gives 0, RSQRT the table's value.
// Refusals: NEG and ELU (no int16 kernel in TFLite or TFLite Micro), ONNX's functions in int16,
// zero points, an ABS rescale beyond the kernel's shift, and 16x8 export.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "expect_error.h"
#include "export/tflite_writer.h"
#include "int16x8_reference.h"
#include "ir/error.h"
#include "ir_test_graphs.h"
#include "ops/unary_math.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using B = tfl::BuiltinOperator;
namespace ref = testing::int16x8;

ModelSpec one_op(B builtin, float s_in, float s_out, int32_t zp = 0, int32_t n = 65536) {
  ModelSpec m;
  m.tensors = {ref::int16_tensor("x", {n}, s_in), ref::int16_tensor("y", {n}, s_out)};
  m.tensors[1].zero_point = {zp};
  m.ops = {OpSpec{builtin, {0}, {1}}};
  m.inputs = {0};
  m.outputs = {1};
  return m;
}

std::vector<int16_t> every_int16() {
  std::vector<int16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<int16_t>(static_cast<int>(i) - 32768);
  return all;
}

int16_t clamp16(double v) { return static_cast<int16_t>(std::clamp(v, -32768.0, 32767.0)); }

struct Scales {
  float in, out;
};

// Runs every int16 input through `builtin` at each scale pair and compares with `want`
// (input value, scales) -> expected output; returns the outputs of the last pair.
template <typename Want>
void check_every_input(B builtin, const std::vector<Scales>& scales, Want want) {
  const std::vector<int16_t> all = every_int16();
  for (const Scales& s : scales) {
    SCOPED_TRACE("scales " + std::to_string(s.in) + " -> " + std::to_string(s.out));
    const std::vector<int16_t> got =
        ref::run(one_op(builtin, s.in, s.out), {all}, OpCode::UnaryMath);
    ASSERT_EQ(got.size(), all.size());
    const auto expected = want(s);
    for (size_t i = 0; i < all.size(); ++i)
      ASSERT_EQ(got[i], expected(all[i])) << "input " << all[i];
  }
}

// The table TFLite's Prepare makes for the int16 EXP, LOG or RSQRT at these scales.
std::vector<int64_t> table(B builtin, Scales s) {
  if (builtin == B::LOG) {
    const float low = -32768.0f * s.out;
    return ref::lut([low](float x) { return x <= 0.0f ? low : std::log(x); }, s.in, 0, s.out);
  }
  if (builtin == B::RSQRT) {
    const float high = 32767.0f * s.out;
    return ref::lut([high](float x) { return x <= 0.0f ? high : 1.0f / std::sqrt(x); }, s.in, 0,
                    s.out);
  }
  return ref::lut([](float x) { return std::exp(x); }, s.in, 0, s.out);
}

void check_table_op(B builtin, const std::vector<Scales>& scales) {
  check_every_input(builtin, scales, [builtin](Scales s) {
    return [t = table(builtin, s)](int16_t x) { return static_cast<int16_t>(ref::lookup(x, t)); };
  });
}

// Scale pairs: inputs over [-1, 1), [-8, 8), [-10, 10) and wider, outputs that fit the
// function's range there and ones it saturates.
TEST(UnaryMathInt16, ExpIsTflitesTable) {
  check_table_op(B::EXP, {{1.0f / 32768, 3.0f / 32768},
                          {8.0f / 32768, 3000.0f / 32768},
                          {10.0f / 32768, 1.0f / 1024},
                          {4.0f / 32768, 1.0f / 32768},
                          {1e-3f, 2e-4f}});
}

TEST(UnaryMathInt16, LogIsTflitesTable) {
  check_table_op(B::LOG, {{1.0f / 32768, 11.0f / 32768},
                          {100.0f / 32768, 5.0f / 32768},
                          {0.01f, 1e-3f},
                          {1.0f, 1.0f / 4096}});
}

TEST(UnaryMathInt16, RsqrtIsTflitesTable) {
  check_table_op(B::RSQRT, {{1.0f / 32768, 182.0f / 32768},
                            {0.01f, 0.001f},
                            {1.0f / 1024, 1.0f / 32768},
                            {2.0f, 1.0f / 16384}});
}

// The tables also follow their functions where these vary slowly: EXP on [-1, 1) within
// two output steps of round(exp(x) / s_out) (measured: 2; the samples are rounded and moved
// by up to a step for the midpoint, the interpolation rounds again), so a wrong scale or
// table is far off.
TEST(UnaryMathInt16, ExpFollowsTheFunction) {
  const Scales s{1.0f / 32768, 3.0f / 32768};
  const std::vector<int16_t> all = every_int16();
  const std::vector<int16_t> got = ref::run(one_op(B::EXP, s.in, s.out), {all}, OpCode::UnaryMath);
  ASSERT_EQ(got.size(), all.size());
  int worst = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const double want = std::round(std::exp(all[i] * static_cast<double>(s.in)) / s.out);
    worst = std::max(worst, static_cast<int>(std::fabs(got[i] - want)));
  }
  EXPECT_LE(worst, 2);
}

TEST(UnaryMathInt16, AbsIsTflitesRescale) {
  // Equal scales (|-32768| saturates), halved, doubled (saturates), an odd ratio, and ratios
  // with exponents 15 (the kernel's bound) and -20.
  check_every_input(B::ABS,
                    {{0.01f, 0.01f},
                     {0.01f, 0.02f},
                     {0.02f, 0.01f},
                     {1e-3f, 7e-4f},
                     {1.0f, 1.0f / 23170},
                     {1e-6f, 1.5f}},
                    [](Scales s) {
                      const bool rescale = s.in != s.out;
                      const ref::Multiplier m =
                          ref::quantize_multiplier(static_cast<double>(s.in / s.out));
                      return [rescale, m](int16_t x) {
                        const int32_t v = std::abs(static_cast<int32_t>(x));
                        return clamp16(rescale ? ref::multiply(v, m) : v);
                      };
                    });
}

TEST(UnaryMathInt16, SqrtTruncatesAsTflite) {
  check_every_input(B::SQRT,
                    {{1.0f / 32768, 1.0f / 32768},
                     {0.5f, 0.01f},
                     {1e-4f, 1e-6f},
                     {3.0f, 0.7f},
                     {1.0f / 1024, 1.0f / 181}},
                    [](Scales s) {
                      return [s](int16_t x) -> int16_t {
                        if (x < 0) return 0;  // TFLite stops; the kernel gives sqrt(0)
                        const float real = std::sqrt(s.in * static_cast<float>(x));
                        return clamp16(std::trunc(static_cast<double>(real / s.out)));
                      };
                    });
}

// What TFLite's int16 kernels do not take is refused by name.
TEST(UnaryMathInt16, RefusesWhatTfliteDoesNotRun) {
  const std::vector<int16_t> in(4, 1);
  EXPECT_ERROR(ref::run(one_op(B::NEG, 0.01f, 0.01f, 0, 4), {in}, OpCode::UnaryMath), Error,
               "TFLite and TFLite Micro have no int16 NEG kernel");
  EXPECT_ERROR(ref::run(one_op(B::ELU, 0.01f, 0.01f, 0, 4), {in}, OpCode::UnaryMath), Error,
               "TFLite and TFLite Micro have no int16 ELU kernel");
  EXPECT_ERROR(ref::run(one_op(B::EXP, 0.01f, 0.01f, 5, 4), {in}, OpCode::UnaryMath), Error,
               "expected 0 (TFLite's 16x8)");
  EXPECT_ERROR(ref::run(one_op(B::ABS, 1.0f, 1.0f / 46341, 0, 4), {in}, OpCode::UnaryMath), Error,
               "has exponent 16; expected -31..15");
  // Export of a 16x8 node is refused by name, not written with int8 op versions.
  const std::vector<uint8_t> file = testing::build_tflite(one_op(B::SQRT, 0.01f, 0.01f, 0, 4));
  const ir::Graph g = import_tflite(file.data(), file.size(), "m.tflite");
  EXPECT_ERROR(tflite_export::write_tflite(g), Error, "exporting a 16x8");
}

// ONNX's functions (and NEG or ELU reaching lowering another way) have no int16 arithmetic
// to follow: the lowering names the function.
TEST(UnaryMathInt16, LoweringRefusesFunctionsWithoutAnInt16Kernel) {
  for (UnaryFunction f : {UnaryFunction::reciprocal, UnaryFunction::softplus, UnaryFunction::neg,
                          UnaryFunction::elu}) {
    testing::GraphBuilder b;
    const int x = b.activation("x", {4});
    const int y = b.activation("y", {4});
    for (int t : {x, y}) {
      b.g.tensors[t].type = DType::i16;
      b.g.tensors[t].quant.scale = {0.01f};
      b.g.tensors[t].quant.zero_point = {0};
    }
    b.node(OpCode::UnaryMath, {x}, y, ops::UnaryMathAttrs{f, 1.0f, 1.0f});
    b.g.inputs = {x};
    b.g.outputs = {y};
    b.g.source = "unary_math";
    EXPECT_ERROR(plan::build_plan(b.g), Error,
                 std::string("TFLite and TFLite Micro have no int16 kernel for ") +
                     ops::unary_function_name(f));
  }
}

}  // namespace
}  // namespace tinyforge
