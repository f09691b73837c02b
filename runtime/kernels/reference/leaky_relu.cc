// Reference LeakyRelu: out = x > 0 ? x : alpha * x, elementwise.
// int8 follows TFLite's reference_ops::QuantizeLeakyRelu
// (tensorflow/lite/kernels/internal/reference/leaky_relu.h): v = x - input zero point;
// out = output zero point + MultiplyByQuantizedMultiplier(v, identity or alpha multiplier)
// (identity for v >= 0), clamped to the int8 range. int16 (TFLite's 16x8 scheme,
// QuantizeLeakyRelu<int16_t>, zero points 0) takes the same steps clamped to int16.
// float: TFLite's reference LeakyRelu,
// `val > 0 ? val : val * alpha` (alpha may be negative or above one).
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename T>
void leaky_relu_integer(const LeakyReluParams& p, const KernelIO& io, int32_t n, int32_t lo,
                        int32_t hi) {
  const T* in = io.in[0].as<const T>();
  T* out = io.out[0].as<T>();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t v = in[i] + p.input_offset;
    const int32_t scaled =
        v >= 0 ? fixed::multiply_by_quantized_multiplier(v, p.identity_multiplier, p.identity_shift)
               : fixed::multiply_by_quantized_multiplier(v, p.alpha_multiplier, p.alpha_shift);
    out[i] = static_cast<T>(fixed::clamp(scaled + p.output_offset, lo, hi));
  }
}

}  // namespace

Status check_LeakyRelu(const LeakyReluParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (!view::is_activation(type)) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::f32) return Status::ok;
  const bool int8 = type == DType::i8;
  if (int8 && !stage::int8_stage_ok(p.input_offset, p.output_offset, -128, 127))
    return Status::bad_params;
  // int16 zero points are 0 (TFLite's 16x8 scheme), so the offsets are too.
  if (!int8 && (p.input_offset != 0 || p.output_offset != 0)) return Status::bad_params;
  // |v| <= 255 (int8) or 32768 (int16), so a left shift up to 23 or 15 keeps v * 2^shift
  // inside int32.
  const int32_t most = int8 ? 23 : 15;
  const int32_t shifts[] = {p.identity_shift, p.alpha_shift};
  for (int32_t s : shifts)
    if (s < -31 || s > most) return Status::bad_params;
  return Status::ok;
}

void eval_LeakyRelu(const LeakyReluParams& p, const KernelIO& io) {
  const int32_t n = io.out[0].elements();
  if (io.out[0].type == DType::i8) {
    leaky_relu_integer<int8_t>(p, io, n, -128, 127);
  } else if (image_int16(io.out[0].type)) {
    leaky_relu_integer<int16_t>(p, io, n, -32768, 32767);
  } else {
    const float* in = io.in[0].as<const float>();
    float* out = io.out[0].as<float>();
    for (int32_t i = 0; i < n; ++i) out[i] = in[i] > 0 ? in[i] : in[i] * p.f_alpha;
  }
}

}  // namespace tinyforge
