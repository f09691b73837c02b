// The params of the signal-library ops (TFLM's audio front-end as graph nodes, signal.cc),
// held in Node::params: each op's device params struct of tinyforge/params.h, which carries
// all of its options.
#pragma once
#include <cstring>

#include "tinyforge/params.h"

namespace tinyforge::ops {

template <class Params>
struct SignalAttrs {
  Params params{};

  friend bool operator==(const SignalAttrs& a, const SignalAttrs& b) {
    return std::memcmp(&a.params, &b.params, sizeof(Params)) == 0;  // int32 fields, no padding
  }
};

}  // namespace tinyforge::ops
