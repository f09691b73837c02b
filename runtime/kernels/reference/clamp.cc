// Reference Clamp (ONNX Relu / Clip, TFLite RELU / RELU6 / RELU_N1_TO_1 as a standalone op).
// float: min(max(x, f_min), f_max), the comparison order of TFLite's
// ActivationFunctionWithMinMax. int8 follows TFLite's quantized ReluX
// (reference_ops::ReluX, tflite-micro activations ReluQuantized): the input is rescaled
// to the output's quantization by one MultiplyByQuantizedMultiplier, offset, then
// clamped to [act_min, act_max] (the real bounds in output units).
// int16 (TFLite's 16x8 scheme) takes the same steps on int16 values (ReluX<int16_t>).
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename T>
void clamp_integer(const ClampParams& p, const KernelIO& io, int32_t n) {
  const T* in = io.in[0].as<const T>();
  T* out = io.out[0].as<T>();
  for (int32_t i = 0; i < n; ++i) {
    const int32_t scaled = fixed::multiply_by_quantized_multiplier(
        in[i] + p.input_offset, p.output_multiplier, p.output_shift);
    out[i] = static_cast<T>(fixed::clamp(scaled + p.output_offset, p.act_min, p.act_max));
  }
}

}  // namespace

Status check_Clamp(const ClampParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.in[0].type;
  if (!view::is_activation(type)) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::f32)
    return stage::float_stage_ok(p.f_min, p.f_max) ? Status::ok : Status::bad_params;
  if (type == DType::i8 &&
      !stage::int8_stage_ok(p.input_offset, p.output_offset, p.act_min, p.act_max))
    return Status::bad_params;
  // int16 zero points are 0 (TFLite's 16x8 scheme), so the offsets are too.
  if (image_int16(type) &&
      (p.input_offset != 0 || p.output_offset != 0 || !stage::int16_range_ok(p.act_min, p.act_max)))
    return Status::bad_params;
  if (p.output_multiplier < 0 || p.output_shift < -31 || p.output_shift > 30)
    return Status::bad_params;
  return Status::ok;
}

void eval_Clamp(const ClampParams& p, const KernelIO& io) {
  const int32_t n =
      view::element_count(io.in[0]) > 0 ? static_cast<int32_t>(view::element_count(io.in[0])) : 0;
  if (io.in[0].type == DType::i8) {
    clamp_integer<int8_t>(p, io, n);
  } else if (image_int16(io.in[0].type)) {
    clamp_integer<int16_t>(p, io, n);
  } else {
    const float* in = io.in[0].as<const float>();
    float* out = io.out[0].as<float>();
    for (int32_t i = 0; i < n; ++i) out[i] = stage::clamp_float(in[i], p.f_min, p.f_max);
  }
}

}  // namespace tinyforge
