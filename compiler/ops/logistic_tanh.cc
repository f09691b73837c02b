// Logistic and Tanh: everything the compiler knows about them, in one file.
//
// Semantics: TFLite LOGISTIC / TANH (float: 1 / (1 + exp(-x)), tanh(x); int8: the
// reference_integer_ops kernels, runtime/kernels/reference/logistic.cc and tanh.cc).
// Invariant the int8 arithmetic assumes, checked at import and lowering: the output has
// scale 1/256 and zero point -128 (Logistic) or 1/128 and 0 (Tanh); the quantizer fixes
// them so (QuantRule::fixed). Channels pass through for pruning. Lowering follows
// tflite-micro's Prepare (logistic_common.cc CalculateArithmeticOpDataLogistic, tanh.cc
// CalculateArithmeticOpData): input_real = s_in * 2^27 (4 integer bits);
// frexp(input_real) = q * 2^left_shift; input_multiplier = round(q * 2^31);
// input_range_radius = floor(15 * 2^27 / 2^left_shift) (CalculateInputRadius(4, shift, 31)).
// int16 (TFLite's 16x8 scheme, the int16 reference_integer_ops kernels): zero points 0 and
// an output scale of 2^-15, as tflite-micro's Prepare requires (CheckedLog2 of the output
// scale rounds to -15). Its input multiplier and shift rescale x to units of 1 / (3 * 4096):
// a power-of-two input scale of 2^-12 (Logistic; Tanh also 2^-11) gives multiplier 3 <<
// shift, shift 0 (TFLite stores multiplier 0 and lets the kernel do that); any other scale
// doubles s * 3 * 4096 until it exceeds 32767 / 2 (at most 31 times), the shift counting the
// doublings, and truncates it to an integer. Scales whose multiplier would overflow the
// kernel's int32 product (above about 5.3) are refused.
// TFLite: builtins LOGISTIC (14) and TANH (28), no options, version 2 for int8; 16x8 nodes
// are not exported.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

struct FixedOutput {
  float scale;
  int32_t zero_point;
};
constexpr FixedOutput kLogisticOutput{1.0f / 256, -128};
constexpr FixedOutput kTanhOutput{1.0f / 128, 0};

// tflite-micro's CheckedLog2 (kernels/internal/quantization_util.cc), in float as there:
// `log2_rounded` the nearest integer to log2(x), true when x is within 1e-3 of a power of two.
bool checked_log2(float x, int* log2_rounded) {
  const float log2 = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(log2);
  *log2_rounded = static_cast<int>(rounded);
  return std::abs(log2 - rounded) < 1e-3f;
}

// The int16 output scale the kernels write: 2^-15 as CheckedLog2 reads it.
bool is_int16_output_scale(float scale) {
  int log2 = 0;
  return scale > 0 && checked_log2(scale, &log2) && log2 == -15;
}

// --- TFLite import and export ---------------------------------------------------------

template <OpCode Op>
ir::Node read_tflite(tflite_import::OpMapper& m) {
  m.require_arity(1, 1);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_shape(out, m.out_label(), in.shape);
  if (out.type == DType::i16) {
    m.require_int16_zero_points(in, out);
    if (!is_int16_output_scale(out.quant.scale[0]))
      m.fail(fmt::format("{} has scale {}; expected 1/32768", m.out_label(), out.quant.scale[0]));
    return ir::Node{Op, {}, {}, {}, {}};
  }
  const FixedOutput want = Op == OpCode::Logistic ? kLogisticOutput : kTanhOutput;
  if (out.type == DType::i8 &&
      (out.quant.scale[0] != want.scale || out.quant.zero_point[0] != want.zero_point))
    m.fail(fmt::format("{} has scale {} and zero point {}; expected {} and {}", m.out_label(),
                       out.quant.scale[0], out.quant.zero_point[0], want.scale, want.zero_point));
  return ir::Node{Op, {}, {}, {}, {}};
}

template <tfl::BuiltinOperator Builtin>
void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  tflite_export::refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(Builtin, tflite_export::is_int8(b, node) ? 2 : 1,
                 tflite_export::io_of(b, n.inputs), tflite_export::io_of(b, n.outputs));
}

// --- lowering -------------------------------------------------------------------------

using plan::lowering::checked;
using plan::lowering::per_tensor;
using plan::lowering::Q;
using plan::lowering::refuse;
using plan::lowering::same_elements;

