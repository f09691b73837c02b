// Clamp: everything the compiler knows about it, in one file.
//
// Semantics: clamp to real bounds [clamp_min, clamp_max] (either may be infinite): TFLite's
// RELU, RELU6, RELU_N1_TO_1 and RELU_0_TO_1 when not fused into their producer, ONNX Relu
// and Clip. float: min(max(x, lo), hi). int8 as TFLite's quantized ReluX (activations.cc
// ReluPrepare / QuantizedReluX): QuantizeMultiplier(s_in / s_out); bounds
// max(-128, zp + round(lo / s_out)) and min(127, zp + round(hi / s_out)), an infinite bound
// leaving the int8 limit; int16 (TFLite's 16x8 scheme, QuantizedReluX<int16_t>) the same
// with the int16 limits. Invariant: the bounds are ordered and do not collapse in the
// output's integer range. Quantized from its calibrated output range; channels pass through
// for pruning. TFLite: RELU (19), RELU6 (21), RELU_N1_TO_1 (20), RELU_0_TO_1 (152); other
// bounds have no builtin and are refused by the writer.
#include "ops/clamp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/add.h"
#include "ops/host_op.h"
#include "ops/mul.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// Same shape in and out (the RELU family).
ir::Node map_unary(OpMapper& m, OpCode op) {
  m.require_arity(1, 1);
  ir::Node n{op, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_shape(out, m.out_label(), in.shape);
  return n;
}

// RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1: a clamp to fixed real bounds.
ir::Node map_relu(OpMapper& m, float lo, float hi) {
  ir::Node n = map_unary(m, OpCode::Clamp);
  n.params = ops::ClampAttrs{lo, hi};
  return n;
}

ir::Node read_relu(OpMapper& m) { return map_relu(m, 0.0f, HUGE_VALF); }
ir::Node read_relu6(OpMapper& m) { return map_relu(m, 0.0f, 6.0f); }
ir::Node read_relu_n1_to_1(OpMapper& m) { return map_relu(m, -1.0f, 1.0f); }
ir::Node read_relu_0_to_1(OpMapper& m) { return map_relu(m, 0.0f, 1.0f); }

void write_unary(tflite_export::ModelBuilder& b, size_t node, tfl::BuiltinOperator builtin,
                 int32_t int8_version) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(builtin, is_int8(b, node) ? int8_version : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs));
}

// Clamp: TFLite has the bounds of its RELU family as builtins.
void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using Builtin = tfl::BuiltinOperator;
  const auto& a = b.graph().nodes[node].params.get<ops::ClampAttrs>();
  const bool unbounded = std::isinf(a.max) && a.max > 0;
  if (a.min == 0.0f && unbounded) return write_unary(b, node, Builtin::RELU, 2);
  if (a.min == 0.0f && a.max == 6.0f) return write_unary(b, node, Builtin::RELU6, 2);
  if (a.min == -1.0f && a.max == 1.0f) return write_unary(b, node, Builtin::RELU_N1_TO_1, 1);
  if (a.min == 0.0f && a.max == 1.0f) return write_unary(b, node, Builtin::RELU_0_TO_1, 1);
  tflite_export::refuse(
      b, node,
      fmt::format("clamp to [{}, {}] has no TFLite builtin; expected [0, inf), [0, 6], "
                  "[-1, 1] or [0, 1]",
                  a.min, a.max));
}

}  // namespace

