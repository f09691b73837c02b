// Reference Prelu: out = x >= 0 ? x : alpha * x, alpha broadcast against x (numpy rules up to
// rank 4, broadcast.h's walk). float: TFLite's BroadcastPrelu4DSlowFloat
// (tensorflow/lite/kernels/internal/reference/prelu.h), `in >= 0 ? in : in * alpha`. int8:
// its BroadcastPrelu4DSlow: v = x - zp_in; v >= 0 ? MultiplyByQuantizedMultiplier(v, m1, s1)
// : MultiplyByQuantizedMultiplier(v * (alpha - zp_alpha), m2, s2); + zp_out; clamped.
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Prelu(const PreluParams& p, const KernelIO& io) {
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
    return;
  }
  broadcast::for_each(
      w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(), io.out[0].as<int8_t>(),
      [&p](int8_t x, int8_t alpha) {
        const int32_t v = x + p.input_offset;
        const int32_t scaled =
            v >= 0 ? fixed::multiply_by_quantized_multiplier(v, p.multiplier_1, p.shift_1)
                   : fixed::multiply_by_quantized_multiplier(v * (alpha + p.alpha_offset),
                                                             p.multiplier_2, p.shift_2);
        return static_cast<int8_t>(fixed::clamp(scaled + p.output_offset, -128, 127));
      });
}

}  // namespace tinyforge
