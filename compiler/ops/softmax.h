// Softmax's params, held in Node::params (the op is in softmax.cc); a node without params
// has these defaults.
#pragma once

namespace tinyforge::ops {

struct SoftmaxAttrs {
  float beta = 1.0f;  // probabilities of exp(beta * x)

  friend bool operator==(const SoftmaxAttrs& a, const SoftmaxAttrs& b) { return a.beta == b.beta; }
};

}  // namespace tinyforge::ops
