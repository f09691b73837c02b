// Reference Tanh, float32: std::tanh. The int8 form (TFLite's reference_integer_ops::Tanh)
// is not implemented yet: check_ refuses int8 plans.
#include <cmath>
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Tanh(const TanhParams&, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  if (io.in[0].type != DType::f32) return Status::bad_enum;
  if (!view::is_valid(io.in[0], DType::f32) || !view::is_valid(io.out[0], DType::f32)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  return Status::ok;
}

void eval_Tanh(const TanhParams&, const KernelIO& io) {
  const auto n = static_cast<int32_t>(view::element_count(io.in[0]));
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}

}  // namespace tinyforge
