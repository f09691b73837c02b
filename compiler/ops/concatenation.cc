// Concatenation: everything the compiler knows about it, in one file.
//
// Semantics: TFLite CONCATENATION along one axis of the output (ONNX Concat maps to it),
// up to 8 inputs, rank <= 4, no fused activation. Invariants: inputs equal the output
// outside the axis and their extents along it sum to the output's; int8 and int16 (16x8)
// inputs share the output's scale and zero point (values are only copied), which the
// quantizer keeps (QuantRule::shared_by_inputs: inputs requantized to the output's
// parameters); int32 joins plain integers (micro_speech's preprocessor pads its energies
// with zeros). Channels do not pass through for pruning. TFLite: builtin CONCATENATION (2)
// with ConcatenationOptions (axis, possibly negative), version 2 for int8, 3 for int16
// (tensorflow/lite/tools/versioning/op_version.cc).
#include "ops/concatenation.h"

#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, kMaxOpInputs);
  const auto* o = m.options(m.op().builtin_options_as_ConcatenationOptions(),
                            tfl::BuiltinOptions::ConcatenationOptions);
  if (!o) m.fail("ConcatenationOptions missing; expected an axis");
  if (o->fused_activation_function() != tfl::ActivationFunctionType::NONE)
    m.fail("fused activation on CONCATENATION is not supported; expected NONE");
  ir::Node n{OpCode::Concatenation, {}, {}, {}, {}};
  const ir::Tensor& out = m.output();
  const int rank = static_cast<int>(out.shape.size());
  const int axis = o->axis() < 0 ? o->axis() + rank : o->axis();
  if (axis < 0 || axis >= rank)
    m.fail(
        fmt::format("axis {} is out of range for {} of rank {}", o->axis(), m.out_label(), rank));
  n.params = ops::ConcatenationAttrs{axis};
  int64_t total = 0;
  for (size_t i = 0; i < m.num_inputs(); ++i) {
    const ir::Tensor& in = m.input(i);
    m.require_activation_types(in, out, /*int16=*/true, /*int32=*/true);
    m.require_same_quant(in, m.in_label(i), out, m.out_label());
    std::vector<int32_t> expected = out.shape;
    if (in.shape.size() == out.shape.size()) expected[axis] = in.shape[axis];
    m.require_shape(in, m.in_label(i), expected);
    total += in.shape[axis];
  }
  if (total != out.shape[axis])
    m.fail(fmt::format("{} has {} along axis {}; expected the inputs' sum {}", m.out_label(),
                       out.shape[axis], axis, total));
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  using Builtin = tfl::BuiltinOperator;
  using Options = tfl::BuiltinOptions;
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateConcatenationOptions(b.fbb(), n.params.get<ops::ConcatenationAttrs>().axis);
  const DType type = b.graph().tensors[static_cast<size_t>(n.outputs[0])].type;
  const int32_t version = type == DType::i16 ? 3 : type == DType::i8 ? 2 : 1;
  b.add_operator(Builtin::CONCATENATION, version, io_of(b, n.inputs), io_of(b, n.outputs),
                 Options::ConcatenationOptions, options.Union());
}

}  // namespace

