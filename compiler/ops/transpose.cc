// Transpose: everything the compiler knows about it, in one file.
//
// Semantics: TFLite TRANSPOSE (output dim i = input dim perm[i]), rank <= 4; ONNX Transpose
// maps to it (import/onnx). Invariants: perm is a constant permutation of the input's dims
// and the output shape is the permuted input shape; int8 input and output share one scale
// and zero point (values are only moved). Quantization keeps the input's parameters;
// channels do not pass through for pruning. TFLite: builtin TRANSPOSE (39) with the perm
// as a constant int32 operand, version 2 for int8.
#include "ops/transpose.h"

#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::constant_ints;
using tflite_import::OpMapper;
using tflite_import::shape_string;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  ir::Node n{OpCode::Transpose, {}, {}, {}, {}};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const size_t rank = in.shape.size();
  ops::TransposeAttrs a;
  a.perm = constant_ints(m, 1, static_cast<int64_t>(rank));
  std::vector<int32_t> expected(rank);
  std::vector<char> seen(rank, 0);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t p = a.perm[d];
    if (p < 0 || static_cast<size_t>(p) >= rank || seen[static_cast<size_t>(p)]++)
      m.fail(fmt::format("perm {} is not a permutation of 0..{}", shape_string(a.perm), rank - 1));
    expected[d] = in.shape[static_cast<size_t>(p)];
  }
  m.require_shape(out, m.out_label(), expected);
  n.params = std::move(a);
  n.inputs = {m.input_index(0)};  // the perm becomes an attribute
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  using Builtin = tfl::BuiltinOperator;
  using Options = tfl::BuiltinOptions;
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& out = out_tensor(b, node);
  const std::vector<int32_t>& p = n.params.get<ops::TransposeAttrs>().perm;
  const int32_t rank = static_cast<int32_t>(p.size());
  const int32_t perm = b.constant_i32(out.name + "/perm", {rank}, p);
  b.add_operator(Builtin::TRANSPOSE, is_int8(b, node) ? 2 : 1, {b.tensor(n.inputs[0]), perm},
                 io_of(b, n.outputs), Options::TransposeOptions,
                 tfl::CreateTransposeOptions(b.fbb()).Union());
}

}  // namespace

namespace plan {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;

LoweredOp lower_Transpose(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1);
  const auto& in = g.tensors[n.inputs[0]].shape;
  const auto& out = g.tensors[n.outputs[0]].shape;
  const std::vector<int32_t>& perm = n.params.get<ops::TransposeAttrs>().perm;
  if (perm.size() != in.size() || out.size() != in.size())
    refuse(g, node, "perm does not match the rank");
  TransposeParams p{};
  std::vector<char> seen(in.size(), 0);
  for (int i = 0; i < kMaxRank; ++i) p.perm[i] = i;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int32_t>(in.size()) || seen[perm[i]])
      refuse(g, node, "perm is not a permutation");
    seen[perm[i]] = 1;
    if (out[i] != in[perm[i]]) refuse(g, node, "output shape is not the permuted input shape");
    p.perm[i] = perm[i];
  }
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"),
            qo = per_tensor(g, node, n.outputs[0], "output");
    if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      refuse(g, node, "int8 input and output are quantized differently");
  }
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Transpose(Context& ctx) {
  Value& x = ctx.input(0);
  const size_t rank = x.shape.size();
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty())
    for (size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  check_permutation(ctx, perm, rank);
  const std::string name = ctx.node->output(0);
  if (x.is_constant()) {
    const std::vector<int32_t> p32(perm.begin(), perm.end());
    return ctx.set_output(
        0, ctx.constant_value(transpose_constant(ctx.constants[x.const_index], p32)));
  }
  Value out;
  for (int64_t p : perm) out.shape.push_back(x.shape[p]);
  std::vector<int32_t> q;
  int src;
  if (ctx.prefers_nhwc(x)) {  // compose with the channels-last layout
    for (int64_t p : perm) q.push_back(channels_last_axis(p, rank));
    src = x.nhwc;
  } else {
    for (int64_t p : perm) q.push_back(static_cast<int32_t>(p));
    src = ctx.as_onnx(x, ctx.node->input(0));
  }
  ctx.ir_shape(out.shape);  // rank/size checks before emitting
  out.onnx = ctx.transpose(src, q, name);
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

const char* copies_input(const ir::Node& n) {
  const std::vector<int32_t>& perm = n.params.get<TransposeAttrs>().perm;
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<int32_t>(i)) return nullptr;
  return "transpose with identity perm";
}

}  // namespace

const HostOp& host_op_Transpose() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::TRANSPOSE), "TRANSPOSE", read_tflite}},
      {{"Transpose", onnx_import::convert_Transpose, 1}},
      write_tflite,
      /*fused_activation=*/nullptr,
      copies_input};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
