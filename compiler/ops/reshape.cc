// Reshape: everything the compiler knows about it, in one file.
//
// Semantics: TFLite RESHAPE (the output tensor's shape; TFLite SQUEEZE and EXPAND_DIMS and
// ONNX Reshape, Flatten, Squeeze and Unsqueeze map to it). Invariants: the same element count
// and type in and out; int8 or int16 input and output share one scale and zero point (values are
// only moved), which quantization keeps, or both are plain int16 without quantization (the
// samples of TFLM's signal ops: micro_speech's preprocessor flattens its window's output);
// channels pass through a flatten of trailing dims
// for pruning. TFLite: builtin RESHAPE (22) with the new shape as a constant int32 operand
// and in ReshapeOptions, version 1.
#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/lower_elementwise.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

// TFLite's RESHAPE takes its new shape from the constant shape operand (or, without one,
// the options' new_shape), -1 standing for the one dimension inferred; we take the output
// tensor's shape. The two must agree, or the model would run with another shape than
// TFLite gives it.
void check_new_shape(OpMapper& m, const ir::Tensor& out) {
  std::vector<int32_t> shape;
  std::string what;
  if (m.input_index(1, /*optional=*/true) >= 0 && m.input(1).constant) {
    const ir::Tensor& t = m.input(1);
    m.require_type(t, m.in_label(1), DType::i32);
    for (int64_t i = 0; i < t.elements(); ++i) shape.push_back(t.at<int32_t>(i));
    what = m.in_label(1);
  } else {
    const auto* o =
        m.options(m.op().builtin_options_as_ReshapeOptions(), tfl::BuiltinOptions::ReshapeOptions);
    if (!o || !o->new_shape()) return;  // nothing but the output tensor says the shape
    shape.assign(o->new_shape()->begin(), o->new_shape()->end());
    what = "ReshapeOptions new_shape";
  }
  bool agrees = shape.size() == out.shape.size();
  int inferred = 0;
  for (size_t i = 0; agrees && i < shape.size(); ++i) {
    if (shape[i] == -1)
      ++inferred;
    else
      agrees = shape[i] == out.shape[i];
  }
  if (!agrees || inferred > 1)
    m.fail(fmt::format("{} is {} but {} has shape {}; expected them to agree (-1 at most once)",
                       what, shape_string(shape), m.out_label(), shape_string(out.shape)));
}

// What every reshape-like builtin must satisfy: the output holds the input's values with
// the same type and quantization. The node keeps operand 0 only: the output tensor's shape
// rules, not a shape operand.
ir::Node reshape_node(OpMapper& m) {
  ir::Node n{OpCode::Reshape, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_type(out, m.out_label(), in.type);
  if (in.elements() != out.elements())
    m.fail(
        fmt::format("{} has shape {} ({} elements) but {} has shape {}; expected the same "
                    "number of elements",
                    m.in_label(0), shape_string(in.shape), in.elements(), m.out_label(),
                    shape_string(out.shape)));
  const bool plain_int16 =
      in.type == DType::i16 && in.quant.scale.empty() && out.quant.scale.empty();
  if (!plain_int16) m.require_per_tensor(in, m.in_label(0));
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  n.inputs = {m.input_index(0)};
  return n;
}

void require_output_shape(OpMapper& m, const std::vector<int32_t>& expected, const char* why) {
  if (m.output().shape != expected)
    m.fail(fmt::format("{} has shape {}; {} gives {}", m.out_label(),
                       shape_string(m.output().shape), why, shape_string(expected)));
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 2);
  ir::Node n = reshape_node(m);
  check_new_shape(m, m.output());
  return n;
}

// SQUEEZE (43): drops the size-1 dims SqueezeOptions.squeeze_dims lists (negative counts
// from the end), or every size-1 dim when it lists none (TFLite's squeeze.cc Prepare).
ir::Node read_squeeze(OpMapper& m) {
  m.require_arity(1, 1);
  ir::Node n = reshape_node(m);
  const std::vector<int32_t>& in = m.input(0).shape;
  const auto rank = static_cast<int32_t>(in.size());
  std::vector<char> drop(in.size(), 0);
  const auto* o = m.op().builtin_options_as_SqueezeOptions();
  if (o && o->squeeze_dims() && o->squeeze_dims()->size() > 0) {
    for (int32_t d : *o->squeeze_dims()) {
      const int32_t axis = d < 0 ? d + rank : d;
      if (axis < 0 || axis >= rank || in[static_cast<size_t>(axis)] != 1)
        m.fail(fmt::format("squeeze_dims lists {}; {} has shape {}: expected size-1 dims", d,
                           m.in_label(0), shape_string(in)));
      drop[static_cast<size_t>(axis)] = 1;
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  }
  std::vector<int32_t> expected;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) expected.push_back(in[i]);
  require_output_shape(m, expected, "squeezing");
  return n;
}

