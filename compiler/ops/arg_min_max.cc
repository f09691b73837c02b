// ArgMax / ArgMin: everything the compiler knows about them, in one file.
//
// Semantics: TFLite ARG_MAX (56) / ARG_MIN (79) and ONNX ArgMax / ArgMin: the index along one
// constant axis of the first largest (smallest) value (reference_ops::ArgMinMax, strict
// compare); ONNX's select_last_index takes the last. Invariants, checked at import and
// lowering: float32 or int8 input (int8 compares stored values: any per-tensor quantization,
// the scale being positive), int32 output of the input's dims without the axis (TFLite, ONNX
// keepdims 0) or with it kept as 1 (ONNX keepdims 1), rank <= 4. TFLite's INT64 output
// (output_type INT64, its converter's default) and ONNX's int64 indices are stored as int32:
// an index is below a dim, which fits. The output is not quantized, so the quantizer refuses
// a float model using the op (its output is not float32). TFLite version 2 for int8
// (tools/versioning/op_version.cc).
#include "ops/arg_min_max.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// The output dims for `in` reduced along `axis`: without it, or with it kept as 1.
std::vector<int32_t> reduced_shape(const std::vector<int32_t>& in, int32_t axis, bool keep) {
  std::vector<int32_t> out = in;
  if (keep)
    out[static_cast<size_t>(axis)] = 1;
  else
    out.erase(out.begin() + axis);
  return out;
}

// Why the op cannot run on `in` -> `out` along `axis`, or "".
std::string problem(const ir::Tensor& in, const ir::Tensor& out, int32_t axis) {
  const auto rank = static_cast<int32_t>(in.shape.size());
  if (in.type != DType::f32 && in.type != DType::i8)
    return fmt::format("input is {}; expected float32 or int8", dtype_name(in.type));
  if (out.type != DType::i32)
    return fmt::format("output is {}; expected int32 (or INT64, stored as int32)",
                       dtype_name(out.type));
  if (rank < 1 || rank > static_cast<int32_t>(kMaxRank))
    return fmt::format("input has rank {}; expected 1 to {}", rank, kMaxRank);
  if (axis < 0 || axis >= rank) return fmt::format("axis {} is outside [0, {})", axis, rank);
  if (out.shape != reduced_shape(in.shape, axis, false) &&
      out.shape != reduced_shape(in.shape, axis, true))
    return fmt::format("output has shape {}; expected the input's {} without axis {}",
                       tflite_import::shape_string(out.shape),
                       tflite_import::shape_string(in.shape), axis);
  return "";
}

// --- TFLite import and export ---------------------------------------------------------

template <OpCode Op>
ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  if (in.type == DType::i8) m.require_per_tensor(in, m.in_label(0));
  if (in.type != DType::f32 && in.type != DType::i8)
    m.unsupported(
        fmt::format("{} is {}; expected float32 or int8", m.in_label(0), dtype_name(in.type)));
  const int32_t raw_axis = tflite_import::constant_ints(m, 1, 1).at(0);
  const auto rank = static_cast<int32_t>(in.shape.size());
  const int32_t axis = raw_axis < 0 ? raw_axis + rank : raw_axis;
  const std::string why = problem(in, out, axis);
  if (!why.empty()) m.fail(why);
  ir::Node n{Op, {m.input_index(0)}, {}, {}, {}};  // the axis operand lives in the params
  n.params = ops::ArgMinMaxAttrs{axis, false};
  return n;
}

template <OpCode Op>
void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::ArgMinMaxAttrs>();
  if (a.select_last_index) refuse(b, node, "TFLite has no select_last_index");
  if (out_tensor(b, node).shape.size() == in_tensor(b, node, 0).shape.size())
    refuse(b, node, "TFLite's output drops the axis; this node keeps it");
  const int32_t axis = b.constant_i32(out_tensor(b, node).name + "/axis", {1}, {a.axis});
  const int version = is_int8(b, node) ? 2 : 1;
  const std::vector<int32_t> inputs{b.tensor(n.inputs[0]), axis};
  if (Op == OpCode::ArgMax)
    b.add_operator(tfl::BuiltinOperator::ARG_MAX, version, inputs, io_of(b, n.outputs),
                   tfl::BuiltinOptions::ArgMaxOptions,
                   tfl::CreateArgMaxOptions(b.fbb(), tfl::TensorType::INT32).Union());
  else
    b.add_operator(tfl::BuiltinOperator::ARG_MIN, version, inputs, io_of(b, n.outputs),
                   tfl::BuiltinOptions::ArgMinOptions,
                   tfl::CreateArgMinOptions(b.fbb(), tfl::TensorType::INT32).Union());
}

