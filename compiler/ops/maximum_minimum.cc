// Maximum / Minimum: everything the compiler knows about them, in one file.
//
// Semantics (TFLite MAXIMUM / MINIMUM, kernels/maximum_minimum.cc): elementwise max / min of
// two inputs with numpy broadcasting, on the stored values. Invariant its int8 and int16
// (TFLite's 16x8 scheme) arithmetic assumes, checked at import and at lowering: both inputs
// and the output share one scale and zero point (comparing stored int8 values is then comparing
// real values). The quantizer keeps it so (QuantRule::shared_by_inputs: inputs requantized to the
// output's parameters). Channels do not pass through for pruning (the second operand would need the
// same slicing). TFLite: builtins MAXIMUM (55) and MINIMUM (57), no options, version 2 for int8
// (tools/versioning/op_version.cc). int32 compares plain integers (micro_speech's
// preprocessor clips its int8 features with tf.clip_by_value: MINIMUM then MAXIMUM).
#include <fmt/format.h>

#include <algorithm>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower.h"
#include "plan/lower_checks.h"
#include "plan/plan.h"

namespace tinyforge {
namespace {

constexpr ir::OpTraits kTraits{ir::QuantRule::shared_by_inputs, 0.0f, 0, -1, false,
                               ir::ChannelRule::blocks};

bool same_quantization(const ir::Tensor& a, const ir::Tensor& b) {
  return a.quant.scale == b.quant.scale && a.quant.zero_point == b.quant.zero_point;
}

// --- TFLite import and export ---------------------------------------------------------

template <OpCode Op>
ir::Node read_tflite(tflite_import::OpMapper& m) {
  m.require_arity(2, 2);
  tflite_import::require_binary_operands(m, /*int16=*/true, /*int32=*/true);
  // The kernel compares raw int8 or int16 values: both operands must share the output's
  // quantization.
  m.require_same_quant(m.input(0), m.in_label(0), m.output(), m.out_label());
  m.require_same_quant(m.input(1), m.in_label(1), m.output(), m.out_label());
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

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", g.node_label(node), what));
}

// Broadcast of a's and b's shapes (numpy rules), or refused.
std::vector<int32_t> broadcast_shape(const ir::Graph& g, size_t node, const ir::Tensor& a,
                                     const ir::Tensor& b) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int32_t> shape(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int32_t da = i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
    const int32_t db = i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
    if (da != db && da != 1 && db != 1) refuse(g, node, "input shapes do not broadcast");
    shape[i] = std::max(da, db);
  }
  return shape;
}

plan::LoweredOp lower(ir::Graph& g, size_t node) {
  const ir::Node& n = g.nodes.at(node);
  const int count = static_cast<int>(g.tensors.size());
  if (n.inputs.size() != 2 || n.outputs.size() != 1)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected 2 and 1", n.inputs.size(),
                       n.outputs.size()));
  for (int t : {n.inputs[0], n.inputs[1], n.outputs[0]})
    if (t < 0 || t >= count) refuse(g, node, "a tensor is missing or out of range");
  const ir::Tensor& a = g.tensors[n.inputs[0]];
  const ir::Tensor& b = g.tensors[n.inputs[1]];
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  if (out.type != DType::f32 && out.type != DType::i8 && out.type != DType::i16 &&
      out.type != DType::i32)
    refuse(
        g, node,
        fmt::format("output is {}; expected float32, int8, int16 or int32", dtype_name(out.type)));
  if (a.type != out.type || b.type != out.type)
    refuse(g, node, "inputs and output differ in element type");
  for (const ir::Tensor* t : {&a, &b, &out})
    if (t->shape.size() > kMaxRank) refuse(g, node, fmt::format("'{}' has rank above 4", t->name));
  if (broadcast_shape(g, node, a, b) != out.shape)
    refuse(g, node, "output shape is not the broadcast of the input shapes");
  if (out.type == DType::i8 || out.type == DType::i16) {
    if (out.quant.scale.size() != 1)
      refuse(g, node, fmt::format("output '{}' needs per-tensor quantization", out.name));
    if (!same_quantization(a, out) || !same_quantization(b, out))
      refuse(g, node,
             fmt::format("{} inputs and output are quantized differently; expected one scale "
                         "and zero point for all three",
                         dtype_name(out.type)));
  }
  return plan::lowering::lowered(MaximumMinimumParams{}, {n.inputs[0], n.inputs[1]});
}

}  // namespace

namespace plan {
LoweredOp lower_Maximum(ir::Graph& graph, size_t node) { return lower(graph, node); }
LoweredOp lower_Minimum(ir::Graph& graph, size_t node) { return lower(graph, node); }
}  // namespace plan

// ONNX import: Max and Min (variadic, numpy broadcasting) as chains of the binary op.
namespace onnx_import {
namespace {

void convert_Max(Context& ctx) { ctx.set_output(0, binary_chain(ctx, OpCode::Maximum, {})); }
void convert_Min(Context& ctx) { ctx.set_output(0, binary_chain(ctx, OpCode::Minimum, {})); }

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Maximum() {
  static const HostOp op{kTraits,
                         {{static_cast<int32_t>(tfl::BuiltinOperator::MAXIMUM), "MAXIMUM",
                           read_tflite<OpCode::Maximum>}},
                         {{"Max", onnx_import::convert_Max, 6}},
                         write_tflite<tfl::BuiltinOperator::MAXIMUM>};
  return op;
}

const HostOp& host_op_Minimum() {
  static const HostOp op{kTraits,
                         {{static_cast<int32_t>(tfl::BuiltinOperator::MINIMUM), "MINIMUM",
                           read_tflite<OpCode::Minimum>}},
                         {{"Min", onnx_import::convert_Min, 6}},
                         write_tflite<tfl::BuiltinOperator::MINIMUM>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
