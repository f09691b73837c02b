// Transpose's attributes, held in Node::params (the op is in transpose.cc).
#pragma once
#include <cstdint>
#include <vector>

namespace tinyforge::ops {

struct TransposeAttrs {
  std::vector<int32_t> perm;  // output dim i = input dim perm[i]

  friend bool operator==(const TransposeAttrs& a, const TransposeAttrs& b) {
    return a.perm == b.perm;
  }
};

}  // namespace tinyforge::ops
