// Prelu: everything the compiler knows about it, in one file.
//
// Semantics: TFLite PRELU (54, no options): x >= 0 ? x : alpha * x, alpha (input 1, usually a
// constant) broadcast against x with numpy rules up to rank 4; ONNX PRelu maps to it.
// int8 as tflite-micro's CalculatePreluParams (kernels/prelu_common.cc): QuantizeMultiplier
// of s_in / s_out and of s_in * s_alpha / s_out, each in double; offsets -zp_in, -zp_alpha,
// +zp_out (runtime/kernels/reference/prelu.cc). Invariants, checked at import and lowering:
// per-tensor int8 x, alpha and output; shift 1 <= 23 and shift 2 <= 15 (the shifted products
// stay inside int32). int16 (TFLite's 16x8 scheme, tflite-micro's PRELU on int16: its
// Prepare requires an int8 alpha): x and output int16 with zero points 0, alpha int8, the
// same multipliers with shift 1 <= 15 and shift 2 <= 8. Quantized from its calibrated output
// range; channels do not pass through for pruning (alpha would need the same slicing).
// TFLite version 2 for int8; 16x8 nodes are not exported.
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

// The int8 or int16 parameters for these scales, or why they cannot run.
struct IntegerParams {
  PreluParams params{};
  std::string problem;
};

IntegerParams integer_params(float s_in, float s_alpha, float s_out, DType type = DType::i8) {
  IntegerParams r;
  const int most_1 = type == DType::i16 ? 15 : 23, most_2 = type == DType::i16 ? 8 : 15;
  const plan::QuantizedMultiplier m1 =
      plan::quantize_multiplier(static_cast<double>(s_in) / static_cast<double>(s_out));
  const plan::QuantizedMultiplier m2 = plan::quantize_multiplier(
      static_cast<double>(s_in) * static_cast<double>(s_alpha) / static_cast<double>(s_out));
  if (m1.shift > most_1 || m2.shift > most_2 || m1.shift < -31 || m2.shift < -31)
    r.problem = fmt::format(
        "scales (input {}, alpha {}, output {}) give shifts {} and {}; expected -31..{} and "
        "-31..{}",
        s_in, s_alpha, s_out, m1.shift, m2.shift, most_1, most_2);
  r.params.multiplier_1 = m1.multiplier;
  r.params.shift_1 = m1.shift;
  r.params.multiplier_2 = m2.multiplier;
  r.params.shift_2 = m2.shift;
  return r;
}

// The 16x8 form: int16 x and output (zero points 0), int8 alpha per tensor, shapes that
// broadcast, scales the int16 arithmetic can run.
void read_int16(OpMapper& m) {
  const ir::Tensor& x = m.input(0);
  const ir::Tensor& alpha = m.input(1);
  const ir::Tensor& out = m.output();
  m.require_activation_types(x, out, /*int16=*/true);
  m.require_type(alpha, m.in_label(1), DType::i8);
  m.require_per_tensor(alpha, m.in_label(1));
  tflite_import::require_broadcast(m, x, alpha, out);
  m.require_int16_zero_points(x, out);
  const std::string why = integer_params(x.quant.scale.at(0), alpha.quant.scale.at(0),
                                         out.quant.scale.at(0), DType::i16)
                              .problem;
  if (!why.empty()) m.unsupported(why);
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  if (m.input(0).type == DType::i16) {
    read_int16(m);
    return ir::Node{OpCode::Prelu, {}, {}, {}, {}};
  }
  tflite_import::require_binary_operands(m);
  const ir::Tensor& x = m.input(0);
  if (x.type == DType::i8) {
    const std::string why = integer_params(x.quant.scale.at(0), m.input(1).quant.scale.at(0),
                                           m.output().quant.scale.at(0))
                                .problem;
    if (!why.empty()) m.unsupported(why);
  }
  return ir::Node{OpCode::Prelu, {}, {}, {}, {}};
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(tfl::BuiltinOperator::PRELU, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs));
}

}  // namespace

namespace plan {

LoweredOp lower_Prelu(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& first = g.nodes.at(node);
  const auto type_of = [&g](int t) {
    return t >= 0 && static_cast<size_t>(t) < g.tensors.size() ? g.tensors[t].type : DType::f32;
  };
  // The 16x8 form's int8 alpha differs from its int16 output's type, which `checked` refuses:
  // that form's arity, dtypes and ranks are checked here instead.
  const bool int16 = first.inputs.size() == 2 && first.outputs.size() == 1 &&
                     type_of(first.outputs[0]) == DType::i16;
  if (int16) {
    if (type_of(first.inputs[0]) != DType::i16 || type_of(first.inputs[1]) != DType::i8)
      refuse(g, node, "int16 Prelu takes an int16 input and an int8 alpha (tflite-micro's 16x8)");
    for (int t : {first.inputs[0], first.inputs[1], first.outputs[0]})
      if (g.tensors[t].shape.size() > kMaxRank) refuse(g, node, "rank above 4");
  }
  const ir::Node& n = int16 ? first : checked(g, node, 2, 2);
  const int x = n.inputs[0], alpha = n.inputs[1], out = n.outputs[0];
  elementwise_lowering::require_broadcast_output(g, node, x, alpha, out);
  const DType type = g.tensors[out].type;
  if (type == DType::f32) return lowered(PreluParams{}, {x, alpha});
  const Q qx = per_tensor(g, node, x, "input"), qa = per_tensor(g, node, alpha, "alpha"),
          qo = per_tensor(g, node, out, "output");
  if (int16 && (qx.zero_point != 0 || qo.zero_point != 0))
    refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
  IntegerParams r = integer_params(qx.scale, qa.scale, qo.scale, type);
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
