// Div: everything the compiler knows about it, in one file.
//
// Semantics: TFLite DIV (42, DivOptions with a fused activation): in0 / in1 with numpy
// broadcasting up to rank 4; ONNX Div by a run-time divisor (a constant divisor becomes a
// Mul by its reciprocal, mul.cc). float32 only: int8 DIV (TFLite's reference_ops::Div for
// int8, a fixed-point reciprocal of the divisor per element) is not implemented and is
// refused at import, where `inspect` lists it. Quantized from the calibrated output range
// (the quantizer leaves a node in float when lowering refuses its int8 form); channels do
// not pass through for pruning.
#include "ops/div.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

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

constexpr const char* kNoInt8 =
    "int8 DIV is not implemented (TFLite's per-element fixed-point reciprocal is not ported); "
    "keep the op in float32";

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_DivOptions(), tfl::BuiltinOptions::DivOptions);
  tflite_import::require_binary_operands(m);
  if (m.input(0).type == DType::i8) m.unsupported(kNoInt8);
  ir::Node n{OpCode::Div, {}, {}, {}, {}};
  ops::DivAttrs params;
  if (o) params.activation = m.activation(o->fused_activation_function());
  n.params = params;
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateDivOptions(b.fbb(), activation(n.params.get<ops::DivAttrs>().activation));
  b.add_operator(tfl::BuiltinOperator::DIV, 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 tfl::BuiltinOptions::DivOptions, options.Union());
}

}  // namespace

namespace plan {

LoweredOp lower_Div(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 2, 2);
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  elementwise_lowering::require_broadcast_output(g, node, a, b, out);
  if (g.tensors[out].type != DType::f32) refuse(g, node, kNoInt8);
  const FloatRange r = activation_range_float(n.params.get<ops::DivAttrs>().activation);
  DivParams p{};
  p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
  p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  return lowered(p, {a, b});
}

}  // namespace plan

namespace ops {

const HostOp& host_op_Div() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::DIV), "DIV", read_tflite}},
      /*onnx_reads=*/{},
      write_tflite,
      activation_field<DivAttrs>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