namespace plan {
namespace {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;
using lowering::same_elements;

// zp + round(v / scale) clamped to the output's range `r`, or its limit for an infinite v.
int32_t quantize_bound(float v, Q q, ClampRange r) {
  if (v == std::numeric_limits<float>::infinity()) return r.max;
  if (v == -std::numeric_limits<float>::infinity()) return r.min;
  const double b = std::round(static_cast<double>(v) / static_cast<double>(q.scale)) + q.zero_point;
  return static_cast<int32_t>(std::min<double>(r.max, std::max<double>(r.min, b)));
}

}  // namespace

LoweredOp lower_Clamp(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  const auto& a = n.params.get<ops::ClampAttrs>();
  const float lo = a.min, hi = a.max;
  if (!(lo <= hi)) refuse(g, node, fmt::format("clamp bounds [{}, {}] are empty or NaN", lo, hi));
  ClampParams p{};
  p.f_min = lo;
  p.f_max = hi;
  const DType type = g.tensors[n.outputs[0]].type;
  if (type != DType::f32) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"),
            qo = per_tensor(g, node, n.outputs[0], "output");
    if (type == DType::i16 && (qi.zero_point != 0 || qo.zero_point != 0))
      refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
    const ClampRange range = activation_range(ir::Activation::none, qo.scale, 0, type);
    const QuantizedMultiplier m =
        quantize_multiplier(static_cast<double>(qi.scale) / static_cast<double>(qo.scale));
    p.input_offset = -qi.zero_point;
    p.output_offset = qo.zero_point;
    p.output_multiplier = m.multiplier;
    p.output_shift = m.shift;
    p.act_min = quantize_bound(lo, qo, range);
    p.act_max = quantize_bound(hi, qo, range);
    if (p.act_min > p.act_max)
      refuse(g, node,
             fmt::format("clamp bounds collapse in the output's {} range", dtype_name(type)));
  }
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float scalar_input(Context& ctx, size_t i, const char* role, float fallback) {
  if (!ctx.has_input(i)) return fallback;
  const Constant& c = ctx.constant_input(i, role);
  if (c.elements() != 1) ctx.fail(fmt::format("{} must be a scalar", role));
  return c.is_float ? c.f[0] : static_cast<float>(c.i[0]);
}

void clamp(Context& ctx, Value& x, float lo, float hi) {
  if (fold_unary(ctx, x, [=](float v) { return std::min(std::max(v, lo), hi); })) return;
  if (try_fuse_activation(ctx, x, lo, hi)) {
    ctx.set_output(0, x);
    return;
  }
  ctx.set_output(0, unary(ctx, OpCode::Clamp, x, ops::ClampAttrs{lo, hi}, ctx.node->output(0)));
}

void convert_Relu(Context& ctx) { clamp(ctx, ctx.input(0), 0.0f, kInf); }

void convert_Clip(Context& ctx) {
  float lo, hi;
  if (ctx.opset < 11) {
    lo = ctx.attr_float("min", -kInf);
    hi = ctx.attr_float("max", kInf);
  } else {
    lo = scalar_input(ctx, 1, "min", -kInf);
    hi = scalar_input(ctx, 2, "max", kInf);
  }
  if (std::isnan(lo) || std::isnan(hi)) ctx.fail("min/max is NaN");
  clamp(ctx, ctx.input(0), lo, hi);
}

// HardSigmoid (ONNX spec): max(0, min(1, alpha * x + beta)); PyTorch's Hardsigmoid exports
// alpha = 1/6. Mul and Add by constants, then the clamp.
void convert_HardSigmoid(Context& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.2f), beta = ctx.attr_float("beta", 0.5f);
  if (!std::isfinite(alpha) || !std::isfinite(beta)) ctx.fail("alpha/beta is not finite");
  const std::string name = ctx.node->output(0);
  Value a = ctx.scalar_value(alpha), b = ctx.scalar_value(beta);
  Value scaled = binary(ctx, OpCode::Mul, ctx.input(0), a, name + "/scaled", ops::MulAttrs{});
  Value shifted = binary(ctx, OpCode::Add, scaled, b, name + "/shifted", ops::AddAttrs{});
  clamp(ctx, shifted, 0.0f, 1.0f);
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

const char* copies_input(const ir::Node& n) {
  const auto& a = n.params.get<ClampAttrs>();
  const bool unbounded = std::isinf(a.min) && a.min < 0 && std::isinf(a.max) && a.max > 0;
  return unbounded ? "clamp without bounds" : nullptr;
}

}  // namespace

const HostOp& host_op_Clamp() {
  using tfl::BuiltinOperator;
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(BuiltinOperator::RELU), "RELU", read_relu},
       {static_cast<int32_t>(BuiltinOperator::RELU6), "RELU6", read_relu6},
       {static_cast<int32_t>(BuiltinOperator::RELU_N1_TO_1), "RELU_N1_TO_1", read_relu_n1_to_1},
       {static_cast<int32_t>(BuiltinOperator::RELU_0_TO_1), "RELU_0_TO_1", read_relu_0_to_1}},
      {{"Relu", onnx_import::convert_Relu, 6},
       {"Clip", onnx_import::convert_Clip, 6},
       {"HardSigmoid", onnx_import::convert_HardSigmoid, 6}},
      write_tflite,
      /*fused_activation=*/nullptr,
      copies_input};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
