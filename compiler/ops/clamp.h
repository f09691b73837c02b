// Clamp's attributes, held in Node::params (the op is in clamp.cc).
#pragma once
#include <cmath>

namespace tinyforge::ops {

struct ClampAttrs {
  float min = -HUGE_VALF, max = HUGE_VALF;  // real bounds; either may be infinite

  friend bool operator==(const ClampAttrs& a, const ClampAttrs& b) {
    return a.min == b.min && a.max == b.max;
  }
};

}  // namespace tinyforge::ops
