// The params of TransposeConv, held in Node::params (the op is in transpose_conv.cc).
#pragma once
#include "ir/graph.h"

namespace tinyforge::ops {

// Padding is stored resolved: TFLite's SAME / VALID rule and ONNX's pads and output_shape
// all become the rows and columns cut before the first output element.
struct TransposeConvAttrs {
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const TransposeConvAttrs& a, const TransposeConvAttrs& b) {
    return a.stride_h == b.stride_h && a.stride_w == b.stride_w && a.pad_top == b.pad_top &&
           a.pad_left == b.pad_left && a.activation == b.activation;
  }
};

// TFLite's padding before the first output element of a TRANSPOSE_CONV of output extent
// `out` (kernels/transpose_conv.cc: the padding of a conv from the output back to the
// input, kernels/padding.h ComputePaddingHeightWidth with dilation 1).
int tflite_transpose_pad(int64_t out, int64_t filter, int64_t stride, ir::Padding padding);

}  // namespace tinyforge::ops
