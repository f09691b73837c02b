// HardSwish: everything the compiler knows about it, in one file.
//
// Semantics: TFLite HARD_SWISH, x * relu6(x + 3) / 6 (ONNX HardSwish is the same function).
// int8 parameters as TFLite's HardSwishPrepare (tensorflow/lite/kernels/activations.cc), in
// float: hires input scale = s_in / 128, output multiplier = hires / s_out, reluish
// multiplier = hires / (3 / 32768), each through QuantizeMultiplier and then
// DownScaleInt32ToInt16Multiplier ((m + 2^15) >> 16, or 32767 when that would overflow).
// Invariants, checked at import and lowering: per-tensor int8, the output exponent <= 0 (as
// TFLite requires) and >= -15, the reluish exponent in -15..15 (the kernel's int16 shifts).
// Quantized from its calibrated output range; channels pass through for pruning. TFLite:
// builtin HARD_SWISH (117), version 1.
#include <fmt/format.h>

#include <algorithm>
#include <climits>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

int32_t down_scale_to_int16(int32_t multiplier) {
  constexpr int32_t kRoundingOffset = 1 << 15;
  if (multiplier >= INT32_MAX - kRoundingOffset) return INT16_MAX;
  return (multiplier + kRoundingOffset) >> 16;
}

// The int8 kernel's parameters, or a reason they cannot be run.
struct Fixed {
  HardSwishParams params{};
  std::string problem;
};

Fixed fixed_params(float s_in, int32_t zp_in, float s_out, int32_t zp_out) {
  Fixed f;
  const float hires_input_scale = (1.0f / 128.0f) * s_in;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_multiplier = hires_input_scale / s_out;
  const float reluish_multiplier = hires_input_scale / reluish_scale;
  const plan::QuantizedMultiplier out = plan::quantize_multiplier(output_multiplier);
  const plan::QuantizedMultiplier reluish = plan::quantize_multiplier(reluish_multiplier);
  if (out.shift > 0 || out.shift < -15)
    f.problem =
        fmt::format("input scale {} / 128 / output scale {} has exponent {}; expected -15..0", s_in,
                    s_out, out.shift);
  else if (reluish.shift < -15 || reluish.shift > 15)
    f.problem = fmt::format("input scale {} gives reluish exponent {}; expected -15..15", s_in,
                            reluish.shift);
  f.params.input_zero_point = zp_in;
  f.params.output_zero_point = zp_out;
  f.params.output_multiplier = down_scale_to_int16(out.multiplier);
  f.params.output_exponent = out.shift;
  f.params.reluish_multiplier = down_scale_to_int16(reluish.multiplier);
  f.params.reluish_exponent = reluish.shift;
  return f;
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 1);
  m.options(m.op().builtin_options_as_HardSwishOptions(), tfl::BuiltinOptions::HardSwishOptions);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_shape(out, m.out_label(), in.shape);
  if (in.type == DType::i8) {
    const Fixed f = fixed_params(in.quant.scale[0], static_cast<int32_t>(in.quant.zero_point[0]),
                                 out.quant.scale[0], static_cast<int32_t>(out.quant.zero_point[0]));
    if (!f.problem.empty()) m.fail(f.problem);
  }
  return ir::Node{OpCode::HardSwish, {}, {}, {}, {}};
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(tfl::BuiltinOperator::HARD_SWISH, 1, io_of(b, n.inputs), io_of(b, n.outputs));
}

}  // namespace

namespace plan {

LoweredOp lower_HardSwish(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 1, 1);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  if (g.tensors[n.outputs[0]].type != DType::i8) return lowered(HardSwishParams{}, {n.inputs[0]});
  const Q qi = per_tensor(g, node, n.inputs[0], "input"),
          qo = per_tensor(g, node, n.outputs[0], "output");
  const Fixed f = fixed_params(qi.scale, qi.zero_point, qo.scale, qo.zero_point);
  if (!f.problem.empty()) refuse(g, node, f.problem);
  return lowered(f.params, {n.inputs[0]});
}

}  // namespace plan

namespace onnx_import {
namespace {

// ONNX HardSwish (opset 14): x * max(0, min(1, x / 6 + 1 / 2)), the same function.
void convert_HardSwish(Context& ctx) {
  Value& x = ctx.input(0);
  if (fold_unary(ctx, x, [](float v) { return v * std::min(6.0f, std::max(0.0f, v + 3)) / 6; }))
    return;
  ctx.set_output(0, unary(ctx, OpCode::HardSwish, x, ir::Params{}, ctx.node->output(0)));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_HardSwish() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::elementwise},
      {{static_cast<int32_t>(tfl::BuiltinOperator::HARD_SWISH), "HARD_SWISH", read_tflite}},
      {{"HardSwish", onnx_import::convert_HardSwish, 14}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
