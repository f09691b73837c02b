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
// bilinear arithmetic interpolates stored values); both also take int16 (TFLite's 16x8
// scheme; the bilinear as TFLite's resize_bilinear.cc runs ResizeBilinearInteger<int16_t>,
// TFLite Micro has no int16 bilinear), quantized alike too. Quantization keeps the input's
// parameters; channels do not pass through for pruning. TFLite: RESIZE_NEAREST_NEIGHBOR (97) and
// RESIZE_BILINEAR (23) with their options; version 3 with either flag set, else 2 for int8
// and 1 for float32.
#include "ops/resize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
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
    return fmt::format("input {} and output {} differ in batch or channels", shape_string(in.shape),
                       shape_string(out.shape));
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
  m.require_activation_types(in, out, /*int16=*/true);
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
  tflite_export::refuse_int16x8(b, node);
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
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  const auto& a = n.params.get<ops::ResizeAttrs>();
  const std::string why = problem(a, g.tensors[n.inputs[0]], g.tensors[n.outputs[0]]);
  if (!why.empty()) refuse(g, node, why);
  if (g.tensors[n.outputs[0]].type != DType::f32) same_quantization(g, node, "input");
  ResizeParams p{};
  p.align_corners = a.align_corners ? 1 : 0;
  p.half_pixel_centers = a.half_pixel_centers ? 1 : 0;
  return lowered(p, {n.inputs[0]});
}

}  // namespace

LoweredOp lower_ResizeNearestNeighbor(ir::Graph& g, size_t node) { return lower_resize(g, node); }
LoweredOp lower_ResizeBilinear(ir::Graph& g, size_t node) { return lower_resize(g, node); }

}  // namespace plan

