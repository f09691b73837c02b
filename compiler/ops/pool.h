// The params of AveragePool2D and MaxPool2D, held in Node::params (the ops are in pool.cc).
#pragma once
#include "ops/window.h"

namespace tinyforge::ops {

struct PoolAttrs {
  WindowAttrs window;                                // filter_h and filter_w set, dilation 1
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const PoolAttrs& a, const PoolAttrs& b) {
    return a.window == b.window && a.activation == b.activation;
  }
};

}  // namespace tinyforge::ops
