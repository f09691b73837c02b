// Reference UnaryMath: one elementwise function of the input. float32: the function as
// TFLite's float kernels compute it (kernels/reference/unary_functions.h).
// int8 reads the 256-entry table the compiler built with TFLite's arithmetic for the op
// (TFLite's own int8 kernels are lookup tables or per-value integer functions, so a table
// indexed by the input byte reproduces them exactly).
#include <cstdint>

#include "kernels/reference/unary_functions.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
Status check_UnaryMath(const UnaryMathParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (p.function < 0 || p.function >= kNumUnaryFunctions) return Status::bad_enum;
  return Status::ok;
}

void eval_UnaryMath(const UnaryMathParams& p, const KernelIO& io) {
  const int32_t n = io.out[0].elements();
  if (io.out[0].type == DType::i8) {
    const int8_t* in = io.in[0].as<const int8_t>();
    int8_t* out = io.out[0].as<int8_t>();
    for (int32_t i = 0; i < n; ++i) out[i] = p.table[static_cast<uint8_t>(in[i])];
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  const auto f = static_cast<UnaryFunction>(p.function);
  for (int32_t i = 0; i < n; ++i) out[i] = unary::apply(f, in[i], p.f_alpha, p.f_gamma);
}

}  // namespace tinyforge
