// Split, Unpack and Pack: everything the compiler knows about them, in one file.
//
// Semantics: Split cuts its input along one axis into 1..8 outputs in order (TFLite SPLIT:
// equal pieces; SPLIT_V: constant sizes, one of them may be -1 for the rest); Unpack cuts it
// into its dims[axis] slices with that dim dropped (TFLite UNPACK); Pack stacks 1..8 inputs of
// one shape along a new output axis (TFLite PACK). Invariants, checked at import and
// lowering: rank <= 4 (the inputs' and outputs'), an axis in range (negative counts from the
// end, as TFLite), shapes as the op defines them, no empty piece, and int8 (or int16,
// TFLite's 16x8 scheme) outputs quantized as the input(s) (values are only copied; TFLite's kernels
// require it). Quantization: Split and Unpack keep the input's parameters for every output; Pack's
// inputs are requantized to the output's (as Concatenation). Channels do not pass through for
// pruning. TFLite: SPLIT (49, SplitOptions; operands axis then input), SPLIT_V (102, SplitVOptions;
// operands input, size_splits, axis), UNPACK (88, UnpackOptions) and PACK (83, PackOptions),
// version 2 for int8. A Split of equal pieces is written as SPLIT, else as SPLIT_V.
#include "ops/split_pack.h"

#include <fmt/format.h>

#include <numeric>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

// `axis` of a rank-`rank` shape made non-negative, or -1 when out of range.
int normalized_axis(int64_t axis, size_t rank) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) return -1;
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

// --- TFLite import ------------------------------------------------------------------------

// A float32, int8 or int16 (TFLite's 16x8 scheme) tensor with one scale, of rank 1..4.
void require_sliceable(OpMapper& m, const ir::Tensor& t, const std::string& label) {
  if (t.type != DType::f32 && t.type != DType::i8 && t.type != DType::i16)
    m.unsupported(
        fmt::format("{} is {}; expected float32, int8 or int16", label, dtype_name(t.type)));
  m.require_per_tensor(t, label);
  if (t.shape.empty() || t.shape.size() > kMaxRank)
    m.fail(fmt::format("{} has shape {}; expected rank 1 to 4", label, shape_string(t.shape)));
}

// `b` (label lb) has the type and quantization of `a` (label la).
void require_copy_of(OpMapper& m, const ir::Tensor& a, const std::string& la, const ir::Tensor& b,
                     const std::string& lb) {
  m.require_type(b, lb, a.type);
  m.require_per_tensor(b, lb);
  m.require_same_quant(a, la, b, lb);
}

// The Split node of input operand `data` cut along `axis` into outputs of `sizes` extents.
ir::Node finish_split(OpMapper& m, size_t data, int axis, const std::vector<int32_t>& sizes) {
  const ir::Tensor& in = m.input(data);
  for (size_t k = 0; k < m.num_outputs(); ++k) {
    const ir::Tensor& out = m.output(k);
    require_copy_of(m, in, m.in_label(data), out, m.out_label(k));
    std::vector<int32_t> expected = in.shape;
    expected[static_cast<size_t>(axis)] = sizes[k];
    m.require_shape(out, m.out_label(k), expected);
  }
  ir::Node n{OpCode::Split, {m.input_index(data)}, {}, {}, {}};
  n.params = ops::SplitAttrs{axis};
  return n;
}

// The axis operand `i` (a constant int32 scalar) for input `in`, checked.
int axis_operand(OpMapper& m, size_t i, const ir::Tensor& in) {
  const int32_t raw = tflite_import::constant_ints(m, i, 1)[0];
  const int axis = normalized_axis(raw, in.shape.size());
  if (axis < 0)
    m.fail(fmt::format("axis {} is out of range for an input of rank {}", raw, in.shape.size()));
  return axis;
}

