// AveragePool2D and MaxPool2D: everything the compiler knows about them, in one file.
//
// Semantics: TFLite AVERAGE_POOL_2D and MAX_POOL_2D over NHWC with a fused activation;
// ONNX AveragePool, MaxPool and their global forms map to them.
// Invariants: the output shape follows TFLite's padding
// rule with dilation 1; int8 input and output share one scale and zero point, as TFLite
// Micro's PoolingPrepare requires (|scale difference| <= 1e-6, micro/kernels/
// pooling_common.cc), and the average divides by the taps inside the input. Both also take
// int16 (TFLite's 16x8 scheme, reference_integer_ops::AveragePool / MaxPool for int16_t),
// quantized alike; an int16 average window holds at most 65,535 taps (its int32 sum).
// Quantization keeps the input's parameters; channels pass through for pruning. TFLite: builtins
// AVERAGE_POOL_2D (1) and MAX_POOL_2D (17) with Pool2DOptions, version 2 for int8;
// explicit padding other than SAME or VALID has no TFLite form and is refused.
#include "ops/pool.h"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_window.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "ops/pad.h"
#include "ops/strided_slice.h"
#include "plan/lower_conv.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

ir::Node read_pool(OpMapper& m, OpCode op) {
  m.require_arity(1, 1);
  const auto* o =
      m.options(m.op().builtin_options_as_Pool2DOptions(), tfl::BuiltinOptions::Pool2DOptions);
  if (!o) m.fail("Pool2DOptions missing; expected filter size, strides and padding");
  ir::Node n{op, {}, {}, {}, {}};
  ops::PoolAttrs p;
  ops::WindowAttrs& a = p.window;
  a.padding = m.padding(o->padding());
  a.stride_h = m.window(o->stride_h(), "stride_h");
  a.stride_w = m.window(o->stride_w(), "stride_w");
  a.filter_h = m.window(o->filter_height(), "filter_height");
  a.filter_w = m.window(o->filter_width(), "filter_width");
  p.activation = m.activation(o->fused_activation_function());
  const ir::Tensor& in = m.input(0);
  m.require_rank(in, m.in_label(0), 4);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const int32_t oh = m.out_extent(in.shape[1], a.filter_h, a.stride_h, 1, a.padding, "height");
  const int32_t ow = m.out_extent(in.shape[2], a.filter_w, a.stride_w, 1, a.padding, "width");
  m.require_shape(out, m.out_label(), {in.shape[0], oh, ow, in.shape[3]});
  n.params = p;
  return n;
}

ir::Node read_average(OpMapper& m) { return read_pool(m, OpCode::AveragePool2D); }
ir::Node read_max(OpMapper& m) { return read_pool(m, OpCode::MaxPool2D); }

void write_pool(tflite_export::ModelBuilder& b, size_t node, tfl::BuiltinOperator builtin) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& p = n.params.get<ops::PoolAttrs>();
  const ops::WindowAttrs& a = p.window;
  const WindowPadding wp = window_padding(b, node, a, a.filter_h, a.filter_w, 1, 1);
  if (wp.needs_pad_op)
    refuse(b, node,
           fmt::format("padding top {} left {} bottom {} right {} is neither SAME nor VALID; "
                       "TFLite pools have no explicit padding",
                       a.pad_top, a.pad_left, a.pad_bottom, a.pad_right));
  const auto options = tfl::CreatePool2DOptions(b.fbb(), wp.padding, a.stride_w, a.stride_h,
                                                a.filter_w, a.filter_h, activation(p.activation));
  b.add_operator(builtin, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 tfl::BuiltinOptions::Pool2DOptions, options.Union());
}

void write_average(tflite_export::ModelBuilder& b, size_t node) {
  write_pool(b, node, tfl::BuiltinOperator::AVERAGE_POOL_2D);
}
void write_max(tflite_export::ModelBuilder& b, size_t node) {
  write_pool(b, node, tfl::BuiltinOperator::MAX_POOL_2D);
}

}  // namespace

