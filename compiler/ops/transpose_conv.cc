// TransposeConv: everything the compiler knows about it, in one file.
//
// Semantics: TFLite TRANSPOSE_CONV (inputs output_shape, weights [OC,KH,KW,IC], input, optional
// bias; options padding, strides and, from version 4, a fused activation) and ONNX
// ConvTranspose with group 1 and dilation 1 (pads, strides, output_padding, output_shape,
// auto_pad). The kernel is runtime/kernels/reference/transpose_conv.cc. Invariants the reader
// checks: output_shape a constant equal to the output's shape, batch and channels matching
// the input and the weights, weights symmetric int8 per tensor or per output channel (axis 0),
// the bias scale input scale x weight scale; 16x8 (int16 activations with zero point 0,
// int8 weights, an int64 bias, as TFLite's int16 TransposeConv takes them) as the conv
// family's 16x8 twins, in the same kernel. TFLite computes the padding from the output
// size as for a conv from the output back to the input (kernels/transpose_conv.cc); it is
// stored resolved, and the writer refuses padding neither SAME nor VALID gives. Quantized as
// Conv2D: calibrated output, per-channel weights along axis 0, but no weight geometry (an
// output meets a number of taps varying with its position), so bias correction keeps the
// bias and channels block pruning (the pruners' refit knows convolutions, not their
// transposes). TFLite versions from
// tensorflow/lite/tools/versioning/op_version.cc: 4 with a fused activation, 3 with a bias,
// 2 for int8, else 1.
#include "ops/transpose_conv.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_conv.h"

