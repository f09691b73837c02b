// Reference Sub and SquaredDifference: out = in0 - in1 (then the fused activation clamp) and
// out = (in0 - in1)^2, with numpy broadcasting up to rank 4.
//
// int8 follows TFLite's reference arithmetic, the scheme of add_family.h:
// - Sub: reference_ops::BroadcastSubSlow / SubElementwise for int8
//   (tensorflow/lite/kernels/internal/reference/sub.h): the rescaled inputs subtracted.
//   Its rescales are MultiplyByQuantizedMultiplierSmallerThanOneExp: shifts <= 0.
// - SquaredDifference: the int8 SquaredDifference of tensorflow/lite/kernels/
//   squared_difference.cc: the rescaled inputs (left_shift 7), their difference squared,
//   clamped to the int8 range.
// float: TFLite's reference (input1 - input2, ActivationFunctionWithMinMax) and
// SquaredDifference<float> (d = x - y; d * d).
#include "kernels/reference/add_family.h"

namespace tinyforge {

Status check_Sub(const AddParams& p, const KernelIO& io) { return add_family::check(p, io, 22, 0); }

void eval_Sub(const AddParams& p, const KernelIO& io) {
  add_family::eval(
      io,
      [&p](int8_t x, int8_t y) {
        const add_family::Scaled s = add_family::scale_inputs(p, x, y);
        return add_family::finish(p, fixed::wrapping_sub(s.a, s.b));
      },
      [&p](float x, float y) { return stage::clamp_float(x - y, p.f_act_min, p.f_act_max); });
}

Status check_SquaredDifference(const AddParams& p, const KernelIO& io) {
  return add_family::check(p, io, 22, 0);
}

void eval_SquaredDifference(const AddParams& p, const KernelIO& io) {
  add_family::eval(
      io,
      [&p](int8_t x, int8_t y) {
        const add_family::Scaled s = add_family::scale_inputs(p, x, y);
        const uint32_t d = static_cast<uint32_t>(fixed::wrapping_sub(s.a, s.b));
        return add_family::finish(p, static_cast<int32_t>(d * d));
      },
      [](float x, float y) {
        const float d = x - y;
        return d * d;
      });
}

}  // namespace tinyforge