namespace plan {
namespace {

using namespace conv_lowering;

Pool2DParams lower_pool(ir::Graph& g, size_t node, LoweredOp& lowered) {
  const Operands o = operands(g, node, false);
  require_rank(g, node, o.input, "input", 4);
  require_rank(g, node, o.output, "output", 4);
  const DType type = activation_type(g, node, o, /*int16=*/true);
  const auto& attrs = g.nodes[node].params.get<ops::PoolAttrs>();
  const ops::WindowAttrs& a = attrs.window;
  const Window2D win =
      window_2d(g, node, o, a, a.filter_h, a.filter_w, 1, 1, g.tensors[o.input].shape[3]);
  Pool2DParams p{};
  p.stride_h = to_int16(g, node, a.stride_h, "stride_h");
  p.stride_w = to_int16(g, node, a.stride_w, "stride_w");
  p.filter_h = to_int16(g, node, a.filter_h, "filter_h");
  p.filter_w = to_int16(g, node, a.filter_w, "filter_w");
  p.pad_top = to_int16(g, node, win.h.pad_before, "top padding");
  p.pad_left = to_int16(g, node, win.w.pad_before, "left padding");
  const FloatRange f = float_clamp(attrs.activation);
  p.f_act_min = f.min;
  p.f_act_max = f.max;
  p.act_min = -128;
  p.act_max = 127;
  if (type != DType::f32) {
    const ActQuant in = activation_quant(g, node, o.input, "input");
    const ActQuant out = activation_quant(g, node, o.output, "output");
    if (std::abs(static_cast<double>(in.scale) - static_cast<double>(out.scale)) > 1e-6 ||
        in.zero_point != out.zero_point)
      refuse(g, node,
             fmt::format("input quantization (scale {}, zero point {}) differs from the "
                         "output's (scale {}, zero point {}); expected the same, as "
                         "TFLite's pooling requires",
                         in.scale, in.zero_point, out.scale, out.zero_point));
    const ClampRange r = activation_range(attrs.activation, out.scale, out.zero_point, type);
    if (r.min > r.max)
      refuse(g, node,
             fmt::format("fused activation leaves an empty {} range [{}, {}]", dtype_name(type),
                         r.min, r.max));
    p.act_min = r.min;
    p.act_max = r.max;
  }
  lowered.inputs = {o.input};
  return p;
}

}  // namespace

LoweredOp lower_AveragePool2D(ir::Graph& g, size_t node) {
  LoweredOp lowered;
  const Pool2DParams p = lower_pool(g, node, lowered);
  if (g.tensors[g.nodes[node].outputs[0]].type == DType::i16 &&
      int64_t{p.filter_h} * p.filter_w > 65535)
    refuse(g, node,
           fmt::format("an int16 average over a {}x{} window: at most 65535 taps keep TFLite's "
                       "int32 sum exact",
                       p.filter_h, p.filter_w));
  lowered.params = params_bytes(p);
  return lowered;
}

LoweredOp lower_MaxPool2D(ir::Graph& g, size_t node) {
  LoweredOp lowered;
  lowered.params = params_bytes(lower_pool(g, node, lowered));
  return lowered;
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// Most taps a dilated MaxPool is unrolled into (one StridedSlice each).
constexpr int64_t kMaxDilatedTaps = 64;

// A dilated MaxPool (ONNX `dilations`; the MaxPool2D kernel has none) over the NHWC tensor
// `in`: the max over the window's taps, each tap a StridedSlice of the input (padded with
// the lowest float, which no window's max can be, every window reaching the input) taking
// every stride-th element from the tap's offset, folded by Maximum. Returns the output.
int dilated_max_pool(Context& ctx, int in, const Window2D& win, int64_t n, int64_t c,
                     const std::string& name) {
  if (win.kernel_h * win.kernel_w > kMaxDilatedTaps)
    ctx.unsupported(fmt::format("a dilated MaxPool of more than {} taps", kMaxDilatedTaps));
  if (win.any_pad()) {
    const std::vector<int32_t>& s = ctx.shape_of(in);
    ops::PadAttrs pa;
    pa.pads = {0, static_cast<int32_t>(win.pad_top),    static_cast<int32_t>(win.pad_left),  0,
               0, static_cast<int32_t>(win.pad_bottom), static_cast<int32_t>(win.pad_right), 0};
    pa.value = std::numeric_limits<float>::lowest();
    in = ctx.emit(OpCode::Pad, {in},
                  ctx.ir_shape({n, s[1] + win.pad_top + win.pad_bottom,
                                s[2] + win.pad_left + win.pad_right, c}),
                  pa, name + "/pad");
  }
  const std::vector<int32_t> out_shape = ctx.ir_shape({n, win.out_h, win.out_w, c});
  int result = -1;
  for (int64_t ky = 0; ky < win.kernel_h; ++ky)
    for (int64_t kx = 0; kx < win.kernel_w; ++kx) {
      const std::string tap = fmt::format("{}/tap{}_{}", name, ky, kx);
      const int slice = ctx.emit(
          OpCode::StridedSlice, {in}, out_shape,
          ops::strided_slice_of({0, ky * win.dilation_h, kx * win.dilation_w, 0},
                                {1, win.stride_h, win.stride_w, 1}, {n, win.out_h, win.out_w, c}),
          tap);
      result = result < 0 ? slice
                          : ctx.emit(OpCode::Maximum, {result, slice}, out_shape, ir::Params{},
                                     tap + "/max");
    }
  return result;
}

void convert_pool(Context& ctx, OpCode op) {
  Value& x = ctx.input(0);
  const bool one_d = x.shape.size() == 3;  // [N,C,L]: a 2-D pool with H = 1
  if (x.shape.size() != 4 && !one_d)
    ctx.unsupported(
        fmt::format("input of shape {}; only 1-D [N,C,L] and 2-D [N,C,H,W] pooling is imported",
                    shape_str(x.shape)));
  if (x.is_constant()) ctx.unsupported("pooling of a constant");
  if (ctx.output_used(1)) ctx.unsupported("the Indices output");
  const std::vector<int64_t> k = ctx.attr_ints("kernel_shape");
  if (k.size() != x.shape.size() - 2)
    ctx.fail(fmt::format("kernel_shape has {} values; expected {}", k.size(), x.shape.size() - 2));
  const int64_t n = x.shape[0], c = x.shape[1], h = one_d ? 1 : x.shape[2], w = x.shape.back();
  Window2D win = read_window(ctx, h, w, one_d ? 1 : k[0], k.back(), ctx.opset >= 10,
                             op == OpCode::MaxPool2D, one_d);
  if (!every_window_hits_input(win, h, w))
    ctx.unsupported("pads or ceil_mode that leave a window entirely outside the input");
  const std::string name = ctx.node->output(0);
  int in = ctx.as_nhwc(x, ctx.node->input(0));
  if (one_d) in = ctx.reshape(in, ctx.ir_shape({n, 1, w, c}), name + "/2d_in");
  const bool include_pad = op == OpCode::AveragePool2D && ctx.attr_int("count_include_pad", 0) != 0;
  if (include_pad && win.any_pad()) {
    // Windows that run past the padded input (ceil_mode) would need a divisor that is
    // neither the full window nor the real taps; refuse those rather than guess.
    if (win.ceil_extra)
      ctx.unsupported("count_include_pad = 1 with ceil_mode windows past the padding");
    ops::PadAttrs pa;
    pa.pads = {0, static_cast<int32_t>(win.pad_top),    static_cast<int32_t>(win.pad_left),  0,
               0, static_cast<int32_t>(win.pad_bottom), static_cast<int32_t>(win.pad_right), 0};
    in = ctx.emit(
        OpCode::Pad, {in},
        ctx.ir_shape({n, h + win.pad_top + win.pad_bottom, w + win.pad_left + win.pad_right, c}),
        pa, name + "/pad");
    win.pad_top = win.pad_left = win.pad_bottom = win.pad_right = 0;
  }
  Value out;
  out.shape = one_d ? Shape{n, c, win.out_w} : Shape{n, c, win.out_h, win.out_w};
  if (win.dilation_h > 1 || win.dilation_w > 1) {
    out.nhwc = dilated_max_pool(ctx, in, win, n, c, one_d ? name + "/2d" : name);
    if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, win.out_w, c}), name);
    return ctx.set_output(0, std::move(out));
  }
  ops::PoolAttrs p;
  ops::WindowAttrs& a = p.window;
  a.filter_h = static_cast<int>(win.kernel_h);
  a.filter_w = static_cast<int>(win.kernel_w);
  a.stride_h = static_cast<int>(win.stride_h);
  a.stride_w = static_cast<int>(win.stride_w);
  a.padding = ir::Padding::explicit_pads;
  a.pad_top = static_cast<int>(win.pad_top);
  a.pad_left = static_cast<int>(win.pad_left);
  a.pad_bottom = static_cast<int>(win.pad_bottom);
  a.pad_right = static_cast<int>(win.pad_right);
  out.nhwc = ctx.emit(op, {in}, ctx.ir_shape({n, win.out_h, win.out_w, c}), p,
                      one_d ? name + "/2d" : name);
  if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, win.out_w, c}), name);
  ctx.set_output(0, std::move(out));
}