// SPLIT: operands axis, input; num_splits equal pieces.
ir::Node read_split(OpMapper& m) {
  m.require_arity(2, 2, kMaxOpOutputs);
  const auto* o =
      m.options(m.op().builtin_options_as_SplitOptions(), tfl::BuiltinOptions::SplitOptions);
  const ir::Tensor& in = m.input(1);
  require_sliceable(m, in, m.in_label(1));
  const int axis = axis_operand(m, 0, in);
  const auto n = static_cast<int32_t>(m.num_outputs());
  if (o && o->num_splits() != n)
    m.fail(fmt::format("num_splits is {}; the op has {} outputs", o->num_splits(), n));
  const int32_t dim = in.shape[static_cast<size_t>(axis)];
  if (dim % n != 0)
    m.fail(fmt::format("axis {} has {} elements, not a multiple of the {} outputs", axis, dim, n));
  return finish_split(m, 1, axis, std::vector<int32_t>(static_cast<size_t>(n), dim / n));
}

// SPLIT_V: operands input, size_splits (one entry may be -1: the rest), axis.
ir::Node read_split_v(OpMapper& m) {
  m.require_arity(3, 3, kMaxOpOutputs);
  const auto* o =
      m.options(m.op().builtin_options_as_SplitVOptions(), tfl::BuiltinOptions::SplitVOptions);
  const ir::Tensor& in = m.input(0);
  require_sliceable(m, in, m.in_label(0));
  const int axis = axis_operand(m, 2, in);
  const auto n = static_cast<int32_t>(m.num_outputs());
  if (o && o->num_splits() != n)
    m.fail(fmt::format("num_splits is {}; the op has {} outputs", o->num_splits(), n));
  std::vector<int32_t> sizes = tflite_import::constant_ints(m, 1, n);
  const int32_t dim = in.shape[static_cast<size_t>(axis)];
  int64_t known = 0;
  int rest = -1;
  for (size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] == -1 && rest < 0) {
      rest = static_cast<int>(k);
    } else if (sizes[k] < 1) {
      m.fail(
          fmt::format("size_splits[{}] is {}; expected at least 1 (or one entry -1)", k, sizes[k]));
    } else {
      known += sizes[k];
    }
  }
  if (rest >= 0) {
    if (known >= dim)
      m.fail(fmt::format("size_splits leave nothing of the {} elements for the -1 entry", dim));
    sizes[static_cast<size_t>(rest)] = static_cast<int32_t>(dim - known);
  } else if (known != dim) {
    m.fail(fmt::format("size_splits sum to {}; axis {} has {} elements", known, axis, dim));
  }
  return finish_split(m, 0, axis, sizes);
}

ir::Node read_unpack(OpMapper& m) {
  m.require_arity(1, 1, kMaxOpOutputs);
  const auto* o =
      m.options(m.op().builtin_options_as_UnpackOptions(), tfl::BuiltinOptions::UnpackOptions);
  if (!o) m.fail("UnpackOptions missing; expected num and axis");
  const ir::Tensor& in = m.input(0);
  require_sliceable(m, in, m.in_label(0));
  const int axis = normalized_axis(o->axis(), in.shape.size());
  if (axis < 0)
    m.fail(
        fmt::format("axis {} is out of range for an input of rank {}", o->axis(), in.shape.size()));
  const int32_t dim = in.shape[static_cast<size_t>(axis)];
  if (o->num() != dim || static_cast<int32_t>(m.num_outputs()) != dim)
    m.fail(fmt::format("num is {} and the op has {} outputs; axis {} has {} elements", o->num(),
                       m.num_outputs(), axis, dim));
  std::vector<int32_t> expected = in.shape;
  expected.erase(expected.begin() + axis);
  for (size_t k = 0; k < m.num_outputs(); ++k) {
    const ir::Tensor& out = m.output(k);
    require_copy_of(m, in, m.in_label(0), out, m.out_label(k));
    m.require_shape(out, m.out_label(k), expected);
  }
  ir::Node n{OpCode::Unpack, {m.input_index(0)}, {}, {}, {}};
  n.params = ops::SplitAttrs{axis};
  return n;
}

