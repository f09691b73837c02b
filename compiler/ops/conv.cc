// Conv2D and DepthwiseConv2D: everything the compiler knows about them, in one file.
//
// Semantics: TFLite CONV_2D (grouped when the input has a multiple of the filter's channels)
// and DEPTHWISE_CONV_2D, NHWC, filters [OC,KH,KW,IC/groups] and [1,KH,KW,IC*M], optional
// bias, a fused activation; ONNX Conv maps to them. int8
// follows TFLite Micro's Prepare (per-channel multipliers, plan/lower_conv.cc). Invariants
// the reader checks: the output shape follows TFLite's padding rule, weights are symmetric
// int8 per tensor or per output channel, the bias scale is input scale x weight scale.
// Quantized from calibrated ranges with per-channel weights; channels are consumed by a
// conv and pass through a depthwise conv of multiplier 1. TFLite: builtins CONV_2D (3) and
// DEPTHWISE_CONV_2D (4) with their options; padding TFLite cannot express is written as a
// PAD in front; versions from tensorflow/lite/tools/versioning/op_version.cc (int8 3,
// grouped conv 6, dilated float depthwise 2).
#include "ops/conv.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_window.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_conv.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

// Conv2DOptions and DepthwiseConv2DOptions share these fields (schema.fbs); the depthwise
// depth_multiplier is redundant and derived from the shapes instead.
template <typename Options>
ops::ConvAttrs read_options(OpMapper& m, const Options* o, const char* type) {
  if (!o) m.fail(fmt::format("{} missing; expected strides and padding", type));
  ops::ConvAttrs a;
  a.window.padding = m.padding(o->padding());
  a.window.stride_h = m.window(o->stride_h(), "stride_h");
  a.window.stride_w = m.window(o->stride_w(), "stride_w");
  a.window.dilation_h = m.window(o->dilation_h_factor(), "dilation_h_factor");
  a.window.dilation_w = m.window(o->dilation_w_factor(), "dilation_w_factor");
  a.activation = m.activation(o->fused_activation_function());
  return a;
}

// The output shape the window gives for `channels` output channels.
void require_output(OpMapper& m, const ir::Tensor& in, const ir::Tensor& w,
                    const ops::WindowAttrs& a, int32_t channels) {
  const int32_t oh =
      m.out_extent(in.shape[1], w.shape[1], a.stride_h, a.dilation_h, a.padding, "height");
  const int32_t ow =
      m.out_extent(in.shape[2], w.shape[2], a.stride_w, a.dilation_w, a.padding, "width");
  m.require_shape(m.output(), m.out_label(), {in.shape[0], oh, ow, channels});
}

// input, filter and bias (-1 when absent).
void list_inputs(OpMapper& m, ir::Node& n) {
  n.inputs = {m.input_index(0), m.input_index(1), m.input_index(2, /*optional=*/true)};
}

ir::Node read_conv(OpMapper& m) {
  m.require_arity(2, 3);
  ir::Node n{OpCode::Conv2D, {}, {}, {}, {}};
  const ops::ConvAttrs a = read_options(
      m, m.options(m.op().builtin_options_as_Conv2DOptions(), tfl::BuiltinOptions::Conv2DOptions),
      "Conv2DOptions");
  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  m.require_activation_types(in, m.output(), /*int16=*/true);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 4);
  const int32_t ic = in.shape[3], oc = w.shape[0], filter_ic = w.shape[3];
  if (ic % filter_ic != 0)
    m.fail(
        fmt::format("{} has {} input channels, not a multiple of the filter's {}; expected "
                    "a whole number of groups",
                    m.in_label(0), ic, filter_ic));
  const int32_t groups = ic / filter_ic;
  if (oc % groups != 0)
    m.fail(fmt::format("{} has {} output channels for {} groups; expected a multiple",
                       m.in_label(1), oc, groups));
  tflite_import::check_weights(m, in, 0, oc);
  require_output(m, in, m.input(1), a.window, oc);
  n.params = a;
  list_inputs(m, n);
  return n;
}