void convert_global_pool(Context& ctx, OpCode op) {
  Value& x = ctx.input(0);
  const bool one_d = x.shape.size() == 3;
  if (x.shape.size() != 4 && !one_d)
    ctx.unsupported(fmt::format("input of shape {}; only [N,C,L] and [N,C,H,W] are imported",
                                shape_str(x.shape)));
  if (x.is_constant()) ctx.unsupported("pooling of a constant");
  const int64_t n = x.shape[0], c = x.shape[1], h = one_d ? 1 : x.shape[2], w = x.shape.back();
  if (h > 32767 || w > 32767) ctx.fail("spatial size too large for a global pool");
  ops::PoolAttrs p;
  ops::WindowAttrs& a = p.window;
  a.filter_h = static_cast<int>(h);
  a.filter_w = static_cast<int>(w);
  a.padding = ir::Padding::valid;
  a.stride_h = static_cast<int>(h);
  a.stride_w = static_cast<int>(w);
  const std::string name = ctx.node->output(0);
  int in = ctx.as_nhwc(x, ctx.node->input(0));
  if (one_d) in = ctx.reshape(in, ctx.ir_shape({n, 1, w, c}), name + "/2d_in");
  Value out;
  out.shape = one_d ? Shape{n, c, 1} : Shape{n, c, 1, 1};
  out.nhwc = ctx.emit(op, {in}, ctx.ir_shape({n, 1, 1, c}), p, one_d ? name + "/2d" : name);
  if (one_d) out.nhwc = ctx.reshape(out.nhwc, ctx.ir_shape({n, 1, c}), name);
  ctx.set_output(0, std::move(out));
}