ir::Node read_pack(OpMapper& m) {
  m.require_arity(1, kMaxOpInputs);
  const auto* o =
      m.options(m.op().builtin_options_as_PackOptions(), tfl::BuiltinOptions::PackOptions);
  if (!o) m.fail("PackOptions missing; expected values_count and axis");
  const ir::Tensor& out = m.output();
  require_sliceable(m, out, m.out_label());
  const auto n = static_cast<int32_t>(m.num_inputs());
  if (o->values_count() != n)
    m.fail(fmt::format("values_count is {}; the op has {} inputs", o->values_count(), n));
  const int axis = normalized_axis(o->axis(), out.shape.size());
  if (axis < 0)
    m.fail(fmt::format("axis {} is out of range for an output of rank {}", o->axis(),
                       out.shape.size()));
  if (out.shape[static_cast<size_t>(axis)] != n)
    m.fail(fmt::format("{} has {} along axis {}; expected the {} inputs", m.out_label(),
                       out.shape[static_cast<size_t>(axis)], axis, n));
  std::vector<int32_t> expected = out.shape;
  expected.erase(expected.begin() + axis);
  for (size_t i = 0; i < m.num_inputs(); ++i) {
    const ir::Tensor& in = m.input(i);
    require_copy_of(m, out, m.out_label(), in, m.in_label(i));
    m.require_shape(in, m.in_label(i), expected);
  }
  ir::Node node{OpCode::Pack, {}, {}, {}, {}};
  node.params = ops::PackAttrs{axis};
  return node;
}

// --- TFLite export ------------------------------------------------------------------------

int32_t version(tflite_export::ModelBuilder& b, size_t node) {
  tflite_export::refuse_int16x8(b, node);
  return tflite_export::is_int8(b, node) ? 2 : 1;
}

void write_split(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const int axis = n.params.get<ops::SplitAttrs>().axis;
  const std::string& name = out_tensor(b, node).name;
  std::vector<int32_t> sizes;
  for (int t : n.outputs)
    sizes.push_back(b.graph().tensors[static_cast<size_t>(t)].shape.at(static_cast<size_t>(axis)));
  const auto count = static_cast<int32_t>(sizes.size());
  const int32_t axis_t = b.constant_i32(name + "/axis", {}, {axis});
  if (std::all_of(sizes.begin(), sizes.end(), [&](int32_t s) { return s == sizes[0]; })) {
    b.add_operator(tfl::BuiltinOperator::SPLIT, version(b, node), {axis_t, b.tensor(n.inputs[0])},
                   io_of(b, n.outputs), tfl::BuiltinOptions::SplitOptions,
                   tfl::CreateSplitOptions(b.fbb(), count).Union());
    return;
  }
  const int32_t sizes_t = b.constant_i32(name + "/size_splits", {count}, sizes);
  b.add_operator(tfl::BuiltinOperator::SPLIT_V, version(b, node),
                 {b.tensor(n.inputs[0]), sizes_t, axis_t}, io_of(b, n.outputs),
                 tfl::BuiltinOptions::SplitVOptions,
                 tfl::CreateSplitVOptions(b.fbb(), count).Union());
}

void write_unpack(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto count = static_cast<int32_t>(n.outputs.size());
  b.add_operator(
      tfl::BuiltinOperator::UNPACK, version(b, node), io_of(b, n.inputs), io_of(b, n.outputs),
      tfl::BuiltinOptions::UnpackOptions,
      tfl::CreateUnpackOptions(b.fbb(), count, n.params.get<ops::SplitAttrs>().axis).Union());
}

void write_pack(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto count = static_cast<int32_t>(n.inputs.size());
  b.add_operator(
      tfl::BuiltinOperator::PACK, version(b, node), io_of(b, n.inputs), io_of(b, n.outputs),
      tfl::BuiltinOptions::PackOptions,
      tfl::CreatePackOptions(b.fbb(), count, n.params.get<ops::PackAttrs>().axis).Union());
}

}  // namespace

// --- Lowering -----------------------------------------------------------------------------