// --- lowering -------------------------------------------------------------------------

plan::LoweredOp lower(ir::Graph& g, size_t node) {
  using namespace plan::lowering;
  const ir::Node& n = g.nodes.at(node);
  const int count = static_cast<int>(g.tensors.size());
  if (n.inputs.size() != 1 || n.outputs.size() != 1)
    refuse(g, node, "expected one input and one output");
  for (int t : {n.inputs[0], n.outputs[0]})
    if (t < 0 || t >= count) refuse(g, node, "a tensor is missing or out of range");
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const auto& a = n.params.get<ops::ArgMinMaxAttrs>();
  const std::string why = problem(in, g.tensors[n.outputs[0]], a.axis);
  if (!why.empty()) refuse(g, node, why);
  if (in.type == DType::i8) per_tensor(g, node, n.inputs[0], "input");
  return lowered(ArgMinMaxParams{a.axis, a.select_last_index ? 1 : 0}, {n.inputs[0]});
}

void describe(const ir::Node& n, nlohmann::json& out) {
  const auto& a = n.params.get<ops::ArgMinMaxAttrs>();
  out["axis"] = a.axis;
  if (a.select_last_index) out["select_last_index"] = true;
}

}  // namespace

namespace plan {
LoweredOp lower_ArgMax(ir::Graph& g, size_t node) { return lower(g, node); }
LoweredOp lower_ArgMin(ir::Graph& g, size_t node) { return lower(g, node); }
}  // namespace plan

// ONNX import: ArgMax / ArgMin (axis, keepdims, select_last_index from opset 12).
namespace onnx_import {
namespace {

template <OpCode Op>
void convert_arg(Context& ctx) {
  Value& data = ctx.input(0);
  if (data.is_constant()) ctx.unsupported("ArgMax / ArgMin of a constant");
  const auto rank = static_cast<int64_t>(data.shape.size());
  if (rank < 1 || rank > static_cast<int64_t>(kMaxRank))
    ctx.unsupported(fmt::format("input of rank {} (1 to {})", rank, kMaxRank));
  const auto axis = static_cast<int32_t>(normalize_axis(ctx, ctx.attr_int("axis", 0), rank));
  const bool keep = ctx.attr_int("keepdims", 1) != 0;
  const bool last = ctx.attr_int("select_last_index", 0) != 0;
  const int x = ctx.as_onnx(data, ctx.node->input(0));
  Value out;
  out.shape = data.shape;
  if (keep)
    out.shape[static_cast<size_t>(axis)] = 1;
  else
    out.shape.erase(out.shape.begin() + axis);
  out.onnx = ctx.emit(Op, {x}, ctx.ir_shape(out.shape), ops::ArgMinMaxAttrs{axis, last},
                      ctx.node->output(0));
  ctx.graph.tensors[static_cast<size_t>(out.onnx)].type = DType::i32;  // ONNX's int64 indices
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_ArgMax() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::not_quantized, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::ARG_MAX), "ARG_MAX",
        read_tflite<OpCode::ArgMax>}},
      {{"ArgMax", onnx_import::convert_arg<OpCode::ArgMax>, 1}},
      write_tflite<OpCode::ArgMax>,
      nullptr,
      nullptr,
      nullptr,
      describe};
  return op;
}

const HostOp& host_op_ArgMin() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::not_quantized, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::ARG_MIN), "ARG_MIN",
        read_tflite<OpCode::ArgMin>}},
      {{"ArgMin", onnx_import::convert_arg<OpCode::ArgMin>, 1}},
      write_tflite<OpCode::ArgMin>,
      nullptr,
      nullptr,
      nullptr,
      describe};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
