#include "import/onnx/onnx_window.h"

#include <fmt/format.h>

#include <algorithm>

namespace tinyforge::onnx_import {
namespace {

constexpr int64_t kMaxParam = 32767;  // the runtime's params store these as int16

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Output size and (begin, end) pads of one spatial dim.
struct Dim {
  int64_t pad_begin, pad_end, out;
  int64_t ceil_extra = 0;  // end padding added so ceil_mode's last window exists
};

Dim resolve_dim(Context& ctx, const std::string& auto_pad, int64_t in, int64_t k, int64_t stride,
                int64_t dilation, int64_t pad_begin, int64_t pad_end, bool ceil_mode) {
  const int64_t span = (k - 1) * dilation + 1;
  Dim d{pad_begin, pad_end, 0};
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Spec: output = ceil(in / stride); the total padding splits evenly, the odd unit
    // going to the end (SAME_UPPER) or the beginning (SAME_LOWER).
    d.out = ceil_div(in, stride);
    const int64_t total = std::max<int64_t>(0, (d.out - 1) * stride + span - in);
    d.pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    d.pad_end = total - d.pad_begin;
    return d;
  }
  if (auto_pad == "VALID") {
    d.pad_begin = d.pad_end = 0;
  } else if (auto_pad != "NOTSET" && !auto_pad.empty()) {
    ctx.fail(
        fmt::format("auto_pad '{}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", auto_pad));
  }
  const int64_t room = in + d.pad_begin + d.pad_end - span;
  if (room < 0)
    ctx.fail(fmt::format("window of {} elements does not fit an input of {} with pads {}+{}", span,
                         in, d.pad_begin, d.pad_end));
  d.out = (ceil_mode ? ceil_div(room, stride) : room / stride) + 1;
  // ceil_mode's extra window reads past the end: make that explicit end padding, so the
  // usual floor formula gives the same output size (pools skip padded taps either way).
  d.ceil_extra = std::max<int64_t>(0, (d.out - 1) * stride + span - (in + d.pad_begin + d.pad_end));
  d.pad_end += d.ceil_extra;
  return d;
}

}  // namespace

Window2D read_window(Context& ctx, int64_t h, int64_t w, int64_t kh, int64_t kw, bool allow_ceil,
                     bool allow_dilation, bool one_d) {
  Window2D win;
  win.kernel_h = kh;
  win.kernel_w = kw;
  if (kh < 1 || kw < 1 || kh > kMaxParam || kw > kMaxParam)
    ctx.fail(fmt::format("kernel {}x{} out of range", kh, kw));
  std::vector<int64_t> strides = ctx.attr_ints("strides");
  std::vector<int64_t> dilations = ctx.attr_ints("dilations");
  std::vector<int64_t> pads = ctx.attr_ints("pads");
  if (one_d) {  // [s] -> [1,s], [d] -> [1,d], [begin,end] -> [0,begin,0,end]
    if (!strides.empty() && strides.size() != 1)
      ctx.fail(fmt::format("strides has {} values; expected 1", strides.size()));
    if (!dilations.empty() && dilations.size() != 1)
      ctx.fail(fmt::format("dilations has {} values; expected 1", dilations.size()));
    if (!pads.empty() && pads.size() != 2)
      ctx.fail(fmt::format("pads has {} values; expected 2", pads.size()));
    if (!strides.empty()) strides = {1, strides[0]};
    if (!dilations.empty()) dilations = {1, dilations[0]};
    if (!pads.empty()) pads = {0, pads[0], 0, pads[1]};
  }
  if (!strides.empty() && strides.size() != 2)
    ctx.fail(fmt::format("strides has {} values; expected 2", strides.size()));
  if (!dilations.empty() && dilations.size() != 2)
    ctx.fail(fmt::format("dilations has {} values; expected 2", dilations.size()));
  if (!pads.empty() && pads.size() != 4)
    ctx.fail(fmt::format("pads has {} values; expected 4", pads.size()));
  if (!strides.empty()) win.stride_h = strides[0], win.stride_w = strides[1];
  if (!dilations.empty()) win.dilation_h = dilations[0], win.dilation_w = dilations[1];
  for (int64_t v : {win.stride_h, win.stride_w, win.dilation_h, win.dilation_w})
    if (v < 1 || v > kMaxParam)
      ctx.fail(fmt::format("stride/dilation {} out of range 1..{}", v, kMaxParam));
  if (!allow_dilation && (win.dilation_h != 1 || win.dilation_w != 1))
    ctx.unsupported("dilations other than 1");
  int64_t p[4] = {0, 0, 0, 0};  // ONNX order: top, left, bottom, right
  for (size_t i = 0; i < pads.size(); ++i) {
    if (pads[i] < 0) ctx.unsupported(fmt::format("negative pad {}", pads[i]));
    if (pads[i] > kMaxParam) ctx.fail(fmt::format("pad {} out of range", pads[i]));
    p[i] = pads[i];
  }
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if ((auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || auto_pad == "VALID") &&
      !pads.empty() && (p[0] || p[1] || p[2] || p[3]))
    ctx.fail("both auto_pad and explicit pads are set");
  const bool ceil_mode = allow_ceil && ctx.attr_int("ceil_mode", 0) != 0;
  const Dim dh =
      resolve_dim(ctx, auto_pad, h, kh, win.stride_h, win.dilation_h, p[0], p[2], ceil_mode);
  const Dim dw =
      resolve_dim(ctx, auto_pad, w, kw, win.stride_w, win.dilation_w, p[1], p[3], ceil_mode);
  win.pad_top = dh.pad_begin;
  win.pad_bottom = dh.pad_end;
  win.pad_left = dw.pad_begin;
  win.pad_right = dw.pad_end;
  win.out_h = dh.out;
  win.out_w = dw.out;
  win.ceil_extra = dh.ceil_extra > 0 || dw.ceil_extra > 0;
  for (int64_t v : {win.pad_top, win.pad_left, win.pad_bottom, win.pad_right})
    if (v > kMaxParam) ctx.fail(fmt::format("pad {} out of range", v));
  if (win.out_h < 1 || win.out_w < 1 || win.out_h > kMaxDim || win.out_w > kMaxDim)
    ctx.fail(fmt::format("output size {}x{} out of range", win.out_h, win.out_w));
  return win;
}

bool every_window_hits_input(const Window2D& win, int64_t h, int64_t w) {
  auto ok = [](int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_begin,
               int64_t out) {
    // The first window's last tap and the last window's first tap must land inside.
    const int64_t first_end = -pad_begin + (k - 1) * dilation;
    const int64_t last_begin = (out - 1) * stride - pad_begin;
    return first_end >= 0 && last_begin < in;
  };
  return ok(h, win.kernel_h, win.stride_h, win.dilation_h, win.pad_top, win.out_h) &&
         ok(w, win.kernel_w, win.stride_w, win.dilation_w, win.pad_left, win.out_w);
}

}  // namespace tinyforge::onnx_import