namespace plan {
namespace {

using namespace lowering;

// int8 or int16: tensor t is quantized as tensor `like` (both per tensor).
void require_same_quant(const ir::Graph& g, size_t node, int like, int t) {
  if (g.tensors[like].type == DType::f32) return;
  const Q a = per_tensor(g, node, like, "tensor"), b = per_tensor(g, node, t, "tensor");
  if (a.scale != b.scale || a.zero_point != b.zero_point)
    refuse(g, node,
           fmt::format("{} '{}' is quantized differently from '{}'; expected the same",
                       dtype_name(g.tensors[t].type), g.tensors[t].name, g.tensors[like].name));
}

// `shape` without dim `axis`.
std::vector<int32_t> dropped(std::vector<int32_t> shape, int axis) {
  shape.erase(shape.begin() + axis);
  return shape;
}

}  // namespace

LoweredOp lower_Split(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, kMaxOpOutputs, /*int16=*/true);
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const int axis = n.params.get<ops::SplitAttrs>().axis;
  if (axis < 0 || axis >= static_cast<int>(in.shape.size()))
    refuse(g, node, fmt::format("axis {} out of range for rank {}", axis, in.shape.size()));
  int64_t total = 0;
  for (int t : n.outputs) {
    const ir::Tensor& out = g.tensors[t];
    std::vector<int32_t> expected = in.shape;
    if (out.shape.size() == in.shape.size()) expected[axis] = out.shape[axis];
    if (out.shape != expected || out.shape[axis] < 1)
      refuse(g, node,
             fmt::format("output '{}' has shape {}; expected {} with at least 1 along axis {}",
                         out.name, shape_string(out.shape), shape_string(expected), axis));
    total += out.shape[axis];
    require_same_quant(g, node, n.inputs[0], t);
  }
  if (total != in.shape[axis])
    refuse(g, node,
           fmt::format("outputs hold {} along axis {}; the input has {}", total, axis,
                       in.shape[axis]));
  return lowered(SplitParams{axis}, {n.inputs[0]});
}

LoweredOp lower_Unpack(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, kMaxOpOutputs, /*int16=*/true);
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const int axis = n.params.get<ops::SplitAttrs>().axis;
  if (axis < 0 || axis >= static_cast<int>(in.shape.size()))
    refuse(g, node, fmt::format("axis {} out of range for rank {}", axis, in.shape.size()));
  if (static_cast<int32_t>(n.outputs.size()) != in.shape[axis])
    refuse(g, node,
           fmt::format("{} outputs; the input has {} along axis {}", n.outputs.size(),
                       in.shape[axis], axis));
  for (int t : n.outputs) {
    if (g.tensors[t].shape != dropped(in.shape, axis))
      refuse(g, node,
             fmt::format("output '{}' has shape {}; expected {}", g.tensors[t].name,
                         shape_string(g.tensors[t].shape), shape_string(dropped(in.shape, axis))));
    require_same_quant(g, node, n.inputs[0], t);
  }
  return lowered(SplitParams{axis}, {n.inputs[0]});
}

LoweredOp lower_Pack(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, kMaxOpInputs, 1, /*int16=*/true);
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  const int axis = n.params.get<ops::PackAttrs>().axis;
  if (axis < 0 || axis >= static_cast<int>(out.shape.size()))
    refuse(g, node, fmt::format("axis {} out of range for rank {}", axis, out.shape.size()));
  if (static_cast<int32_t>(n.inputs.size()) != out.shape[axis])
    refuse(g, node,
           fmt::format("{} inputs; the output has {} along axis {}", n.inputs.size(),
                       out.shape[axis], axis));
  for (int t : n.inputs) {
    if (g.tensors[t].shape != dropped(out.shape, axis))
      refuse(g, node,
             fmt::format("input '{}' has shape {}; expected {}", g.tensors[t].name,
                         shape_string(g.tensors[t].shape), shape_string(dropped(out.shape, axis))));
    require_same_quant(g, node, n.outputs[0], t);
  }
  ConcatenationParams p{};
  p.axis = axis;
  return lowered(p, n.inputs);
}

}  // namespace plan

