// The float functions of UnaryMath, shared by the reference kernel and the compiler (which
// folds constant inputs with them). TFLite's float kernels: std::exp (exp.cc), std::log,
// std::sqrt, 1 / std::sqrt, std::abs (elementwise.cc), -x (neg.cc), ELU as
// reference_ops::Elu (x < 0 ? expm1(x) : x), here scaled by the Elu family's alpha and gamma
// (ONNX Elu and Selu); ONNX Reciprocal 1 / x and Softplus log(1 + exp(x)).
#pragma once
#include <cmath>

#include "tinyforge/params.h"

namespace tinyforge::unary {

inline float apply(UnaryFunction f, float x, float alpha, float gamma) {
  switch (f) {
    case UnaryFunction::exp:
      return std::exp(x);
    case UnaryFunction::log:
      return std::log(x);
    case UnaryFunction::sqrt:
      return std::sqrt(x);
    case UnaryFunction::rsqrt:
      return 1.0f / std::sqrt(x);
    case UnaryFunction::abs:
      return std::fabs(x);
    case UnaryFunction::neg:
      return -x;
    case UnaryFunction::elu:
      return gamma * (x < 0.0f ? alpha * std::expm1(x) : x);
    case UnaryFunction::reciprocal:
      return 1.0f / x;
    case UnaryFunction::softplus:
      // log(1 + exp(x)) without overflowing exp for large x.
      return x > 0.0f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
  }
  return x;
}

}  // namespace tinyforge::unary
