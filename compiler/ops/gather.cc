// Gather: everything the compiler knows about it, in one file.
//
// Semantics: TFLite GATHER (36, GatherOptions axis and batch_dims) with batch_dims 0, and
// ONNX Gather: the data's slices along `axis` picked by indices; output dims = data dims
// before the axis, index dims, data dims after it (reference_ops::Gather). Invariants,
// checked at import and lowering: float32, int8 or int16 (TFLite's 16x8 scheme) data
// (per-tensor, shared with the output: values are copied), int32 indices, constant ones inside
// [0, dims[axis]) (ONNX's negative indices are resolved at import), every rank <= 4. ONNX
// indices may be computed at run time (an int64 graph input, ArgMax's indices): the kernel
// gives a slice of zeros for an index outside [0, dims[axis]), a negative one included (ONNX
// would count it from the end), and never reads outside the data. TFLite's run-time indices
// and batch_dims != 0 are refused as unsupported. Quantization keeps the input's parameters;
// channels do not pass through for pruning. ONNX Gather of a constant is evaluated at import (the
// shape arithmetic exporters emit). TFLite version 2 for int8.
#include "ops/gather.h"

#include <fmt/format.h>

#include <cstring>
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

// The output shape, or why data, indices and axis cannot gather.
struct Shaped {
  std::vector<int32_t> shape;
  std::string problem;
};

Shaped gathered_shape(const std::vector<int32_t>& data, const ir::Tensor& indices, int32_t axis) {
  Shaped r;
  const auto rank = static_cast<int32_t>(data.size());
  if (axis < 0 || axis >= rank) {
    r.problem = fmt::format("axis {} is outside [0, {})", axis, rank);
    return r;
  }
  if (indices.type != DType::i32) {
    r.problem = fmt::format("indices are {}; expected int32", dtype_name(indices.type));
    return r;
  }
  for (int64_t i = 0; indices.constant && i < indices.elements(); ++i) {
    const int32_t index = indices.at<int32_t>(i);
    if (index < 0 || index >= data[static_cast<size_t>(axis)]) {
      r.problem = fmt::format("index {} is outside [0, {})", index, data[axis]);
      return r;
    }
  }
  r.shape.assign(data.begin(), data.begin() + axis);
  r.shape.insert(r.shape.end(), indices.shape.begin(), indices.shape.end());
  r.shape.insert(r.shape.end(), data.begin() + axis + 1, data.end());
  if (r.shape.size() > kMaxRank || data.size() > kMaxRank || indices.shape.size() > kMaxRank)
    r.problem =
        fmt::format("the output has rank {}; expected at most {}", r.shape.size(), kMaxRank);
  return r;
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_GatherOptions(), tfl::BuiltinOptions::GatherOptions);
  const ir::Tensor& data = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(data, out, /*int16=*/true);
  m.require_same_quant(data, m.in_label(0), out, m.out_label());
  if (o && o->batch_dims() != 0)
    m.unsupported(fmt::format("batch_dims {} (only 0)", o->batch_dims()));
  const ir::Tensor& indices = m.input(1);
  if (!indices.constant) m.unsupported("indices computed at run time (only constant indices)");
  m.require_type(indices, m.in_label(1), DType::i32);
  const auto rank = static_cast<int32_t>(data.shape.size());
  const int32_t axis = o ? o->axis() : 0;
  const Shaped s = gathered_shape(data.shape, indices, axis < 0 ? axis + rank : axis);
  if (!s.problem.empty()) m.fail(s.problem);
  m.require_shape(out, m.out_label(), s.shape);
  ir::Node n{OpCode::Gather, {}, {}, {}, {}};
  n.params = ops::GatherAttrs{axis < 0 ? axis + rank : axis};
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateGatherOptions(b.fbb(), n.params.get<ops::GatherAttrs>().axis, /*batch_dims=*/0);
  b.add_operator(tfl::BuiltinOperator::GATHER, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::GatherOptions, options.Union());
}

}  // namespace