namespace onnx_import {
namespace {

// Elements [first, first + count) along `axis` of constant `c`.
Constant piece_of(const Constant& c, size_t axis, int64_t first, int64_t count) {
  Constant p;
  p.shape = c.shape;
  p.shape[axis] = count;
  p.is_float = c.is_float;
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= c.shape[d];
  for (size_t d = axis + 1; d < c.shape.size(); ++d) inner *= c.shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = first; j < first + count; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        const auto at = static_cast<size_t>((o * c.shape[axis] + j) * inner + i);
        if (c.is_float)
          p.f.push_back(c.f[at]);
        else
          p.i.push_back(c.i[at]);
      }
  return p;
}

// ONNX Split: `split` sizes as input from opset 13 (an attribute before); without them,
// equal pieces, one per output.
void convert_Split(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.attr_int("axis", 0), rank));
  const auto n = static_cast<size_t>(ctx.node->output_size());
  std::vector<int64_t> sizes =
      ctx.opset >= 13 ? (ctx.has_input(1) ? ctx.ints_input(1, "split") : std::vector<int64_t>{})
                      : ctx.attr_ints("split");
  const int64_t dim = x.shape[axis];
  if (sizes.empty()) {
    if (n == 0 || dim % static_cast<int64_t>(n) != 0)
      ctx.fail(
          fmt::format("axis {} has {} elements, not a multiple of the {} outputs", axis, dim, n));
    sizes.assign(n, dim / static_cast<int64_t>(n));
  }
  if (sizes.size() != n)
    ctx.fail(fmt::format("split has {} sizes; the node has {} outputs", sizes.size(), n));
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) ctx.fail(fmt::format("split size {} is negative", s));
    if (s == 0) ctx.unsupported("an empty piece (split size 0)");
    total += s;
  }
  if (total != dim)
    ctx.fail(fmt::format("split sizes sum to {}; axis {} has {} elements", total, axis, dim));
  if (x.is_constant()) {
    const Constant c = ctx.constants[static_cast<size_t>(x.const_index)];
    int64_t first = 0;
    for (size_t k = 0; k < n; ++k) {
      ctx.set_output(k, ctx.constant_value(piece_of(c, axis, first, sizes[k])));
      first += sizes[k];
    }
    return;
  }
  if (n > kMaxOpOutputs) ctx.unsupported(fmt::format("{} outputs; the runtime has up to 8", n));
  // In channels-last form when that is the only one (no transpose), else in ONNX layout.
  const bool nhwc = ctx.prefers_nhwc(x);
  const int t = nhwc ? x.nhwc : ctx.as_onnx(x, ctx.node->input(0));
  if (ctx.shape_of(t).size() > kMaxRank) ctx.unsupported("rank above 4");
  const int ir_axis = nhwc ? channels_last_axis(static_cast<int64_t>(axis), x.shape.size())
                           : static_cast<int>(axis);
  std::vector<int> outs;
  std::vector<Value> values;
  for (size_t k = 0; k < n; ++k) {
    ir::Tensor piece;
    piece.name = clean_name(ctx.node->output(static_cast<int>(k)));
    piece.shape = ctx.shape_of(t);
    piece.shape[static_cast<size_t>(ir_axis)] = static_cast<int32_t>(sizes[k]);
    outs.push_back(ctx.graph.add_tensor(std::move(piece)));
    Value v;
    v.shape = x.shape;
    v.shape[axis] = sizes[k];
    (nhwc ? v.nhwc : v.onnx) = outs.back();
    values.push_back(std::move(v));
  }
  const std::string name = ctx.node->name().empty() ? ctx.node->output(0) : ctx.node->name();
  ctx.graph.nodes.push_back(
      ir::Node{OpCode::Split, {t}, outs, ops::SplitAttrs{ir_axis}, clean_name(name)});
  for (size_t k = 0; k < n; ++k) ctx.set_output(k, std::move(values[k]));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Split() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::SPLIT), "SPLIT", read_split},
       {static_cast<int32_t>(tfl::BuiltinOperator::SPLIT_V), "SPLIT_V", read_split_v}},
      {{"Split", onnx_import::convert_Split, 2}},
      write_split};
  return op;
}

const HostOp& host_op_Unpack() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::UNPACK), "UNPACK", read_unpack}},
      {},
      write_unpack};
  return op;
}

const HostOp& host_op_Pack() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::shared_by_inputs, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::PACK), "PACK", read_pack}},
      {},
      write_pack};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
