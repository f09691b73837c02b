// Transpose: everything the compiler knows about it, in one file.
//
// Semantics: TFLite TRANSPOSE (output dim i = input dim perm[i]), rank <= 4; ONNX Transpose,
// DepthToSpace and SpaceToDepth map to it (import/onnx). Invariants: perm is a constant permutation
// of the input's dims and the output shape is the permuted input shape; int8 and int16 (TFLite's
// 16x8 scheme) input and output share one scale and zero point (values are only moved).
// Quantization keeps the input's parameters; channels do not pass through for pruning. TFLite:
// builtin TRANSPOSE (39) with the perm as a constant int32 operand, version 2 for int8.
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
  m.require_activation_types(in, out, /*int16=*/true);
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
  refuse_int16x8(b, node);
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
using lowering::refuse;
using lowering::same_quantization;

LoweredOp lower_Transpose(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
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
  if (g.tensors[n.outputs[0]].type != DType::f32) same_quantization(g, node, "input");
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Transpose(Context& ctx) {
  Value& x = ctx.input(0);
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (perm.empty())
    for (size_t d = x.shape.size(); d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  ctx.set_output(0, permuted(ctx, x, perm, ctx.node->output(0)));
}

// DepthToSpace and SpaceToDepth are defined by the ONNX operator spec as a rank-6 reshape,
// a transpose and a reshape back; the same three steps here become Reshape/Transpose ops
// of rank <= 4 (Context::materialize).
void rearrange(Context& ctx, const Shape& split, const std::vector<int64_t>& perm,
               const Shape& out) {
  Value& x = ctx.input(0);
  const std::string name = ctx.node->output(0);
  Value six = reshaped(ctx, x, split, name + "/split");
  Value moved = permuted(ctx, six, perm, name + "/moved");
  ctx.set_output(0, reshaped(ctx, moved, out, name));
}

// The input's [N,C,H,W] and the block size, checked.
Shape blocked_input(Context& ctx, int64_t& b) {
  const Shape& s = ctx.input(0).shape;
  if (s.size() != 4) ctx.fail(fmt::format("input has shape {}; expected [N,C,H,W]", shape_str(s)));
  b = ctx.attr_int("blocksize", 0);
  if (b < 1 || b > 64) ctx.fail(fmt::format("blocksize {} out of range [1, 64]", b));
  return s;
}

void convert_DepthToSpace(Context& ctx) {
  int64_t b = 0;
  const Shape s = blocked_input(ctx, b);
  const int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  if (c % (b * b) != 0) ctx.fail(fmt::format("{} channels are not a multiple of {}", c, b * b));
  const std::string mode = ctx.attr_string("mode", "DCR");
  const Shape out{n, c / (b * b), h * b, w * b};
  if (mode == "DCR")
    rearrange(ctx, {n, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2}, out);
  else if (mode == "CRD")  // PyTorch's PixelShuffle
    rearrange(ctx, {n, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3}, out);
  else
    ctx.fail(fmt::format("mode '{}'; expected DCR or CRD", mode));
}

void convert_SpaceToDepth(Context& ctx) {
  int64_t b = 0;
  const Shape s = blocked_input(ctx, b);
  const int64_t n = s[0], c = s[1], h = s[2], w = s[3];
  if (h % b != 0 || w % b != 0)
    ctx.fail(fmt::format("height {} and width {} are not multiples of {}", h, w, b));
  rearrange(ctx, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, {n, c * b * b, h / b, w / b});
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
      {{"Transpose", onnx_import::convert_Transpose, 1},
       {"DepthToSpace", onnx_import::convert_DepthToSpace, 1},
       {"SpaceToDepth", onnx_import::convert_SpaceToDepth, 1}},
      write_tflite,
      /*fused_activation=*/nullptr,
      copies_input};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