namespace plan {

LoweredOp lower_Gather(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = g.nodes.at(node);
  const int count = static_cast<int>(g.tensors.size());
  if (n.inputs.size() != 2 || n.outputs.size() != 1)
    refuse(g, node, "expected data and indices in, one output");
  for (int t : {n.inputs[0], n.inputs[1], n.outputs[0]})
    if (t < 0 || t >= count) refuse(g, node, "a tensor is missing or out of range");
  const ir::Tensor& data = g.tensors[n.inputs[0]];
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  if ((out.type != DType::f32 && out.type != DType::i8 && out.type != DType::i16) ||
      data.type != out.type)
    refuse(g, node,
           fmt::format("data is {} and output {}; expected both float32, int8 or int16",
                       dtype_name(data.type), dtype_name(out.type)));
  const int32_t axis = n.params.get<ops::GatherAttrs>().axis;
  const Shaped s = gathered_shape(data.shape, g.tensors[n.inputs[1]], axis);
  if (!s.problem.empty()) refuse(g, node, s.problem);
  if (s.shape != out.shape) refuse(g, node, "output shape is not the gathered shape");
  if (out.type != DType::f32) same_quantization(g, node, "data");
  return lowered(GatherParams{axis}, {n.inputs[0], n.inputs[1]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// Gather of a constant, evaluated here (the shape arithmetic around Reshape).
void fold_gather(Context& ctx, const Constant& d, const std::vector<int64_t>& indices,
                 const Shape& index_shape, int64_t axis) {
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= d.shape[k];
  for (int64_t k = axis + 1; k < static_cast<int64_t>(d.shape.size()); ++k) inner *= d.shape[k];
  const int64_t n = d.shape[axis];
  Constant r;
  r.is_float = d.is_float;
  r.shape.assign(d.shape.begin(), d.shape.begin() + axis);
  r.shape.insert(r.shape.end(), index_shape.begin(), index_shape.end());
  r.shape.insert(r.shape.end(), d.shape.begin() + axis + 1, d.shape.end());
  if (elements_of(r.shape) > kMaxElements) ctx.fail("result too large");
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : indices)
      for (int64_t k = 0; k < inner; ++k) {
        const int64_t src = (o * n + j) * inner + k;
        if (d.is_float)
          r.f.push_back(d.f[src]);
        else
          r.i.push_back(d.i[src]);
      }
  ctx.set_output(0, ctx.constant_value(std::move(r)));
}

// Gather with indices computed at run time: int32 tensors (int64 graph inputs, ArgMax's
// indices), range-checked by the kernel.
void gather_run_time(Context& ctx, Value& data, Value& index_value, int64_t axis) {
  const int indices = ctx.as_onnx(index_value, ctx.node->input(1));
  if (ctx.graph.tensors[static_cast<size_t>(indices)].type != DType::i32)
    ctx.unsupported("float indices computed at run time; expected int64 indices");
  const Shape& index_shape = index_value.shape;
  if (index_shape.empty()) ctx.unsupported("a scalar index computed at run time");
  if (data.shape.size() - 1 + index_shape.size() > kMaxRank)
    ctx.unsupported("an output of rank above 4");
  const int x = ctx.as_onnx(data, ctx.node->input(0));
  Value out;
  out.shape.assign(data.shape.begin(), data.shape.begin() + axis);
  out.shape.insert(out.shape.end(), index_shape.begin(), index_shape.end());
  out.shape.insert(out.shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  out.onnx = ctx.emit(OpCode::Gather, {x, indices}, ctx.ir_shape(out.shape),
                      ops::GatherAttrs{static_cast<int32_t>(axis)}, ctx.node->output(0));
  ctx.set_output(0, std::move(out));
}

void convert_Gather(Context& ctx) {
  Value& data = ctx.input(0);
  if (!ctx.input(1).is_constant()) {
    if (data.shape.empty()) ctx.fail("data is a scalar");
    const int64_t axis =
        normalize_axis(ctx, ctx.attr_int("axis", 0), static_cast<int64_t>(data.shape.size()));
    return gather_run_time(ctx, data, ctx.input(1), axis);
  }
  std::vector<int64_t> indices = ctx.ints_input(1, "indices");
  const Shape index_shape = ctx.constant_input(1, "indices").shape;
  const auto rank = static_cast<int64_t>(data.shape.size());
  if (rank == 0) ctx.fail("data is a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank);
  const int64_t n = data.shape[axis];
  for (int64_t& index : indices) {  // ONNX counts negative indices from the end
    if (index < -n || index >= n)
      ctx.fail(fmt::format("index {} out of range for a dim of {}", index, n));
    if (index < 0) index += n;
  }
  if (data.is_constant())
    return fold_gather(ctx, ctx.constants[data.const_index], indices, index_shape, axis);
  // A scalar index gathers as a one-element list, then the dim is dropped by a free reshape.
  const Shape list_shape = index_shape.empty() ? Shape{1} : index_shape;
  if (static_cast<size_t>(rank) - 1 + list_shape.size() > kMaxRank)
    ctx.unsupported("an output of rank above 4");
  ir::Tensor t;
  t.name = ctx.node->output(0) + "/indices";
  t.type = DType::i32;
  t.shape = ctx.ir_shape(list_shape);
  t.constant = true;
  for (int64_t index : indices) {
    const auto v = static_cast<int32_t>(index);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&v);
    t.data.insert(t.data.end(), bytes, bytes + sizeof v);  // host is little-endian
  }
  const int index_tensor = ctx.graph.add_tensor(std::move(t));
  const int x = ctx.as_onnx(data, ctx.node->input(0));
  auto gathered = [&](const Shape& middle) {
    Shape s(data.shape.begin(), data.shape.begin() + axis);
    s.insert(s.end(), middle.begin(), middle.end());
    s.insert(s.end(), data.shape.begin() + axis + 1, data.shape.end());
    return s;
  };
  const std::string name = ctx.node->output(0);
  Value out;
  out.shape = gathered(index_shape);
  out.onnx = ctx.emit(OpCode::Gather, {x, index_tensor}, ctx.ir_shape(gathered(list_shape)),
                      ops::GatherAttrs{static_cast<int32_t>(axis)},
                      index_shape.empty() ? name + "/list" : name);
  if (index_shape.empty()) out.onnx = ctx.reshape(out.onnx, ctx.ir_shape(out.shape), name);
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Gather() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::GATHER), "GATHER", read_tflite}},
      {{"Gather", onnx_import::convert_Gather, 1}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
