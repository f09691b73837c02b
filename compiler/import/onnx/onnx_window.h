// The sliding-window attributes ONNX Conv, MaxPool and AveragePool share (strides, pads,
// auto_pad, dilations, ceil_mode) resolved for a 2-D [H,W] input into explicit pads and
// an output size, following the ONNX operator spec's formulas. Internal to
// compiler/import/onnx.
#pragma once
#include <cstdint>

#include "import/onnx/onnx_context.h"

namespace tinyforge::onnx_import {

struct Window2D {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
  bool ceil_extra = false;  // ceil_mode added end padding (included in pad_bottom/right)
  bool any_pad() const { return pad_top || pad_left || pad_bottom || pad_right; }
};

// Reads the current node's window attributes for an input of spatial size h x w and a
// kernel kh x kw. `ceil_mode` is read only when `allow_ceil`; dilations other than 1 are
// refused unless `allow_dilation`. Validates every value (positive strides/dilations,
// non-negative pads, an output of at least 1x1, int16 range the runtime params use).
// With `one_d`, the node is 1-D (attributes hold one value per side) and is mapped onto
// the width of an h = kh = 1 window.
Window2D read_window(Context& ctx, int64_t h, int64_t w, int64_t kh, int64_t kw, bool allow_ceil,
                     bool allow_dilation, bool one_d = false);

// True if every output window of `win` overlaps at least one input element (pools
// need that: an all-padding window has no max and no average).
bool every_window_hits_input(const Window2D& win, int64_t h, int64_t w);

}  // namespace tinyforge::onnx_import