// EXPAND_DIMS (70): inserts a size-1 dim at the constant scalar `axis` (operand 1, int32,
// in [-rank-1, rank]; negative counts from the end).
ir::Node read_expand_dims(OpMapper& m) {
  m.require_arity(2, 2);
  ir::Node n = reshape_node(m);
  const std::vector<int32_t>& in = m.input(0).shape;
  const ir::Tensor& a = m.input(1);
  if (!a.constant || a.elements() != 1 || a.type != DType::i32)
    m.fail(fmt::format("{} must be one constant int32 axis", m.in_label(1)));
  const int64_t value = a.at<int32_t>(0);
  const auto rank = static_cast<int64_t>(in.size());
  const int64_t axis = value < 0 ? value + rank + 1 : value;
  if (axis < 0 || axis > rank)
    m.fail(fmt::format("{} is {}; expected -{}..{}", m.in_label(1), value, rank + 1, rank));
  std::vector<int32_t> expected = in;
  expected.insert(expected.begin() + axis, 1);
  require_output_shape(m, expected, "expanding");
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& out = out_tensor(b, node);
  const int32_t rank = static_cast<int32_t>(out.shape.size());
  const int32_t shape = b.constant_i32(out.name + "/shape", {rank}, out.shape);
  const auto new_shape = b.fbb().CreateVector(out.shape);
  const auto options = tfl::CreateReshapeOptions(b.fbb(), new_shape);
  b.add_operator(tfl::BuiltinOperator::RESHAPE, 1, {b.tensor(n.inputs[0]), shape},
                 io_of(b, n.outputs), tfl::BuiltinOptions::ReshapeOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace elementwise_lowering;

LoweredOp lower_Reshape(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  for (int t : {in, out}) require_rank_at_most_4(g, node, t);
  const ir::Tensor& ti = g.tensors[in];
  const ir::Tensor& to = g.tensors[out];
  if (ti.type != to.type)
    refuse(g, node,
           fmt::format("changes the element type from {} to {}", dtype_name(ti.type),
                       dtype_name(to.type)));
  if (ti.elements() != to.elements())
    refuse(g, node,
           fmt::format("output shape {} holds {} elements; the input {} holds {}",
                       shape_str(to.shape), to.elements(), shape_str(ti.shape), ti.elements()));
  // The new-shape tensor (input 1, if any) is already folded into `out`.
  return lowering::lowered(ReshapeParams{}, {in});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Flatten(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 1), rank, true);
  Shape out{1, 1};
  for (int64_t d = 0; d < rank; ++d) out[d < axis ? 0 : 1] *= x.shape[d];
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Reshape(Context& ctx) {
  Value& x = ctx.input(0);
  // Reshape-1 (before opset 5) takes the shape as an attribute.
  const std::vector<int64_t> spec =
      ctx.opset < 5 ? ctx.attr_ints("shape") : ctx.ints_input(1, "shape");
  if (spec.empty() && ctx.opset < 5) ctx.fail("no shape attribute");
  const bool allow_zero = ctx.opset >= 14 && ctx.attr_int("allowzero", 0) != 0;
  Shape out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allow_zero) {
      if (i >= x.shape.size()) ctx.fail("shape copies a dimension the input does not have");
      d = x.shape[i];
    }
    if (d == -1) {
      if (infer >= 0) ctx.fail("shape has more than one -1");
      infer = static_cast<int>(i);
      d = 1;
    } else if (d < 0 || d > kMaxDim) {
      ctx.fail(fmt::format("shape entry {} out of range", d));
    }
    out.push_back(d);
    known *= d;
    if (known > kMaxElements) ctx.fail("shape too large");
  }
  const int64_t total = elements_of(x.shape);
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      ctx.fail(
          fmt::format("cannot infer -1 reshaping {} to {}", shape_str(x.shape), shape_str(spec)));
    out[infer] = total / known;
  }
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Squeeze(Context& ctx) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  std::vector<char> drop(x.shape.size(), 0);
  const std::vector<int64_t> axes = axes_argument(ctx, 1, 13);
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) drop[d] = x.shape[d] == 1;
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    if (x.shape[d] != 1) ctx.fail(fmt::format("cannot squeeze axis {} of size {}", d, x.shape[d]));
    drop[d] = 1;
  }
  Shape out;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d]) out.push_back(x.shape[d]);
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

void convert_Unsqueeze(Context& ctx) {
  Value& x = ctx.input(0);
  const std::vector<int64_t> axes = axes_argument(ctx, 1, 13);
  if (axes.empty()) ctx.fail("axes is empty");
  const auto rank = static_cast<int64_t>(x.shape.size() + axes.size());
  if (rank > static_cast<int64_t>(kMaxConstRank)) ctx.unsupported(fmt::format("rank {}", rank));
  std::vector<char> added(static_cast<size_t>(rank), 0);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    if (added[d]) ctx.fail("axes has a duplicate");
    added[d] = 1;
  }
  Shape out;
  size_t k = 0;
  for (int64_t d = 0; d < rank; ++d) out.push_back(added[d] ? 1 : x.shape[k++]);
  ctx.set_output(0, reshaped(ctx, x, out, ctx.node->output(0)));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Reshape() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::flatten},
      {{static_cast<int32_t>(tfl::BuiltinOperator::RESHAPE), "RESHAPE", read_tflite},
       {static_cast<int32_t>(tfl::BuiltinOperator::SQUEEZE), "SQUEEZE", read_squeeze},
       {static_cast<int32_t>(tfl::BuiltinOperator::EXPAND_DIMS), "EXPAND_DIMS", read_expand_dims}},
      {{"Flatten", onnx_import::convert_Flatten, 1},
       {"Reshape", onnx_import::convert_Reshape, 1},
       {"Squeeze", onnx_import::convert_Squeeze, 1},
       {"Unsqueeze", onnx_import::convert_Unsqueeze, 1}},
      write_tflite,
      /*fused_activation=*/nullptr,
      [](const ir::Node&) { return "reshape to the same shape"; }};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
