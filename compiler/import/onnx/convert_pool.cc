// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool on [N,C,H,W] (or 1-D [N,C,L],
// as H = 1) -> the runtime's channels-last pools. The runtime's average pool divides by the number
// of input elements under the window (ONNX count_include_pad = 0); count_include_pad = 1 with
// padding becomes an explicit zero Pad followed by an unpadded pool, which divides by the
// full window as that mode requires.
#include <fmt/format.h>

#include "import/onnx/converters.h"
#include "import/onnx/onnx_window.h"
#include "ops/pad.h"
#include "ops/pool.h"

namespace tinyforge::onnx_import {
namespace {

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
  Window2D win = read_window(ctx, h, w, one_d ? 1 : k[0], k.back(), ctx.opset >= 10, false, one_d);
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
  Value out;
  out.shape = one_d ? Shape{n, c, win.out_w} : Shape{n, c, win.out_h, win.out_w};
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

}  // namespace

void convert_MaxPool(Context& ctx) { convert_pool(ctx, OpCode::MaxPool2D); }
void convert_AveragePool(Context& ctx) { convert_pool(ctx, OpCode::AveragePool2D); }
void convert_GlobalAveragePool(Context& ctx) { convert_global_pool(ctx, OpCode::AveragePool2D); }
void convert_GlobalMaxPool(Context& ctx) { convert_global_pool(ctx, OpCode::MaxPool2D); }

}  // namespace tinyforge::onnx_import
