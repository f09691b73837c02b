// Prelu: everything the compiler knows about it, in one file.
//
// Semantics: TFLite PRELU (54, no options): x >= 0 ? x : alpha * x, alpha (input 1, usually a
// constant) broadcast against x with numpy rules up to rank 4; ONNX PRelu maps to it.
// int8 as tflite-micro's CalculatePreluParams (kernels/prelu_common.cc): QuantizeMultiplier
// of s_in / s_out and of s_in * s_alpha / s_out, each in double; offsets -zp_in, -zp_alpha,
// +zp_out (runtime/kernels/reference/prelu.cc). Invariants, checked at import and lowering:
// per-tensor int8 x, alpha and output; shift 1 <= 23 and shift 2 <= 15 (the shifted products
// stay inside int32). Quantized from its calibrated output range; channels do not pass
// through for pruning (alpha would need the same slicing). TFLite version 2 for int8.
#include <fmt/format.h>

#include <string>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/lower_elementwise.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// The int8 parameters for these scales, or why they cannot run.
struct Int8Params {
  PreluParams params{};
  std::string problem;
};

Int8Params int8_params(float s_in, float s_alpha, float s_out) {
  Int8Params r;
  const plan::QuantizedMultiplier m1 =
      plan::quantize_multiplier(static_cast<double>(s_in) / static_cast<double>(s_out));
  const plan::QuantizedMultiplier m2 = plan::quantize_multiplier(
      static_cast<double>(s_in) * static_cast<double>(s_alpha) / static_cast<double>(s_out));
  if (m1.shift > 23 || m2.shift > 15 || m1.shift < -31 || m2.shift < -31)
    r.problem = fmt::format(
        "scales (input {}, alpha {}, output {}) give shifts {} and {}; expected -31..23 and "
        "-31..15",
        s_in, s_alpha, s_out, m1.shift, m2.shift);
  r.params.multiplier_1 = m1.multiplier;
  r.params.shift_1 = m1.shift;
  r.params.multiplier_2 = m2.multiplier;
  r.params.shift_2 = m2.shift;
  return r;
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  tflite_import::require_binary_operands(m);
  const ir::Tensor& x = m.input(0);
  if (x.type == DType::i8) {
    const std::string why =
        int8_params(x.quant.scale.at(0), m.input(1).quant.scale.at(0), m.output().quant.scale.at(0))
            .problem;
    if (!why.empty()) m.unsupported(why);
  }
  return ir::Node{OpCode::Prelu, {}, {}, {}, {}};
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(tfl::BuiltinOperator::PRELU, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs));
}

}  // namespace

namespace plan {

LoweredOp lower_Prelu(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 2, 2);
  const int x = n.inputs[0], alpha = n.inputs[1], out = n.outputs[0];
  elementwise_lowering::require_broadcast_output(g, node, x, alpha, out);
  if (g.tensors[out].type != DType::i8) return lowered(PreluParams{}, {x, alpha});
  const Q qx = per_tensor(g, node, x, "input"), qa = per_tensor(g, node, alpha, "alpha"),
          qo = per_tensor(g, node, out, "output");
  Int8Params r = int8_params(qx.scale, qa.scale, qo.scale);
  if (!r.problem.empty()) refuse(g, node, r.problem);
  r.params.input_offset = -qx.zero_point;
  r.params.alpha_offset = -qa.zero_point;
  r.params.output_offset = qo.zero_point;
  return lowered(r.params, {x, alpha});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// PRelu(X, slope): slope broadcasts against X (unidirectionally; numpy rules here).
void convert_PRelu(Context& ctx) {
  ctx.set_output(
      0, binary(ctx, OpCode::Prelu, ctx.input(0), ctx.input(1), ctx.node->output(0), ir::Params{}));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Prelu() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::PRELU), "PRELU", read_tflite}},
      {{"PRelu", onnx_import::convert_PRelu, 7}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