ir::Node read_depthwise(OpMapper& m) {
  m.require_arity(2, 3);
  ir::Node n{OpCode::DepthwiseConv2D, {}, {}, {}, {}};
  ops::ConvAttrs a = read_options(m,
                                  m.options(m.op().builtin_options_as_DepthwiseConv2DOptions(),
                                            tfl::BuiltinOptions::DepthwiseConv2DOptions),
                                  "DepthwiseConv2DOptions");
  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  m.require_activation_types(in, m.output(), /*int16=*/true);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 4);
  if (w.shape[0] != 1)
    m.fail(fmt::format("{} has shape {}; expected [1,KH,KW,OC]", m.in_label(1),
                       shape_string(w.shape)));
  const int32_t ic = in.shape[3], oc = w.shape[3];
  if (oc % ic != 0)
    m.fail(fmt::format("{} has {} channels for {} input channels; expected a multiple",
                       m.in_label(1), oc, ic));
  a.depth_multiplier = oc / ic;
  tflite_import::check_weights(m, in, 3, oc);
  require_output(m, in, m.input(1), a.window, oc);
  n.params = a;
  list_inputs(m, n);
  return n;
}

// A PAD op in front of a conv whose explicit padding TFLite cannot express; returns the
// padded tensor. int8 PAD fills with the zero point, i.e. real 0 as the conv expects.
int32_t pad_in_front(tflite_export::ModelBuilder& b, size_t node, const ops::WindowAttrs& a) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& in = in_tensor(b, node, 0);
  ir::Tensor padded = in;
  padded.name = in.name + "/padded";
  padded.constant = false;
  padded.data.clear();
  padded.shape[1] += a.pad_top + a.pad_bottom;
  padded.shape[2] += a.pad_left + a.pad_right;
  const int32_t out = b.activation(padded);
  const int32_t pads =
      b.constant_i32(padded.name + "/paddings", {4, 2},
                     {0, 0, a.pad_top, a.pad_bottom, a.pad_left, a.pad_right, 0, 0});
  b.add_operator(tfl::BuiltinOperator::PAD, is_int8(b, node) ? 2 : 1, {b.tensor(n.inputs[0]), pads},
                 {out}, tfl::BuiltinOptions::PadOptions, tfl::CreatePadOptions(b.fbb()).Union());
  return out;
}

// The padding option and the operator's inputs (behind a PAD when needed).
std::pair<tfl::Padding, std::vector<int32_t>> padded_inputs(tflite_export::ModelBuilder& b,
                                                            size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const ops::WindowAttrs& a = n.params.get<ops::ConvAttrs>().window;
  const auto& w = tflite_export::in_tensor(b, node, 1).shape;
  const tflite_export::WindowPadding wp =
      tflite_export::window_padding(b, node, a, w[1], w[2], a.dilation_h, a.dilation_w);
  std::vector<int32_t> inputs = tflite_export::io_of(b, n.inputs);
  if (wp.needs_pad_op) inputs[0] = pad_in_front(b, node, a);
  return {wp.padding, inputs};
}

void write_conv(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::ConvAttrs>();
  const auto [padding, inputs] = padded_inputs(b, node);
  const bool grouped = in_tensor(b, node, 0).shape[3] != in_tensor(b, node, 1).shape[3];
  const int32_t version = grouped ? 6 : is_int8(b, node) ? 3 : 1;
  const auto options =
      tfl::CreateConv2DOptions(b.fbb(), padding, a.window.stride_w, a.window.stride_h,
                               activation(a.activation), a.window.dilation_w, a.window.dilation_h);
  b.add_operator(tfl::BuiltinOperator::CONV_2D, version, inputs, io_of(b, n.outputs),
                 tfl::BuiltinOptions::Conv2DOptions, options.Union());
}

