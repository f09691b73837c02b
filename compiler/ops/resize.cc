// ResizeNearestNeighbor and ResizeBilinear: everything the compiler knows about them, in one
// file.
//
// Semantics: TFLite RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of an NHWC input to a
// constant (height, width), with align_corners and half_pixel_centers, arithmetic as TFLite's
// reference kernels (see runtime/kernels/reference/resize.cc). Invariants, checked at import
// and lowering: input and output rank 4 with equal batch and channels, the output's height
// and width the size operand's, every dim 1..32767 along height and width (the int8 fixed
// point stays inside int32), not both align_corners and half_pixel_centers (TFLite refuses
// that pair), and int8 input and output quantized alike (nearest copies values; the int8
// bilinear arithmetic interpolates stored values). Quantization keeps the input's parameters;
// channels do not pass through for pruning. TFLite: RESIZE_NEAREST_NEIGHBOR (97) and
// RESIZE_BILINEAR (23) with their options; version 3 with either flag set, else 2 for int8
// and 1 for float32.
#include "ops/resize.h"

#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

constexpr int32_t kMaxExtent = 32767;

// Empty when the kernel can run this resize, else what is wrong.
std::string problem(const ops::ResizeAttrs& a, const ir::Tensor& in, const ir::Tensor& out) {
  if (a.align_corners && a.half_pixel_centers)
    return "align_corners and half_pixel_centers are both set; expected at most one";
  if (in.shape.size() != 4 || out.shape.size() != 4)
    return fmt::format("input {} and output {}; expected NHWC tensors of rank 4",
                       shape_string(in.shape), shape_string(out.shape));
  if (in.shape[0] != out.shape[0] || in.shape[3] != out.shape[3])
    return fmt::format("input {} and output {} differ in batch or channels",
                       shape_string(in.shape), shape_string(out.shape));
  for (const ir::Tensor* t : {&in, &out})
    for (size_t d = 1; d <= 2; ++d)
      if (t->shape[d] < 1 || t->shape[d] > kMaxExtent)
        return fmt::format("'{}' has shape {}; expected height and width in 1..{}", t->name,
                           shape_string(t->shape), kMaxExtent);
  return {};
}

ir::Node read(OpMapper& m, OpCode op, const ops::ResizeAttrs& attrs) {
  m.require_arity(2, 2);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const std::vector<int32_t> size = tflite_import::constant_ints(m, 1, 2);
  std::string why = problem(attrs, in, out);
  if (why.empty() && (out.shape[1] != size[0] || out.shape[2] != size[1]))
    why = fmt::format("{} has shape {}; the size operand says {}x{}", m.out_label(),
                      shape_string(out.shape), size[0], size[1]);
  if (!why.empty()) m.fail(why);
  ir::Node n{op, {m.input_index(0)}, {}, {}, {}};
  n.params = attrs;
  return n;
}

ir::Node read_nearest(OpMapper& m) {
  const auto* o = m.options(m.op().builtin_options_as_ResizeNearestNeighborOptions(),
                            tfl::BuiltinOptions::ResizeNearestNeighborOptions);
  ops::ResizeAttrs a;
  if (o) a = {o->align_corners(), o->half_pixel_centers()};
  return read(m, OpCode::ResizeNearestNeighbor, a);
}

ir::Node read_bilinear(OpMapper& m) {
  const auto* o = m.options(m.op().builtin_options_as_ResizeBilinearOptions(),
                            tfl::BuiltinOptions::ResizeBilinearOptions);
  ops::ResizeAttrs a;
  if (o) a = {o->align_corners(), o->half_pixel_centers()};
  return read(m, OpCode::ResizeBilinear, a);
}

// The operands: the input and the (height, width) constant; the version TFLite gives it.
struct Written {
  std::vector<int32_t> inputs;
  int32_t version;
  ops::ResizeAttrs attrs;
};
Written operands(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& out = out_tensor(b, node);
  const auto& a = n.params.get<ops::ResizeAttrs>();
  const int32_t size = b.constant_i32(out.name + "/size", {2}, {out.shape[1], out.shape[2]});
  const int32_t version = a.align_corners || a.half_pixel_centers ? 3 : is_int8(b, node) ? 2 : 1;
  return {{b.tensor(n.inputs[0]), size}, version, a};
}

void write_nearest(tflite_export::ModelBuilder& b, size_t node) {
  const Written w = operands(b, node);
  b.add_operator(tfl::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR, w.version, w.inputs,
                 tflite_export::io_of(b, b.graph().nodes[node].outputs),
                 tfl::BuiltinOptions::ResizeNearestNeighborOptions,
                 tfl::CreateResizeNearestNeighborOptions(b.fbb(), w.attrs.align_corners,
                                                         w.attrs.half_pixel_centers)
                     .Union());
}

void write_bilinear(tflite_export::ModelBuilder& b, size_t node) {
  const Written w = operands(b, node);
  b.add_operator(
      tfl::BuiltinOperator::RESIZE_BILINEAR, w.version, w.inputs,
      tflite_export::io_of(b, b.graph().nodes[node].outputs),
      tfl::BuiltinOptions::ResizeBilinearOptions,
      tfl::CreateResizeBilinearOptions(b.fbb(), w.attrs.align_corners, w.attrs.half_pixel_centers)
          .Union());
}

}  // namespace

namespace plan {
namespace {

LoweredOp lower_resize(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 1, 1);
  const auto& a = n.params.get<ops::ResizeAttrs>();
  const std::string why = problem(a, g.tensors[n.inputs[0]], g.tensors[n.outputs[0]]);
  if (!why.empty()) refuse(g, node, why);
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"),
            qo = per_tensor(g, node, n.outputs[0], "output");
    if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      refuse(g, node, "int8 input and output are quantized differently");
  }
  ResizeParams p{};
  p.align_corners = a.align_corners ? 1 : 0;
  p.half_pixel_centers = a.half_pixel_centers ? 1 : 0;
  return lowered(p, {n.inputs[0]});
}

}  // namespace

LoweredOp lower_ResizeNearestNeighbor(ir::Graph& g, size_t node) { return lower_resize(g, node); }
LoweredOp lower_ResizeBilinear(ir::Graph& g, size_t node) { return lower_resize(g, node); }

}  // namespace plan

namespace ops {

const HostOp& host_op_ResizeNearestNeighbor() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR),
        "RESIZE_NEAREST_NEIGHBOR", read_nearest}},
      {},
      write_nearest};
  return op;
}

const HostOp& host_op_ResizeBilinear() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::RESIZE_BILINEAR), "RESIZE_BILINEAR",
        read_bilinear}},
      {},
      write_bilinear};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