namespace tinyforge {

namespace ops {

int tflite_transpose_pad(int64_t out, int64_t filter, int64_t stride, ir::Padding padding) {
  // padding.h: ComputeOutSize, then ComputePaddingWithOffset (the offset is not used by
  // the transpose conv kernels).
  const int64_t conv_out =
      padding == ir::Padding::same ? (out + stride - 1) / stride : (out + stride - filter) / stride;
  const int64_t total = (conv_out - 1) * stride + filter - out;
  return static_cast<int>(std::max<int64_t>(total, 0) / 2);
}

}  // namespace ops

namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

constexpr size_t kOutputShapeInput = 0, kWeightsInput = 1, kDataInput = 2, kBiasInput = 3;

ir::Node read_transpose_conv(OpMapper& m) {
  m.require_arity(3, 4);
  const auto* o = m.options(m.op().builtin_options_as_TransposeConvOptions(),
                            tfl::BuiltinOptions::TransposeConvOptions);
  if (!o) m.fail("TransposeConvOptions missing; expected strides and padding");
  const ir::Tensor& in = m.input(kDataInput);
  if (in.type != DType::f32 && in.type != DType::i8 && in.type != DType::i16)
    m.unsupported(fmt::format("{} is {}; expected float32, int8 or int16 (16x8)",
                              m.in_label(kDataInput), dtype_name(in.type)));
  m.require_type(m.output(), m.out_label(), in.type);
  m.require_per_tensor(in, m.in_label(kDataInput));
  m.require_per_tensor(m.output(), m.out_label());
  m.require_rank(in, m.in_label(kDataInput), 4);
  const ir::Tensor& w = m.input(kWeightsInput);
  m.require_rank(w, m.in_label(kWeightsInput), 4);
  const std::vector<int32_t> out_shape = tflite_import::constant_ints(m, kOutputShapeInput, 4);
  m.require_shape(m.output(), m.out_label(), out_shape);
  const int32_t oc = w.shape[0];
  if (w.shape[3] != in.shape[3])
    m.fail(fmt::format("{} has shape {} for {} input channels; expected [OC,KH,KW,{}]",
                       m.in_label(kWeightsInput), shape_string(w.shape), in.shape[3], in.shape[3]));
  if (out_shape[0] != in.shape[0] || out_shape[3] != oc || out_shape[1] < 1 || out_shape[2] < 1)
    m.fail(fmt::format("{} has shape {}; expected batch {} and {} channels", m.out_label(),
                       shape_string(out_shape), in.shape[0], oc));
  tflite_import::check_weights(m, in, 0, oc, kWeightsInput, kBiasInput);
  const ir::Padding padding = m.padding(o->padding());
  ops::TransposeConvAttrs a;
  a.stride_h = m.window(o->stride_h(), "stride_h");
  a.stride_w = m.window(o->stride_w(), "stride_w");
  a.pad_top = ops::tflite_transpose_pad(out_shape[1], w.shape[1], a.stride_h, padding);
  a.pad_left = ops::tflite_transpose_pad(out_shape[2], w.shape[2], a.stride_w, padding);
  a.activation = m.activation(o->fused_activation_function());
  ir::Node n{OpCode::TransposeConv, {}, {}, {}, {}};
  n.params = a;
  n.inputs = {m.input_index(kDataInput), m.input_index(kWeightsInput),
              m.input_index(kBiasInput, /*optional=*/true)};
  return n;
}

// The TFLite padding giving the node's padding along both axes.
tfl::Padding written_padding(tflite_export::ModelBuilder& b, size_t node) {
  const auto& a = b.graph().nodes[node].params.get<ops::TransposeConvAttrs>();
  const auto& w = tflite_export::in_tensor(b, node, 1).shape;
  const auto& out = tflite_export::out_tensor(b, node).shape;
  for (ir::Padding p : {ir::Padding::same, ir::Padding::valid})
    if (ops::tflite_transpose_pad(out[1], w[1], a.stride_h, p) == a.pad_top &&
        ops::tflite_transpose_pad(out[2], w[2], a.stride_w, p) == a.pad_left)
      return p == ir::Padding::same ? tfl::Padding::SAME : tfl::Padding::VALID;
  tflite_export::refuse(b, node,
                        fmt::format("padding top {} left {} is neither TFLite's SAME nor VALID "
                                    "for this output; TRANSPOSE_CONV cannot express it",
                                    a.pad_top, a.pad_left));
}

void write_transpose_conv(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::TransposeConvAttrs>();
  const tfl::Padding padding = written_padding(b, node);
  const ir::Tensor& out = out_tensor(b, node);
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const int32_t version = a.activation != ir::Activation::none ? 4
                          : has_bias                           ? 3
                          : is_int8(b, node)                   ? 2
                                                               : 1;
  std::vector<int32_t> inputs{b.constant_i32(out.name + "/output_shape", {4}, out.shape),
                              b.tensor(n.inputs[1]), b.tensor(n.inputs[0])};
  if (has_bias) inputs.push_back(b.tensor(n.inputs[2]));
  const auto options = tfl::CreateTransposeConvOptions(b.fbb(), padding, a.stride_w, a.stride_h,
                                                       activation(a.activation));
  b.add_operator(tfl::BuiltinOperator::TRANSPOSE_CONV, version, inputs, io_of(b, n.outputs),
                 tfl::BuiltinOptions::TransposeConvOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace conv_lowering;

LoweredOp lower_TransposeConv(ir::Graph& g, size_t node) {
  const Operands o = operands(g, node, true);
  require_rank(g, node, o.input, "input", 4);
  require_rank(g, node, o.filter, "filter", 4);
  require_rank(g, node, o.output, "output", 4);
  const DType type = activation_type(g, node, o, /*int16=*/true);
  const auto& in = g.tensors[o.input].shape;
  const auto& w = g.tensors[o.filter].shape;  // [OC, KH, KW, IC]
  const auto& out = g.tensors[o.output].shape;
  const int32_t oc = w[0];
  if (w[3] != in[3] || out[0] != in[0] || out[3] != oc)
    refuse(g, node,
           fmt::format("{} {}, {} {} and {} {}; expected the filter [OC,KH,KW,IC] of the "
                       "input's channels and the output [N,OH,OW,OC] of its batch",
                       label(g, o.input, "input"), shape_str(in), label(g, o.filter, "filter"),
                       shape_str(w), label(g, o.output, "output"), shape_str(out)));
  require_bias_size(g, node, o.bias, oc);
  const auto& a = g.nodes[node].params.get<ops::TransposeConvAttrs>();
  TransposeConvParams p{};
  p.stride_h = to_int16(g, node, a.stride_h, "stride_h");
  p.stride_w = to_int16(g, node, a.stride_w, "stride_w");
  p.pad_top = to_int16(g, node, a.pad_top, "top padding");
  p.pad_left = to_int16(g, node, a.pad_left, "left padding");
  p.act_min = -128;
  p.act_max = 127;
  LoweredOp lowered;
  const std::vector<double> scales =
      type != DType::f32 ? conv_scales(g, node, o, oc, 0) : std::vector<double>{};
  fill_output_stage(g, node, o, type, a.activation, scales, p, lowered);
  lowered.params = params_bytes(p);
  return lowered;
}

}  // namespace plan

// ONNX import: ConvTranspose (opset 1 on; group 1, dilation 1, 1-D or 2-D).
namespace onnx_import {
namespace {

// One spatial axis of ConvTranspose after the ONNX operator spec: the natural extent
// stride * (in - 1) + output_padding + kernel, cut by pads or, with output_shape or auto_pad
// SAME_*, by the padding the spec derives (SAME_UPPER puts the smaller half first). An
// output_shape larger than the natural extent adds rows at the end (bias only), as ONNX's
// reference does.
struct TransposeAxis {
  int64_t out, pad_before;
};
TransposeAxis transpose_axis(Context& ctx, int64_t in, int64_t kernel, int64_t stride,
                             int64_t out_pad, int64_t pad_begin, int64_t pad_end,
                             int64_t wanted_out, const std::string& auto_pad) {
  if (stride < 1 || out_pad < 0 || out_pad >= std::max<int64_t>(stride, 1) || pad_begin < 0 ||
      pad_end < 0)
    ctx.fail(
        fmt::format("strides {}, output_padding {}, pads {} {}; expected strides >= 1, "
                    "0 <= output_padding < strides and pads >= 0",
                    stride, out_pad, pad_begin, pad_end));
  const int64_t natural = stride * (in - 1) + out_pad + kernel;
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (wanted_out < 0 && same) wanted_out = in * stride;
  if (wanted_out < 0) {
    if (natural - pad_begin - pad_end < 1)
      ctx.fail(
          fmt::format("pads {} {} leave no output of the extent {}", pad_begin, pad_end, natural));
    return {natural - pad_begin - pad_end, pad_begin};
  }
  const int64_t total = natural - wanted_out;
  if (total <= 0) return {wanted_out, 0};
  return {wanted_out, auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2};
}

void convert_ConvTranspose(Context& ctx) {
  Value& x = ctx.input(0);
  const bool one_d = x.shape.size() == 3;  // [N,C,L]: a 2-D transposed conv with H = 1
  if (x.shape.size() != 4 && !one_d)
    ctx.unsupported(
        fmt::format("input of shape {}; only 1-D [N,C,L] and 2-D [N,C,H,W] "
                    "transposed convolution is imported",
                    shape_str(x.shape)));
  if (x.is_constant()) ctx.unsupported("transposed convolution of a constant input");
  const Constant& wc = ctx.constant_input(1, "weights W");
  if (!wc.is_float || wc.shape.size() != x.shape.size() || wc.shape[0] != x.shape[1])
    ctx.fail(
        fmt::format("weights W must be a float [C,M/group,{}] tensor for {} input "
                    "channels; got {}",
                    one_d ? "k" : "kH,kW", x.shape[1], shape_str(wc.shape)));
  if (ctx.attr_int("group", 1) != 1) ctx.unsupported("group other than 1");
  for (int64_t d : ctx.attr_ints("dilations"))
    if (d != 1) ctx.unsupported("dilations other than 1");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    ctx.fail(
        fmt::format("auto_pad '{}'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER", auto_pad));
  const size_t axes = one_d ? 1 : 2;
  const std::vector<int64_t> spatial(wc.shape.begin() + 2, wc.shape.end());
  const std::vector<int64_t> kernel_shape = ctx.attr_ints("kernel_shape");
  if (!kernel_shape.empty() && kernel_shape != spatial)
    ctx.fail(fmt::format("kernel_shape {} differs from the weights {}", shape_str(kernel_shape),
                         shape_str(wc.shape)));
  // An absent attribute takes its default; a present one has one value per axis (pads two).
  auto per_axis = [&](const char* name, size_t count, int64_t fallback) {
    std::vector<int64_t> v = ctx.attr_ints(name);
    if (v.empty()) v.assign(count, fallback);
    if (v.size() != count)
      ctx.fail(fmt::format("{} has {} values; expected {}", name, v.size(), count));
    return v;
  };
  const std::vector<int64_t> strides = per_axis("strides", axes, 1);
  const std::vector<int64_t> out_pads = per_axis("output_padding", axes, 0);
  const std::vector<int64_t> pads =
      auto_pad == "NOTSET" ? per_axis("pads", 2 * axes, 0) : std::vector<int64_t>(2 * axes, 0);
  const std::vector<int64_t> output_shape = per_axis("output_shape", axes, -1);

  const int64_t n = x.shape[0], c = x.shape[1], m = wc.shape[1];
  const int64_t h = one_d ? 1 : x.shape[2], w = x.shape.back();
  const int64_t kh = one_d ? 1 : wc.shape[2], kw = wc.shape.back();
  const TransposeAxis ax_h = one_d ? TransposeAxis{1, 0}
                                   : transpose_axis(ctx, h, kh, strides[0], out_pads[0], pads[0],
                                                    pads[2], output_shape[0], auto_pad);
  const size_t wi = axes - 1;  // index of the width in per-axis attributes
  const TransposeAxis ax_w = transpose_axis(ctx, w, kw, strides[wi], out_pads[wi], pads[wi],
                                            pads[wi + axes], output_shape[wi], auto_pad);

  std::vector<float> bias;
  if (ctx.has_input(2)) {
    const Constant& bc = ctx.constant_input(2, "bias B");
    if (!bc.is_float || bc.elements() != m)
      ctx.fail(fmt::format("bias B has shape {}; expected [{}]", shape_str(bc.shape), m));
    bias = bc.f;
  }
  const std::string name = ctx.node->output(0);
  int in = ctx.as_nhwc(x, ctx.node->input(0));
  if (one_d) in = ctx.reshape(in, ctx.ir_shape({n, 1, w, c}), name + "/2d_in");
  std::vector<float> filter(wc.f.size());  // [C,M,kH,kW] -> [M,kH,kW,C]
  for (int64_t ic = 0; ic < c; ++ic)
    for (int64_t oc = 0; oc < m; ++oc)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t z = 0; z < kw; ++z)
          filter[((oc * kh + y) * kw + z) * c + ic] = wc.f[((ic * m + oc) * kh + y) * kw + z];
  const int filter_t = ctx.ir_constant(name + "/filter", ctx.ir_shape({m, kh, kw, c}), filter);
  const int bias_t = bias.empty() ? -1 : ctx.ir_constant(name + "/bias", ctx.ir_shape({m}), bias);

  ops::TransposeConvAttrs a;
  a.stride_h = static_cast<int>(one_d ? 1 : strides[0]);
  a.stride_w = static_cast<int>(strides[wi]);
  a.pad_top = static_cast<int>(ax_h.pad_before);
  a.pad_left = static_cast<int>(ax_w.pad_before);
  Value out;
  out.shape = one_d ? Shape{n, m, ax_w.out} : Shape{n, m, ax_h.out, ax_w.out};
  out.nhwc = ctx.emit(OpCode::TransposeConv, {in, filter_t, bias_t},
                      ctx.ir_shape({n, ax_h.out, ax_w.out, m}), a, one_d ? name + "/2d" : name);
  if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, ax_w.out, m}), name);
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

void describe(const ir::Node& n, nlohmann::json& out) {
  const auto& a = n.params.get<TransposeConvAttrs>();
  out["stride"] = {a.stride_h, a.stride_w};
  out["padding"] = {a.pad_top, a.pad_left};
}

}  // namespace

const HostOp& host_op_TransposeConv() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, 0, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::TRANSPOSE_CONV), "TRANSPOSE_CONV",
        read_transpose_conv}},
      {{"ConvTranspose", onnx_import::convert_ConvTranspose, 1}},
      write_transpose_conv,
      activation_field<TransposeConvAttrs>,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe,
      /*weight_geometry=*/nullptr};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