void write_depthwise(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::ConvAttrs>();
  const auto [padding, inputs] = padded_inputs(b, node);
  const bool dilated = a.window.dilation_h != 1 || a.window.dilation_w != 1;
  const int32_t version = is_int8(b, node) ? 3 : dilated ? 2 : 1;
  const auto options = tfl::CreateDepthwiseConv2DOptions(
      b.fbb(), padding, a.window.stride_w, a.window.stride_h, a.depth_multiplier,
      activation(a.activation), a.window.dilation_w, a.window.dilation_h);
  b.add_operator(tfl::BuiltinOperator::DEPTHWISE_CONV_2D, version, inputs, io_of(b, n.outputs),
                 tfl::BuiltinOptions::DepthwiseConv2DOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace conv_lowering;

namespace {

// Input, filter and output of rank 4 (bias optional).
Operands conv_operands(const ir::Graph& g, size_t node) {
  const Operands o = operands(g, node, true);
  require_rank(g, node, o.input, "input", 4);
  require_rank(g, node, o.filter, "filter", 4);
  require_rank(g, node, o.output, "output", 4);
  return o;
}

// What Conv2D and DepthwiseConv2D lowering share once the filter's shape is checked: the
// window, the clamp and the requantization of `oc` output channels whose filter scales lie
// along `filter_axis`. `int16`: the 16x8 twin, whose arithmetic differs only in the kernel.
template <typename Params>
LoweredOp lower_conv_family(ir::Graph& g, size_t node, const Operands& o, int32_t oc,
                            int32_t filter_axis, bool int16, Params& p) {
  const DType type = activation_type(g, node, o, int16);
  require_bias_size(g, node, o.bias, oc);
  const auto& a = g.nodes[node].params.get<ops::ConvAttrs>();
  const ops::WindowAttrs& window = a.window;
  const auto& w = g.tensors[o.filter].shape;
  const Window2D win =
      window_2d(g, node, o, window, w[1], w[2], window.dilation_h, window.dilation_w, oc);
  fill_window(g, node, window, win, p);
  p.act_min = -128;
  p.act_max = 127;
  LoweredOp lowered;
  const std::vector<double> scales =
      type != DType::f32 ? conv_scales(g, node, o, oc, filter_axis) : std::vector<double>{};
  fill_output_stage(g, node, o, type, a.activation, scales, p, lowered);
  lowered.params = params_bytes(p);
  return lowered;
}

LoweredOp lower_conv(ir::Graph& g, size_t node, bool int16) {
  const Operands o = conv_operands(g, node);
  const auto& in = g.tensors[o.input].shape;
  const auto& w = g.tensors[o.filter].shape;  // [OC, KH, KW, IC / groups]
  const int32_t oc = w[0];
  if (in[3] % w[3] != 0 || oc % (in[3] / w[3]) != 0)
    refuse(
        g, node,
        fmt::format("{} has {} channels and {} has shape {}; expected input channels "
                    "a multiple of the filter's last dim and output channels a "
                    "multiple of the groups",
                    label(g, o.input, "input"), in[3], label(g, o.filter, "filter"), shape_str(w)));
  Conv2DParams p{};
  return lower_conv_family(g, node, o, oc, 0, int16, p);
}

LoweredOp lower_depthwise(ir::Graph& g, size_t node, bool int16) {
  const Operands o = conv_operands(g, node);
  const auto& in = g.tensors[o.input].shape;
  const auto& w = g.tensors[o.filter].shape;  // [1, KH, KW, IC * M]
  const int32_t oc = w[3];
  // The multiplier follows from the shapes (TFLite's option field is redundant with them).
  if (w[0] != 1 || oc % in[3] != 0)
    refuse(g, node,
           fmt::format("{} has shape {} for {} input channels; expected [1,KH,KW,IC*M]",
                       label(g, o.filter, "filter"), shape_str(w), in[3]));
  DepthwiseConv2DParams p{};
  p.depth_multiplier = oc / in[3];
  return lower_conv_family(g, node, o, oc, 3, int16, p);
}

}  // namespace

LoweredOp lower_Conv2D(ir::Graph& g, size_t node) { return lower_conv(g, node, false); }
LoweredOp lower_DepthwiseConv2D(ir::Graph& g, size_t node) {
  return lower_depthwise(g, node, false);
}
// The 16x8 twins (plan/select_kernels.cc picks them for int16 activations).
LoweredOp lower_Conv2DInt16(ir::Graph& g, size_t node) { return lower_conv(g, node, true); }
LoweredOp lower_DepthwiseConv2DInt16(ir::Graph& g, size_t node) {
  return lower_depthwise(g, node, true);
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Conv(Context& ctx) {
  Value& x = ctx.input(0);
  const bool one_d = x.shape.size() == 3;  // [N,C,L]: a 2-D conv with H = 1
  if (x.shape.size() != 4 && !one_d)
    ctx.unsupported(
        fmt::format("input of shape {}; only 1-D [N,C,L] and 2-D [N,C,H,W] convolution is imported",
                    shape_str(x.shape)));
  if (x.is_constant()) ctx.unsupported("convolution of a constant input");
  const Constant& wc = ctx.constant_input(1, "weights W");
  if (!wc.is_float || wc.shape.size() != x.shape.size())
    ctx.fail(fmt::format("weights W must be a float [M,C/group,{}] tensor; got {}",
                         one_d ? "k" : "kH,kW", shape_str(wc.shape)));
  const std::vector<float> wdata = wc.f;
  const int64_t n = x.shape[0], c = x.shape[1], h = one_d ? 1 : x.shape[2], w = x.shape.back();
  const int64_t m = wc.shape[0], cg = wc.shape[1], kh = one_d ? 1 : wc.shape[2],
                kw = wc.shape.back();
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1 || c % group != 0 || m % group != 0 || cg * group != c || m < 1)
    ctx.fail(fmt::format("group {} does not fit input channels {}, weights {}", group, c,
                         shape_str(wc.shape)));
  const std::vector<int64_t> kernel_shape = ctx.attr_ints("kernel_shape");
  const std::vector<int64_t> spatial(wc.shape.begin() + 2, wc.shape.end());
  if (!kernel_shape.empty() && kernel_shape != spatial)
    ctx.fail(fmt::format("kernel_shape {} differs from the weights {}", shape_str(kernel_shape),
                         shape_str(wc.shape)));
  std::vector<float> bias(static_cast<size_t>(m), 0.0f);
  if (ctx.has_input(2)) {
    const Constant& bc = ctx.constant_input(2, "bias B");
    if (!bc.is_float || bc.elements() != m)
      ctx.fail(fmt::format("bias B has shape {}; expected [{}]", shape_str(bc.shape), m));
    bias = bc.f;
  }
  const Window2D win = read_window(ctx, h, w, kh, kw, false, true, one_d);

  const std::string name = ctx.node->output(0);
  int in = ctx.as_nhwc(x, ctx.node->input(0));
  if (one_d) in = ctx.reshape(in, ctx.ir_shape({n, 1, w, c}), name + "/2d_in");
  const bool depthwise = group > 1 && group == c && cg == 1;
  std::vector<float> filter(wdata.size());
  std::vector<int32_t> filter_shape;
  if (depthwise) {  // [M,1,kH,kW] -> [1,kH,kW,M]
    for (int64_t o = 0; o < m; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t z = 0; z < kw; ++z)
          filter[(y * kw + z) * m + o] = wdata[(o * kh + y) * kw + z];
    filter_shape = ctx.ir_shape({1, kh, kw, m});
  } else {  // [M,Cg,kH,kW] -> [M,kH,kW,Cg]
    for (int64_t o = 0; o < m; ++o)
      for (int64_t ch = 0; ch < cg; ++ch)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t z = 0; z < kw; ++z)
            filter[((o * kh + y) * kw + z) * cg + ch] = wdata[((o * cg + ch) * kh + y) * kw + z];
    filter_shape = ctx.ir_shape({m, kh, kw, cg});
  }
  const int filter_t = ctx.ir_constant(name + "/filter", filter_shape, filter);
  const int bias_t = ctx.ir_constant(name + "/bias", ctx.ir_shape({m}), bias);

  ops::ConvAttrs a;
  a.window.stride_h = static_cast<int>(win.stride_h);
  a.window.stride_w = static_cast<int>(win.stride_w);
  a.window.dilation_h = static_cast<int>(win.dilation_h);
  a.window.dilation_w = static_cast<int>(win.dilation_w);
  a.window.padding = ir::Padding::explicit_pads;
  a.window.pad_top = static_cast<int>(win.pad_top);
  a.window.pad_left = static_cast<int>(win.pad_left);
  a.window.pad_bottom = static_cast<int>(win.pad_bottom);
  a.window.pad_right = static_cast<int>(win.pad_right);
  a.depth_multiplier = depthwise ? static_cast<int>(m / c) : 1;
  Value out;
  out.shape = one_d ? Shape{n, m, win.out_w} : Shape{n, m, win.out_h, win.out_w};
  out.nhwc = ctx.emit(depthwise ? OpCode::DepthwiseConv2D : OpCode::Conv2D, {in, filter_t, bias_t},
                      ctx.ir_shape({n, win.out_h, win.out_w, m}), a, one_d ? name + "/2d" : name);
  if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, win.out_w, m}), name);
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

