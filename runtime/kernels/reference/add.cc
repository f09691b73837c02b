// Reference Add: out = in0 + in1 with numpy broadcasting up to rank 4, then the fused
// activation clamp. int8 follows TFLite's reference_integer_ops::Add (AddFunc), the scheme
// add_family.h shares with Sub and SquaredDifference; float TFLite's reference
// (ActivationFunctionWithMinMax of the sum).
#include "kernels/reference/add_family.h"

namespace tinyforge {

// Multipliers may exceed one (shift up to 30): the output multiplier is
// 2^-left_shift * 2 * max(s_in1, s_in2) / s_out.
Status check_Add(const AddParams& p, const KernelIO& io) {
  return add_family::check(p, io, 22, 30);
}

void eval_Add(const AddParams& p, const KernelIO& io) {
  add_family::eval(
      io,
      [&p](int8_t x, int8_t y) {
        const add_family::Scaled s = add_family::scale_inputs(p, x, y);
        return add_family::finish(p, fixed::wrapping_add(s.a, s.b));
      },
      [&p](float x, float y) { return stage::clamp_float(x + y, p.f_act_min, p.f_act_max); });
}

}  // namespace tinyforge
