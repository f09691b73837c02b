// Reference Add: out = in0 + in1 with numpy broadcasting up to rank 4, then the fused
// activation clamp. int8 follows TFLite's reference_integer_ops::Add (AddFunc), the scheme
// add_family.h shares with Sub and SquaredDifference; int16 (16x8) the same on int16 values
// (reference_ops::AddElementwise<int16_t>, left_shift 15); float TFLite's reference
// (ActivationFunctionWithMinMax of the sum); int32 (plain integers) TFLite's reference
// Add<int32_t>: the sum clamped to [act_min, act_max], wrapping where TFLite's would
// overflow (undefined there); the other fields unused.
#include "kernels/reference/add_family.h"

namespace tinyforge {

// Multipliers may exceed one (shift up to 30): the output multiplier is
// 2^-left_shift * 2 * max(s_in1, s_in2) / s_out.
Status check_Add(const AddParams& p, const KernelIO& io) {
  if (io.num_outputs == 1 && io.out[0].type == DType::i32) {
    if (const Status s = broadcast::check_binary_io(io, /*int16=*/false, /*int32=*/true);
        s != Status::ok)
      return s;
    return p.act_min <= p.act_max ? Status::ok : Status::bad_params;
  }
  return add_family::check(p, io, 22, 30, /*int16=*/true);
}

void eval_Add(const AddParams& p, const KernelIO& io) {
  if (io.out[0].type == DType::i32) {
    broadcast::for_each(broadcast::make_walk(io.in[0], io.in[1], io.out[0]),
                        io.in[0].as<const int32_t>(), io.in[1].as<const int32_t>(),
                        io.out[0].as<int32_t>(), [&p](int32_t x, int32_t y) {
                          return fixed::clamp(fixed::wrapping_add(x, y), p.act_min, p.act_max);
                        });
    return;
  }
  add_family::eval(
      p, io, [](add_family::Scaled s) { return fixed::wrapping_add(s.a, s.b); },
      [&p](float x, float y) { return stage::clamp_float(x + y, p.f_act_min, p.f_act_max); });
}

}  // namespace tinyforge