// The int16 fields (tflite-micro's Prepare for int16 Logistic and Tanh); `pot_shifts`: the
// largest (15 - 3) + log2(s_in) its power-of-two case takes (0 Logistic, 1 Tanh).
template <typename Params>
Params int16_params(const ir::Graph& g, size_t node, int pot_shifts, const char* op_name) {
  const ir::Node& n = g.nodes[node];
  const Q qi = per_tensor(g, node, n.inputs[0], "input"),
          qo = per_tensor(g, node, n.outputs[0], "output");
  if (qi.zero_point != 0 || qo.zero_point != 0)
    refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
  if (!is_int16_output_scale(qo.scale))
    refuse(g, node,
           fmt::format("int16 {} output has scale {}; expected 1/32768", op_name, qo.scale));
  Params p{};
  constexpr int kInputIntegerBits = 3;
  int log2 = 0;
  const bool pot = checked_log2(qi.scale, &log2);
  const int pot_shift = (15 - kInputIntegerBits) + log2;
  if (pot && pot_shift >= 0 && pot_shift <= pot_shifts) {
    p.input_multiplier = 3 << pot_shift;
    return p;
  }
  double multiplier = static_cast<double>(qi.scale) * 4096.0 * 3.0;
  while (multiplier <= 32767.0 / 2.0 && p.input_left_shift <= 30) {
    ++p.input_left_shift;
    multiplier *= 2.0;
  }
  // The kernel's bound (sigmoid_family.h): 32768 times it fits int32.
  constexpr double kMaxMultiplier = 65535.0;
  if (multiplier >= kMaxMultiplier + 1.0 || multiplier < 1.0)
    refuse(g, node,
           fmt::format("int16 input scale {} is outside what TFLite's int16 {} handles (its "
                       "input multiplier {} must be 1..65535 for the int32 product)",
                       qi.scale, op_name, multiplier));
  p.input_multiplier = static_cast<int32_t>(multiplier);
  return p;
}

// The int8 and int16 fields Logistic and Tanh share (TFLM's Prepare for both).
template <typename Params>
Params sigmoid_family_params(const ir::Graph& g, size_t node, float out_scale,
                             int32_t out_zero_point, int pot_shifts, const char* op_name) {
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  if (g.tensors[n.outputs[0]].type == DType::i16)
    return int16_params<Params>(g, node, pot_shifts, op_name);
  Params p{};
  if (g.tensors[n.outputs[0]].type != DType::i8) return p;
  const Q qi = per_tensor(g, node, n.inputs[0], "input"),
          qo = per_tensor(g, node, n.outputs[0], "output");
  if (qo.scale != out_scale || qo.zero_point != out_zero_point)
    refuse(g, node,
           fmt::format("int8 {} output has scale {} and zero point {}; expected {} and {}", op_name,
                       qo.scale, qo.zero_point, out_scale, out_zero_point));
  constexpr int kInputIntegerBits = 4;
  const double input_real =
      static_cast<double>(qi.scale) * static_cast<double>(1 << (31 - kInputIntegerBits));
  int left_shift = 0;
  const double q = std::frexp(input_real, &left_shift);
  const double multiplier = std::round(q * static_cast<double>(1LL << 31));
  if (multiplier >= static_cast<double>(1LL << 31) || left_shift > 31 || left_shift < -31)
    refuse(g, node,
           fmt::format("input scale {} is outside what the int8 {} reference handles", qi.scale,
                       op_name));
  p.input_zero_point = qi.zero_point;
  p.input_multiplier = static_cast<int32_t>(multiplier);
  p.input_left_shift = left_shift;
  const double radius = std::floor(static_cast<double>((1 << kInputIntegerBits) - 1) *
                                   static_cast<double>(1LL << (31 - kInputIntegerBits)) /
                                   std::ldexp(1.0, left_shift));
  p.input_range_radius = static_cast<int32_t>(std::min(radius, static_cast<double>(1 << 30)));
  return p;
}

}  // namespace

namespace plan {

LoweredOp lower_Logistic(ir::Graph& g, size_t node) {
  const auto p = sigmoid_family_params<LogisticParams>(g, node, kLogisticOutput.scale,
                                                       kLogisticOutput.zero_point, 0, "Logistic");
  return lowering::lowered(p, {g.nodes[node].inputs[0]});
}

LoweredOp lower_Tanh(ir::Graph& g, size_t node) {
  const auto p = sigmoid_family_params<TanhParams>(g, node, kTanhOutput.scale,
                                                   kTanhOutput.zero_point, 1, "Tanh");
  return lowering::lowered(p, {g.nodes[node].inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Sigmoid(Context& ctx) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [](float v) { return 1.0f / (1.0f + std::exp(-v)); })) return;
  ctx.set_output(0, unary(ctx, OpCode::Logistic, x, {}, ctx.node->output(0)));
}

void convert_Tanh(Context& ctx) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [](float v) { return std::tanh(v); })) return;
  ctx.set_output(0, unary(ctx, OpCode::Tanh, x, {}, ctx.node->output(0)));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Logistic() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::fixed, kLogisticOutput.scale, kLogisticOutput.zero_point, -1,
                   false, ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(tfl::BuiltinOperator::LOGISTIC), "LOGISTIC",
        read_tflite<OpCode::Logistic>}},
      {{"Sigmoid", onnx_import::convert_Sigmoid, 6}},
      write_tflite<tfl::BuiltinOperator::LOGISTIC>};
  return op;
}

const HostOp& host_op_Tanh() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::fixed, kTanhOutput.scale, kTanhOutput.zero_point, -1, false,
                   ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(tfl::BuiltinOperator::TANH), "TANH", read_tflite<OpCode::Tanh>}},
      {{"Tanh", onnx_import::convert_Tanh, 6}},
      write_tflite<tfl::BuiltinOperator::TANH>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