namespace plan {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;

LoweredOp lower_Concatenation(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, kMaxOpInputs, 1, /*int16=*/true, /*int32=*/true);
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  const int rank = static_cast<int>(out.shape.size());
  const int axis = n.params.get<ops::ConcatenationAttrs>().axis;
  if (axis < 0 || axis >= rank)
    refuse(g, node, fmt::format("axis {} out of range for rank {}", axis, rank));
  int64_t total = 0;
  for (int t : n.inputs) {
    const ir::Tensor& in = g.tensors[t];
    if (static_cast<int>(in.shape.size()) != rank)
      refuse(g, node, "inputs and output differ in rank");
    for (int d = 0; d < rank; ++d)
      if (d != axis && in.shape[d] != out.shape[d])
        refuse(g, node,
               fmt::format("input '{}' differs from the output outside axis {}", in.name, axis));
    total += in.shape[axis];
    if (out.type == DType::i8 || out.type == DType::i16) {
      const Q qi = per_tensor(g, node, t, "input"),
              qo = per_tensor(g, node, n.outputs[0], "output");
      if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
        refuse(g, node,
               fmt::format("{} input '{}' is quantized differently from the output",
                           dtype_name(out.type), in.name));
    }
  }
  if (total != out.shape[axis])
    refuse(g, node, "output size along the axis is not the inputs' sum");
  ConcatenationParams p{};
  p.axis = axis;
  return lowered(p, n.inputs);
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Concat(Context& ctx) {
  const size_t count = ctx.num_inputs();
  if (count == 0) ctx.fail("no inputs");
  std::vector<Value*> in;
  for (size_t i = 0; i < count; ++i) in.push_back(&ctx.input(i));
  const size_t rank = in[0]->shape.size();
  if (rank == 0) ctx.fail("cannot concatenate scalars");
  const int64_t axis =
      normalize_axis(ctx, ctx.attr_int("axis", ctx.opset < 11 ? 1 : 0), static_cast<int64_t>(rank));
  Value out;
  out.shape = in[0]->shape;
  out.shape[axis] = 0;
  bool all_constant = true, any_nhwc = false;
  for (Value* v : in) {
    if (v->shape.size() != rank) ctx.fail("inputs have different ranks");
    for (size_t d = 0; d < rank; ++d)
      if (static_cast<int64_t>(d) != axis && v->shape[d] != in[0]->shape[d])
        ctx.fail(fmt::format("input shapes {} and {} differ outside the axis",
                             shape_str(in[0]->shape), shape_str(v->shape)));
    out.shape[axis] += v->shape[axis];
    all_constant = all_constant && v->is_constant();
    any_nhwc = any_nhwc || (!v->is_constant() && ctx.prefers_nhwc(*v));
  }
  if (all_constant) {  // evaluate (shape arithmetic, mostly)
    Constant r;
    r.shape = out.shape;
    r.is_float = ctx.constants[in[0]->const_index].is_float;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
    for (int64_t o = 0; o < outer; ++o)
      for (Value* v : in) {
        const Constant& c = ctx.constants[v->const_index];
        if (c.is_float != r.is_float) ctx.fail("inputs have different element types");
        const int64_t chunk = c.elements() / std::max<int64_t>(outer, 1);
        for (int64_t k = 0; k < chunk; ++k) {
          if (r.is_float)
            r.f.push_back(c.f[o * chunk + k]);
          else
            r.i.push_back(c.i[o * chunk + k]);
        }
      }
    return ctx.set_output(0, ctx.constant_value(std::move(r)));
  }
  const bool nhwc = has_channels_last_form(rank) && any_nhwc;
  const ops::ConcatenationAttrs a{nhwc ? channels_last_axis(axis, rank) : static_cast<int>(axis)};
  const std::string name = ctx.node->output(0);
  std::vector<int> tensors;
  for (size_t i = 0; i < count; ++i) {
    if (in[i]->is_constant() && ctx.constants[in[i]->const_index].elements() == 0) continue;
    if (in[i]->shape[axis] == 0) continue;
    tensors.push_back(nhwc ? ctx.as_nhwc(*in[i], ctx.node->input(static_cast<int>(i)))
                           : ctx.as_onnx(*in[i], ctx.node->input(static_cast<int>(i))));
  }
  if (tensors.empty()) ctx.fail("all inputs are empty");
  const int acc = concatenate(ctx, tensors, a.axis, name);
  (nhwc ? out.nhwc : out.onnx) = acc;
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Concatenation() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::shared_by_inputs, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::CONCATENATION), "CONCATENATION", read_tflite}},
      {{"Concat", onnx_import::convert_Concat, 4}},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
