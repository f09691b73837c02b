// Pad's attributes, held in Node::params (the op is in pad.cc).
#pragma once
#include <cstdint>
#include <vector>

namespace tinyforge::ops {

struct PadAttrs {
  std::vector<int32_t> pads;  // before[0..rank), then after[0..rank)
  float value = 0.0f;         // the real value written into the border

  friend bool operator==(const PadAttrs& a, const PadAttrs& b) {
    return a.pads == b.pads && a.value == b.value;
  }
};

}  // namespace tinyforge::ops
