// Mul: everything the compiler knows about it, in one file.
//
// Semantics: TFLite MUL with numpy broadcasting and a fused activation (ONNX Mul, and Div by
// a constant, map to it). int8 follows TFLite's reference
// (runtime/kernels/reference/mul.cc); lowering as TFLite's Prepare
// (tensorflow/lite/kernels/mul.cc): QuantizeMultiplier(s_in1 * s_in2 / s_out) in double,
// clamp from CalculateActivationRangeQuantized; int16 (TFLite's 16x8 scheme, zero points 0)
// alike, with int16 bounds; int32 (plain integers, TFLite's reference Mul<int32_t>: the
// product clamped to CalculateActivationRange<int32_t>, micro_speech's preprocessor scales
// its features by 256) without quantization. Quantized from its calibrated output range;
// channels do not pass through for pruning. TFLite: builtin MUL (18) with MulOptions,
// version 2 for int8.
#include "ops/mul.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/div.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_MulOptions(), tfl::BuiltinOptions::MulOptions);
  ir::Node n{OpCode::Mul, {}, {}, {}, {}};
  ops::MulAttrs a;
  if (o) a.activation = m.activation(o->fused_activation_function());
  n.params = a;
  tflite_import::require_binary_operands(m, /*int16=*/true, /*int32=*/true);
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateMulOptions(b.fbb(), activation(n.params.get<ops::MulAttrs>().activation));
  b.add_operator(tfl::BuiltinOperator::MUL, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::MulOptions, options.Union());
}

}  // namespace

namespace plan {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;

LoweredOp lower_Mul(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 2, 2, 1, /*int16=*/true, /*int32=*/true);
  const ir::Activation act = n.params.get<ops::MulAttrs>().activation;
  MulParams p{};
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  if (g.tensors[out].type == DType::i32) {
    const lowering::Int32Range r = lowering::activation_range_int32(act);
    p.act_min = r.min;
    p.act_max = r.max;
  } else if (g.tensors[out].type == DType::f32) {
    const FloatRange r = activation_range_float(act);
    p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
    p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  } else {
    const Q qa = per_tensor(g, node, a, "input 0"), qb = per_tensor(g, node, b, "input 1"),
            qo = per_tensor(g, node, out, "output");
    // TFLite's int16 Mul requires zero points 0 (its product would overflow int32 otherwise).
    if (g.tensors[out].type == DType::i16 &&
        (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0))
      refuse(g, node, "int16 inputs and output need zero point 0 (TFLite's 16x8 scheme)");
    const QuantizedMultiplier m =
        quantize_multiplier(static_cast<double>(qa.scale) * static_cast<double>(qb.scale) /
                            static_cast<double>(qo.scale));
    p.input1_offset = -qa.zero_point;
    p.input2_offset = -qb.zero_point;
    p.output_offset = qo.zero_point;
    p.output_multiplier = m.multiplier;
    p.output_shift = m.shift;
    const ClampRange r = activation_range(act, qo.scale, qo.zero_point, g.tensors[out].type);
    p.act_min = r.min;
    p.act_max = r.max;
  }
  return lowered(p, {a, b});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

Constant scaled_constant(const Constant& c, float factor, bool reciprocal) {
  Constant r = c;
  if (!r.is_float) {
    r.is_float = true;
    for (int64_t v : c.i) r.f.push_back(static_cast<float>(v));
    r.i.clear();
  }
  for (float& v : r.f) v = reciprocal ? factor / v : factor * v;
  return r;
}

void convert_Mul(Context& ctx) {
  ctx.set_output(0, binary(ctx, OpCode::Mul, ctx.input(0), ctx.input(1), ctx.node->output(0),
                           ops::MulAttrs{}));
}

// a / c = a * (1 / c) for a constant divisor (Mul has an int8 kernel); a run-time divisor
// becomes Div.
void convert_Div(Context& ctx) {
  Value& a = ctx.input(0);
  Value& b = ctx.input(1);
  if (!b.is_constant() || a.is_constant()) {
    ctx.set_output(0, binary(ctx, OpCode::Div, a, b, ctx.node->output(0), ops::DivAttrs{}));
    return;
  }
  const Constant& c = ctx.constants[b.const_index];
  if (!c.is_float) ctx.unsupported("integer Div");
  for (float v : c.f)
    if (v == 0.0f) ctx.fail("division by a constant zero");
  Value r = ctx.constant_value(scaled_constant(c, 1.0f, true));
  ctx.set_output(0, binary(ctx, OpCode::Mul, a, r, ctx.node->output(0), ops::MulAttrs{}));
}

void convert_Neg(Context& ctx) {  // -x = x * -1
  Constant minus_one;
  minus_one.shape = {1};
  minus_one.is_float = true;
  minus_one.f = {-1.0f};
  Value m = ctx.constant_value(std::move(minus_one));
  ctx.set_output(0,
                 binary(ctx, OpCode::Mul, ctx.input(0), m, ctx.node->output(0), ops::MulAttrs{}));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Mul() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::MUL), "MUL", read_tflite}},
      {{"Mul", onnx_import::convert_Mul, 7},
       {"Div", onnx_import::convert_Div, 7},
       {"Neg", onnx_import::convert_Neg, 6}},
      write_tflite,
      activation_field<MulAttrs>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
