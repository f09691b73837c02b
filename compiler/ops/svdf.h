// The params of Svdf, held in Node::params (the op is in svdf.cc).
#pragma once
#include <string>

#include "ir/graph.h"

namespace tinyforge::ops {

struct SvdfAttrs {
  int rank = 1;                                      // filters summed per output unit
  ir::Activation activation = ir::Activation::none;  // fused

  friend bool operator==(const SvdfAttrs& a, const SvdfAttrs& b) {
    return a.rank == b.rank && a.activation == b.activation;
  }
};

// What is wrong with the shapes of an SVDF node's tensors (input [B,IN], weights_feature
// [F,IN], weights_time [F,M], bias [F/rank] or -1, state [B,F*M], output [B,F/rank]), or ""
// when they agree.
struct SvdfTensors {
  const ir::Tensor *input, *weights_feature, *weights_time, *bias, *state, *output;  // bias
                                                                                     // may be null
};
std::string svdf_shape_error(const SvdfTensors& t, int rank);

}  // namespace tinyforge::ops
