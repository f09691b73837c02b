// LeakyRelu: everything the compiler knows about it, in one file.
//
// Semantics: TFLite LEAKY_RELU (x > 0 ? x : alpha * x), ONNX LeakyRelu maps to it.
// int8 as TFLite's LeakyReluPrepare
// (tensorflow/lite/kernels/activations.cc) and reference QuantizeLeakyRelu: two
// QuantizeMultiplier results, alpha = s_in * alpha / s_out and identity = s_in / s_out,
// each computed in float (as TFLite's float expressions) before the conversion to double.
// int16 (TFLite's 16x8 scheme, QuantizeLeakyRelu<int16_t>): the same multipliers, zero
// points 0. Invariants, checked at import and at lowering: alpha is finite, and both real
// multipliers are below 2^22 for int8 and 2^15 for int16 (so v * 2^shift stays inside int32
// for |v| <= 255 or 32768), int16 zero points are 0. Quantized from its calibrated output
// range; channels pass through for pruning. TFLite: builtin LEAKY_RELU (98) with
// LeakyReluOptions, version 2 for int8; 16x8 nodes are not exported.
#include "ops/leaky_relu.h"

#include <fmt/format.h>

#include <cmath>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// The bound on both real multipliers for int8 (2^22) and int16 (2^15) values.
double max_multiplier(DType type) { return type == DType::i16 ? 32768.0 : 4194304.0; }

struct Multipliers {
  double identity, alpha;
};

// In float, as TFLite's Prepare computes them.
Multipliers real_multipliers(float s_in, float s_out, float alpha) {
  const float identity = s_in / s_out;
  const float scaled_alpha = s_in * alpha / s_out;
  return {static_cast<double>(identity), static_cast<double>(scaled_alpha)};
}

// Empty when the integer arithmetic of `type` can run these parameters, else what is wrong.
std::string problem(float alpha, float s_in, float s_out, DType type) {
  if (!std::isfinite(alpha)) return fmt::format("alpha is {}; expected a finite value", alpha);
  if (s_in <= 0.0f || s_out <= 0.0f) return {};  // lowering names the bad scale
  const Multipliers m = real_multipliers(s_in, s_out, alpha);
  const double most = max_multiplier(type);
  if (!(std::fabs(m.identity) < most) || !(std::fabs(m.alpha) < most))
    return fmt::format("input scale {} / output scale {} (alpha {}) rescales by 2^{} or more", s_in,
                       s_out, alpha, type == DType::i16 ? 15 : 22);
  return {};
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 1);
  const auto* o = m.options(m.op().builtin_options_as_LeakyReluOptions(),
                            tfl::BuiltinOptions::LeakyReluOptions);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_shape(out, m.out_label(), in.shape);
  m.require_int16_zero_points(in, out);
  ops::LeakyReluOptions params;
  params.alpha = o ? o->alpha() : 0.0f;  // the schema's default
  const std::string why =
      in.type != DType::f32 ? problem(params.alpha, in.quant.scale[0], out.quant.scale[0], in.type)
                            : problem(params.alpha, 1.0f, 1.0f, in.type);
  if (!why.empty()) m.fail(why);
  ir::Node n{OpCode::LeakyRelu, {}, {}, {}, {}};
  n.params = params;
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateLeakyReluOptions(b.fbb(), n.params.get<ops::LeakyReluOptions>().alpha);
  b.add_operator(tfl::BuiltinOperator::LEAKY_RELU, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::LeakyReluOptions, options.Union());
}

}  // namespace

namespace plan {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;
using lowering::same_elements;

LoweredOp lower_LeakyRelu(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  const float alpha = n.params.get<ops::LeakyReluOptions>().alpha;
  LeakyReluParams p{};
  p.f_alpha = alpha;
  const DType type = g.tensors[n.outputs[0]].type;
  if (type == DType::f32) {
    const std::string why = problem(alpha, 1.0f, 1.0f, type);
    if (!why.empty()) refuse(g, node, why);
    return lowered(p, {n.inputs[0]});
  }
  const Q qi = per_tensor(g, node, n.inputs[0], "input"),
          qo = per_tensor(g, node, n.outputs[0], "output");
  if (type == DType::i16 && (qi.zero_point != 0 || qo.zero_point != 0))
    refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
  const std::string why = problem(alpha, qi.scale, qo.scale, type);
  if (!why.empty()) refuse(g, node, why);
  const Multipliers real = real_multipliers(qi.scale, qo.scale, alpha);
  const QuantizedMultiplier identity = quantize_multiplier(real.identity);
  const QuantizedMultiplier scaled_alpha = quantize_multiplier(real.alpha);
  p.input_offset = -qi.zero_point;
  p.output_offset = qo.zero_point;
  p.identity_multiplier = identity.multiplier;
  p.identity_shift = identity.shift;
  p.alpha_multiplier = scaled_alpha.multiplier;
  p.alpha_shift = scaled_alpha.shift;
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_LeakyRelu(Context& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.01f);
  if (!std::isfinite(alpha)) ctx.fail(fmt::format("alpha is {}; expected a finite value", alpha));
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [alpha](float v) { return v > 0 ? v : v * alpha; })) return;
  ctx.set_output(
      0, unary(ctx, OpCode::LeakyRelu, x, ops::LeakyReluOptions{alpha}, ctx.node->output(0)));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_LeakyRelu() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(tfl::BuiltinOperator::LEAKY_RELU), "LEAKY_RELU", read_tflite}},
      {{"LeakyRelu", onnx_import::convert_LeakyRelu, 6}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
