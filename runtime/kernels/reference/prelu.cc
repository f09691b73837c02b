// Reference Prelu: out = x >= 0 ? x : alpha * x, alpha broadcast against x (numpy rules up to
// rank 4, broadcast.h's walk). float: TFLite's BroadcastPrelu4DSlowFloat
// (tensorflow/lite/kernels/internal/reference/prelu.h), `in >= 0 ? in : in * alpha`. int8:
// its BroadcastPrelu4DSlow: v = x - zp_in; v >= 0 ? MultiplyByQuantizedMultiplier(v, m1, s1)
// : MultiplyByQuantizedMultiplier(v * (alpha - zp_alpha), m2, s2); + zp_out; clamped.
// int16 (tflite-micro's BroadcastPrelu4DSlow<int16_t, int8_t>, TFLite's 16x8 scheme): the
// same steps on an int16 x (zero point 0) with an int8 alpha, clamped to int16.
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// One output value, clamped to [lo, hi] (the output type's range).
int32_t prelu_integer(const PreluParams& p, int32_t x, int32_t alpha, int32_t lo, int32_t hi) {
  const int32_t v = x + p.input_offset;
  const int32_t scaled = v >= 0
                             ? fixed::multiply_by_quantized_multiplier(v, p.multiplier_1, p.shift_1)
                             : fixed::multiply_by_quantized_multiplier(v * (alpha + p.alpha_offset),
                                                                       p.multiplier_2, p.shift_2);
  return fixed::clamp(scaled + p.output_offset, lo, hi);
}

}  // namespace

Status check_Prelu(const PreluParams& p, const KernelIO& io) {
  if (io.num_inputs == 2 && io.num_outputs == 1 && image_int16(io.out[0].type)) {
    // int16 x and output, int8 alpha: the int16 zero points are 0.
    if (!view::is_valid(io.in[0], DType::i16) || !view::is_valid(io.in[1], DType::i8) ||
        !view::is_valid(io.out[0], DType::i16) ||
        !broadcast::is_broadcast_of(io.in[0], io.in[1], io.out[0]))
      return Status::bad_shape;
    if (p.input_offset != 0 || p.output_offset != 0 ||
        !stage::int8_stage_ok(p.alpha_offset, 0, -128, 127))
      return Status::bad_params;
    // |v| <= 2^15 and |v * alpha| <= 2^15 * 255 < 2^23: the left shifts keep them in int32.
    if (p.multiplier_1 < 0 || p.shift_1 < -31 || p.shift_1 > 15 || p.multiplier_2 < 0 ||
        p.shift_2 < -31 || p.shift_2 > 8)
      return Status::bad_params;
    return Status::ok;
  }
  if (const Status s = broadcast::check_binary_io(io); s != Status::ok) return s;
  if (io.out[0].type == DType::f32) return Status::ok;
  if (!stage::int8_stage_ok(p.input_offset, p.output_offset, -128, 127) ||
      !stage::int8_stage_ok(p.alpha_offset, 0, -128, 127))
    return Status::bad_params;
  // |v| <= 255 and |v * alpha| <= 65025: the left shifts keep them inside int32.
  if (p.multiplier_1 < 0 || p.shift_1 < -31 || p.shift_1 > 23 || p.multiplier_2 < 0 ||
      p.shift_2 < -31 || p.shift_2 > 15)
    return Status::bad_params;
  return Status::ok;
}

void eval_Prelu(const PreluParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::f32) {
    broadcast::for_each(w, io.in[0].as<const float>(), io.in[1].as<const float>(),
                        io.out[0].as<float>(),
                        [](float x, float alpha) { return x >= 0.0f ? x : x * alpha; });
  } else if (image_int16(io.out[0].type)) {
    broadcast::for_each(w, io.in[0].as<const int16_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int16_t>(), [&p](int16_t x, int8_t alpha) {
                          return static_cast<int16_t>(prelu_integer(p, x, alpha, -32768, 32767));
                        });
  } else {
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(), [&p](int8_t x, int8_t alpha) {
                          return static_cast<int8_t>(prelu_integer(p, x, alpha, -128, 127));
                        });
  }
}

}  // namespace tinyforge
