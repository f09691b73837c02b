// MirrorPad: everything the compiler knows about it, in one file.
//
// Semantics: TFLite MIRROR_PAD (100; paddings an int32 [rank, 2] constant, MirrorPadOptions
// mode REFLECT or SYMMETRIC; tensorflow/lite/kernels/mirror_pad.cc) and ONNX Pad in mode
// reflect (REFLECT) or edge (the border repeats the edge element; no TFLite builtin, so the
// writer refuses it), rank <= 4. Invariants, checked at import and lowering: pads >= 0, at
// most n - 1 (reflect) or n (symmetric) for a dim of n, as TFLite requires; the output shape
// is the padded one; int8 (or int16, TFLite's 16x8 scheme) input and output share one scale
// and zero point (values are copied). Quantization keeps the input's parameters; channels do not
// pass through for pruning. TFLite version 2 for int8.
#include "ops/mirror_pad.h"

#include <fmt/format.h>

#include <climits>
#include <string>

#include "export/tflite_builder.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {

std::string ops::mirror_pad_problem(MirrorPadMode mode, const std::vector<int32_t>& shape,
                                    const std::vector<int32_t>& pads) {
  const size_t rank = shape.size();
  if (rank > kMaxRank || pads.size() != 2 * rank)
    return fmt::format("pads has {} entries for rank {}; expected 2 per dim, rank <= 4",
                       pads.size(), rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t n = shape[d];
    const int64_t limit = mode == MirrorPadMode::reflect     ? n - 1
                          : mode == MirrorPadMode::symmetric ? n
                                                             : INT32_MAX;
    for (int32_t p : {pads[d], pads[rank + d]})
      if (p < 0 || p > limit)
        return fmt::format("pad {} of dimension {} (size {}) is outside 0..{} for this mode", p, d,
                           n, limit);
    if (n + pads[d] + pads[rank + d] > INT32_MAX)
      return fmt::format("padded dimension {} is too large", d);
  }
  return {};
}

namespace {

using tflite_import::OpMapper;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o = m.options(m.op().builtin_options_as_MirrorPadOptions(),
                            tfl::BuiltinOptions::MirrorPadOptions);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const size_t rank = in.shape.size();
  const std::vector<int32_t> pairs =
      tflite_import::constant_ints(m, 1, 2 * static_cast<int64_t>(rank));
  ops::MirrorPadAttrs a;
  a.mode = o && o->mode() == tfl::MirrorPadMode::SYMMETRIC ? MirrorPadMode::symmetric
                                                           : MirrorPadMode::reflect;
  a.pads.resize(2 * rank);
  std::vector<int32_t> expected = in.shape;
  for (size_t d = 0; d < rank; ++d) {
    a.pads[d] = pairs[2 * d];
    a.pads[rank + d] = pairs[2 * d + 1];
  }
  const std::string why = ops::mirror_pad_problem(a.mode, in.shape, a.pads);
  if (!why.empty()) m.fail(why);
  for (size_t d = 0; d < rank; ++d) expected[d] += a.pads[d] + a.pads[rank + d];
  m.require_shape(out, m.out_label(), expected);
  ir::Node n{OpCode::MirrorPad, {m.input_index(0)}, {}, {}, {}};  // paddings: attributes
  n.params = std::move(a);
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::MirrorPadAttrs>();
  if (a.mode == MirrorPadMode::edge) refuse(b, node, "edge padding has no TFLite builtin");
  const size_t rank = a.pads.size() / 2;
  std::vector<int32_t> paddings;  // [rank, 2]: (before, after) per dimension
  for (size_t d = 0; d < rank; ++d) {
    paddings.push_back(a.pads[d]);
    paddings.push_back(a.pads[rank + d]);
  }
  const int32_t pads = b.constant_i32(out_tensor(b, node).name + "/paddings",
                                      {static_cast<int32_t>(rank), 2}, paddings);
  const auto mode = a.mode == MirrorPadMode::symmetric ? tfl::MirrorPadMode::SYMMETRIC
                                                       : tfl::MirrorPadMode::REFLECT;
  b.add_operator(tfl::BuiltinOperator::MIRROR_PAD, is_int8(b, node) ? 2 : 1,
                 {b.tensor(n.inputs[0]), pads}, io_of(b, n.outputs),
                 tfl::BuiltinOptions::MirrorPadOptions,
                 tfl::CreateMirrorPadOptions(b.fbb(), mode).Union());
}

}  // namespace

namespace plan {

LoweredOp lower_MirrorPad(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  const auto& in = g.tensors[n.inputs[0]].shape;
  const auto& out = g.tensors[n.outputs[0]].shape;
  const auto& a = n.params.get<ops::MirrorPadAttrs>();
  const std::string why = ops::mirror_pad_problem(a.mode, in, a.pads);
  if (!why.empty()) refuse(g, node, why);
  const size_t rank = in.size();
  if (out.size() != rank) refuse(g, node, "output rank differs from the input's");
  MirrorPadParams p{};
  p.mode = static_cast<int32_t>(a.mode);
  for (size_t i = 0; i < rank; ++i) {
    p.before[i] = a.pads[i];
    p.after[i] = a.pads[rank + i];
    if (int64_t{in[i]} + p.before[i] + p.after[i] != out[i])
      refuse(g, node, "output shape is not the padded input shape");
  }
  if (g.tensors[n.outputs[0]].type != DType::f32) same_quantization(g, node, "input");
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

namespace ops {

const HostOp& host_op_MirrorPad() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::MIRROR_PAD), "MIRROR_PAD", read_tflite}},
      /*onnx_reads=*/{},
      write_tflite};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