const char* multiplies_channels(const ir::Node& n) {
  return n.params.get<ConvAttrs>().depth_multiplier != 1 ? "has a depth multiplier above 1"
                                                         : nullptr;
}

void describe(const ir::Node& n, nlohmann::json& out) {
  const auto& a = n.params.get<ConvAttrs>();
  describe_window(a.window, out);
  out["dilation"] = {a.window.dilation_h, a.window.dilation_w};
  if (n.op == OpCode::DepthwiseConv2D) out["depth_multiplier"] = a.depth_multiplier;
}

// Conv2D [OC,KH,KW,IC/groups] and DepthwiseConv2D [1,KH,KW,IC*M] as grouped convolutions;
// the output extent and padding are the lowering's (plan::window_2d).
ir::WeightGeometry conv_geometry(const ir::Graph& g, size_t node) {
  const plan::Operands o = plan::operands(g, node, true);
  for (int t : {o.input, o.filter, o.output}) plan::require_rank(g, node, t, "operand", 4);
  const ir::Node& n = g.nodes[node];
  const auto& in = g.tensors[static_cast<size_t>(o.input)].shape;
  const auto& filter = g.tensors[static_cast<size_t>(o.filter)].shape;
  const WindowAttrs& a = n.params.get<ConvAttrs>().window;
  const bool depthwise = n.op == OpCode::DepthwiseConv2D;
  ir::WeightGeometry w;
  w.batch = in[0];
  w.h = in[1];
  w.w = in[2];
  w.c = in[3];
  w.kh = filter[1];
  w.kw = filter[2];
  w.out_channels = depthwise ? filter[3] : filter[0];
  w.group_in = depthwise ? 1 : filter[3];
  if (w.group_in < 1 || w.c % w.group_in != 0 || w.out_channels % (w.c / w.group_in) != 0)
    throw tinyforge::Error(fmt::format("{}: filter {} does not divide the input's {} channels",
                                       g.node_label(node), shape_string(filter), w.c));
  w.groups = w.c / w.group_in;
  w.out_channel_fastest = depthwise;
  w.stride_h = a.stride_h;
  w.stride_w = a.stride_w;
  w.dilation_h = a.dilation_h;
  w.dilation_w = a.dilation_w;
  const plan::Window2D win =
      plan::window_2d(g, node, o, a, w.kh, w.kw, a.dilation_h, a.dilation_w, w.out_channels);
  w.oh = win.h.out;
  w.ow = win.w.out;
  w.pad_top = win.h.pad_before;
  w.pad_left = win.w.pad_before;
  return w;
}

}  // namespace

const HostOp& host_op_Conv2D() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, 0, false, ir::ChannelRule::consumes},
      {{static_cast<int32_t>(tfl::BuiltinOperator::CONV_2D), "CONV_2D", read_conv}},
      {{"Conv", onnx_import::convert_Conv, 1}},
      write_conv,
      activation_field<ConvAttrs>,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe,
      conv_geometry};
  return op;
}

const HostOp& host_op_DepthwiseConv2D() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, 3, false, ir::ChannelRule::depthwise},
      {{static_cast<int32_t>(tfl::BuiltinOperator::DEPTHWISE_CONV_2D), "DEPTHWISE_CONV_2D",
        read_depthwise}},
      /*onnx_reads=*/{},
      write_depthwise,
      activation_field<ConvAttrs>,
      /*copies_input=*/nullptr,
      multiplies_channels,
      describe,
      conv_geometry};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
