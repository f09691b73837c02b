// Reference Sub and SquaredDifference: out = in0 - in1 (then the fused activation clamp) and
// out = (in0 - in1)^2, with numpy broadcasting up to rank 4.
//
// int8 follows TFLite's reference arithmetic, the scheme of add_family.h:
// - Sub: reference_ops::BroadcastSubSlow / SubElementwise for int8
//   (tensorflow/lite/kernels/internal/reference/sub.h): the rescaled inputs subtracted;
//   int16 (16x8, zero points 0) the same on int16 values with left_shift 15.
//   Its rescales are MultiplyByQuantizedMultiplierSmallerThanOneExp: shifts <= 0.
// - SquaredDifference: the int8 SquaredDifference of tensorflow/lite/kernels/
//   squared_difference.cc: the rescaled inputs (left_shift 7), their difference squared,
//   clamped to the int8 range; int16 (16x8, zero points 0) as TFLite Micro's
//   micro/kernels/squared_difference.cc: left_shift 0, clamped to the int16 range.
// float: TFLite's reference (input1 - input2, ActivationFunctionWithMinMax) and
// SquaredDifference<float> (d = x - y; d * d).
#include "kernels/reference/add_family.h"
#include "src/enabled_ops.h"

namespace tinyforge {

Status check_Sub(const AddParams& p, const KernelIO& io) {
  return add_family::check(p, io, 22, 0, /*int16=*/true);
}

void eval_Sub(const AddParams& p, const KernelIO& io) {
  add_family::eval(
      p, io, [](add_family::Scaled s) { return fixed::wrapping_sub(s.a, s.b); },
      [&p](float x, float y) { return stage::clamp_float(x - y, p.f_act_min, p.f_act_max); });
}

// int16's output multiplier may exceed one (TFLM's QuantizeMultiplier, shift up to 30).
Status check_SquaredDifference(const AddParams& p, const KernelIO& io) {
  const bool int16 = io.num_outputs == 1 && image_int16(io.out[0].type);
  return add_family::check(p, io, 22, int16 ? 30 : 0, /*int16=*/true);
}

void eval_SquaredDifference(const AddParams& p, const KernelIO& io) {
  add_family::eval(
      p, io,
      [](add_family::Scaled s) {
        const uint32_t d = static_cast<uint32_t>(fixed::wrapping_sub(s.a, s.b));
        return static_cast<int32_t>(d * d);
      },
      [](float x, float y) {
        const float d = x - y;
        return d * d;
      });
}

}  // namespace tinyforge
