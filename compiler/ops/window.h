// The sliding window of Conv2D, DepthwiseConv2D and the 2-D pools, part of their params
// (conv.h, pool.h). The output extent and padding follow TFLite's rules
// (tensorflow/lite/kernels/padding.h); explicit pads come from ONNX.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "ir/graph.h"

namespace tinyforge::ops {

struct WindowAttrs {
  int filter_h = 0, filter_w = 0;  // pools; a conv's filter is its weights' [KH, KW]
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  ir::Padding padding = ir::Padding::valid;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // Padding::explicit_pads

  friend bool operator==(const WindowAttrs& a, const WindowAttrs& b) {
    return a.filter_h == b.filter_h && a.filter_w == b.filter_w && a.stride_h == b.stride_h &&
           a.stride_w == b.stride_w && a.dilation_h == b.dilation_h &&
           a.dilation_w == b.dilation_w && a.padding == b.padding && a.pad_top == b.pad_top &&
           a.pad_left == b.pad_left && a.pad_bottom == b.pad_bottom && a.pad_right == b.pad_right;
  }
};

// Adds stride and padding to `tinyforge inspect`'s description of a node (window.cc).
void describe_window(const WindowAttrs& a, nlohmann::json& out);

}  // namespace tinyforge::ops