namespace onnx_import {
namespace {

// ONNX's source coordinate of output index i along one axis (its Resize definition;
// tf_crop_and_resize is refused before). `scale` is output / input as ONNX has it.
double onnx_coordinate(const std::string& mode, int64_t i, double scale, int64_t in, int64_t out) {
  const auto x = static_cast<double>(i);
  if (mode == "align_corners")
    return out == 1 ? 0.0 : x * static_cast<double>(in - 1) / static_cast<double>(out - 1);
  if (mode == "asymmetric") return x / scale;
  if (mode == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  if (mode == "pytorch_half_pixel" && out == 1) return 0.0;
  return (x + 0.5) / scale - 0.5;  // half_pixel, pytorch_half_pixel
}

// ONNX's nearest source index, clamped to the input.
int64_t onnx_nearest(double x, const std::string& rounding, int64_t in) {
  const double f = std::floor(x);
  double v;
  if (rounding == "floor")
    v = f;
  else if (rounding == "ceil")
    v = std::ceil(x);
  else if (x - f == 0.5)
    v = rounding == "round_prefer_ceil" ? f + 1 : f;
  else
    v = std::round(x);
  return std::clamp<int64_t>(static_cast<int64_t>(v), 0, in - 1);
}

// TFLite's nearest source index (as the kernel computes it).
int64_t tflite_nearest(int64_t i, int64_t in, int64_t out, const ops::ResizeAttrs& a) {
  const float scale = a.align_corners && out > 1
                          ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                          : static_cast<float>(in) / static_cast<float>(out);
  const float at = (static_cast<float>(i) + (a.half_pixel_centers ? 0.5f : 0.0f)) * scale;
  const auto v = static_cast<int64_t>(a.align_corners ? std::round(at) : std::floor(at));
  return std::clamp<int64_t>(v, 0, in - 1);
}

// ONNX Resize (opset 11+) of an NCHW tensor over height and width: nearest when some TFLite
// flag set picks the same source pixel for every output pixel, linear with the
// coordinate modes TFLite's bilinear has (asymmetric, align_corners, half_pixel, and
// pytorch_half_pixel for outputs wider than one); scales must equal output / input sizes.
void convert_Resize(Context& ctx) {
  Value& x = ctx.input(0);
  if (x.shape.size() != 4) ctx.unsupported("Resize of a tensor not of rank 4 (NCHW)");
  if (x.is_constant()) ctx.unsupported("Resize of a constant");
  const std::string mode = ctx.attr_string("mode", "nearest");
  const std::string coord = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  const std::string rounding = ctx.attr_string("nearest_mode", "round_prefer_floor");
  if (mode != "nearest" && mode != "linear")
    ctx.unsupported(fmt::format("mode '{}'; expected nearest or linear", mode));
  if (coord == "tf_crop_and_resize") ctx.unsupported("coordinate mode tf_crop_and_resize");
  Shape out = x.shape;
  std::vector<double> scale(4, 1.0);
  if (ctx.has_input(3)) {
    out = ctx.ints_input(3, "sizes");
    if (out.size() != 4) ctx.fail(fmt::format("sizes has {} entries; expected 4", out.size()));
    for (size_t d = 0; d < 4; ++d)
      scale[d] = static_cast<double>(out[d]) / static_cast<double>(x.shape[d]);
  } else if (ctx.has_input(2)) {
    const std::vector<float> given = ctx.float_input(2, "scales");
    if (given.size() != 4) ctx.fail(fmt::format("scales has {} entries; expected 4", given.size()));
    for (size_t d = 0; d < 4; ++d) {
      if (!(given[d] > 0.0f) || !std::isfinite(given[d]))
        ctx.fail(fmt::format("scale {} is not a positive number", given[d]));
      scale[d] = given[d];
      out[d] = static_cast<int64_t>(std::floor(static_cast<double>(x.shape[d]) * given[d]));
      if (static_cast<float>(out[d]) / static_cast<float>(x.shape[d]) != given[d])
        ctx.unsupported(fmt::format("scale {} is not output / input size ({} / {})", given[d],
                                    out[d], x.shape[d]));
    }
  } else {
    ctx.fail("neither scales nor sizes given");
  }
  if (out[0] != x.shape[0] || out[1] != x.shape[1])
    ctx.unsupported("resizing the batch or channel dims");
  for (size_t d = 2; d < 4; ++d)
    if (out[d] < 1 || out[d] > kMaxExtent)
      ctx.fail(fmt::format("output {} along dim {}; expected 1..{}", out[d], d, kMaxExtent));

  ops::ResizeAttrs attrs;
  bool found = false;
  if (mode == "linear") {
    found = coord == "asymmetric" || coord == "align_corners" || coord == "half_pixel" ||
            (coord == "pytorch_half_pixel" && out[2] > 1 && out[3] > 1);
    attrs = {coord == "align_corners", coord == "half_pixel" || coord == "pytorch_half_pixel"};
  } else {
    for (const ops::ResizeAttrs& a : {ops::ResizeAttrs{false, false}, ops::ResizeAttrs{true, false},
                                      ops::ResizeAttrs{false, true}}) {
      bool same = true;
      for (size_t d = 2; d < 4 && same; ++d)
        for (int64_t i = 0; i < out[d] && same; ++i)
          same = onnx_nearest(onnx_coordinate(coord, i, scale[d], x.shape[d], out[d]), rounding,
                              x.shape[d]) == tflite_nearest(i, x.shape[d], out[d], a);
      if (same) {
        attrs = a;
        found = true;
        break;
      }
    }
  }
  if (!found)
    ctx.unsupported(
        fmt::format("{} resize with coordinate mode {}{}: not one TFLite's resize computes", mode,
                    coord, mode == "nearest" ? " and nearest_mode " + rounding : std::string()));
  const int in = ctx.as_nhwc(x, ctx.node->input(0));
  Value v;
  v.shape = out;
  v.nhwc = ctx.emit(mode == "linear" ? OpCode::ResizeBilinear : OpCode::ResizeNearestNeighbor, {in},
                    ctx.ir_shape({out[0], out[2], out[3], out[1]}), attrs, ctx.node->output(0));
  ctx.set_output(0, std::move(v));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_ResizeNearestNeighbor() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR),
        "RESIZE_NEAREST_NEIGHBOR", read_nearest}},
      {{"Resize", onnx_import::convert_Resize, 11}},
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
