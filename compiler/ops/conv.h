// The params of Conv2D and DepthwiseConv2D, held in Node::params (the ops are in conv.cc).
#pragma once
#include "ops/window.h"

namespace tinyforge::ops {

struct ConvAttrs {
  WindowAttrs window;
  int depth_multiplier = 1;                          // depthwise: output channels per input channel
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const ConvAttrs& a, const ConvAttrs& b) {
    return a.window == b.window && a.depth_multiplier == b.depth_multiplier &&
           a.activation == b.activation;
  }
};

}  // namespace tinyforge::ops
