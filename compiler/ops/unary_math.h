// IR params of UnaryMath: declared here so importers and tests can build nodes.
#pragma once

#include "tinyforge/params.h"

namespace tinyforge::ops {

// The function, and the Elu family's constants (gamma * (x > 0 ? x : alpha * (exp(x) - 1));
// TFLite ELU has alpha = gamma = 1, ONNX Elu sets alpha, Selu both). Other functions keep 1.
struct UnaryMathAttrs {
  UnaryFunction function = UnaryFunction::exp;
  float alpha = 1.0f, gamma = 1.0f;
  bool operator==(const UnaryMathAttrs& o) const {
    return function == o.function && alpha == o.alpha && gamma == o.gamma;
  }
};

// The function's name as `inspect` and messages show it ("exp", "rsqrt", ...).
const char* unary_function_name(UnaryFunction f);

}  // namespace tinyforge::ops
