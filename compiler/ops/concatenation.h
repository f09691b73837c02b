// Concatenation's attributes, held in Node::params (the op is in concatenation.cc).
#pragma once

namespace tinyforge::ops {

struct ConcatenationAttrs {
  int axis = 0;  // an axis of the output shape, >= 0

  friend bool operator==(const ConcatenationAttrs& a, const ConcatenationAttrs& b) {
    return a.axis == b.axis;
  }
};

}  // namespace tinyforge::ops