void convert_MaxPool(Context& ctx) { convert_pool(ctx, OpCode::MaxPool2D); }

void convert_AveragePool(Context& ctx) { convert_pool(ctx, OpCode::AveragePool2D); }

void convert_GlobalAveragePool(Context& ctx) { convert_global_pool(ctx, OpCode::AveragePool2D); }

void convert_GlobalMaxPool(Context& ctx) { convert_global_pool(ctx, OpCode::MaxPool2D); }

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

void describe(const ir::Node& n, nlohmann::json& out) {
  const WindowAttrs& a = n.params.get<PoolAttrs>().window;
  describe_window(a, out);
  out["filter"] = {a.filter_h, a.filter_w};
}

constexpr ir::OpTraits kTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false,
                               ir::ChannelRule::window};

}  // namespace

const HostOp& host_op_AveragePool2D() {
  static const HostOp op{kTraits,
                         {{static_cast<int32_t>(tfl::BuiltinOperator::AVERAGE_POOL_2D),
                           "AVERAGE_POOL_2D", read_average}},
                         {{"AveragePool", onnx_import::convert_AveragePool, 1},
                          {"GlobalAveragePool", onnx_import::convert_GlobalAveragePool, 1}},
                         write_average,
                         activation_field<PoolAttrs>,
                         /*copies_input=*/nullptr,
                         /*blocks_channels=*/nullptr,
                         describe};
  return op;
}

const HostOp& host_op_MaxPool2D() {
  static const HostOp op{
      kTraits,
      {{static_cast<int32_t>(tfl::BuiltinOperator::MAX_POOL_2D), "MAX_POOL_2D", read_max}},
      {{"MaxPool", onnx_import::convert_MaxPool, 1},
       {"GlobalMaxPool", onnx_import::convert_GlobalMaxPool, 1}},
      write_max,
      activation_field<PoolAttrs>,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
