// Reference Mul: out = in0 * in1 with numpy broadcasting up to rank 4, then the fused
// activation clamp. int8 follows TFLite's reference_integer_ops::Mul (MulElementwise /
// BroadcastMul4DSlow): (x + input1_offset) * (y + input2_offset), rescaled by one
// MultiplyByQuantizedMultiplier, plus output_offset, clamped to [act_min, act_max].
// int16 (TFLite's 16x8 scheme, zero points 0) takes the same steps on int16 values
// (MulElementwise<int16_t>; micro/kernels/mul_common.cc computes the multiplier alike).
// float: TFLite's reference Mul, ActivationFunctionWithMinMax(x * y, min, max). int32
// (plain integers): the same on the int32 product, which wraps where TFLite's would
// overflow (undefined there); offsets and multiplier unused.
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename T>
void mul_integer(const MulParams& p, const broadcast::Walk& w, const KernelIO& io) {
  broadcast::for_each(
      w, io.in[0].as<const T>(), io.in[1].as<const T>(), io.out[0].as<T>(), [&p](T x, T y) {
        const int32_t product = (x + p.input1_offset) * (y + p.input2_offset);
        const int32_t scaled =
            fixed::multiply_by_quantized_multiplier(product, p.output_multiplier, p.output_shift);
        return static_cast<T>(fixed::clamp(scaled + p.output_offset, p.act_min, p.act_max));
      });
}

void mul_int32(const MulParams& p, const broadcast::Walk& w, const KernelIO& io) {
  broadcast::for_each(w, io.in[0].as<const int32_t>(), io.in[1].as<const int32_t>(),
                      io.out[0].as<int32_t>(), [&p](int32_t x, int32_t y) {
                        const auto product = static_cast<int32_t>(static_cast<uint32_t>(x) *
                                                                  static_cast<uint32_t>(y));
                        return fixed::clamp(product, p.act_min, p.act_max);
                      });
}

}  // namespace

Status check_Mul(const MulParams& p, const KernelIO& io) {
  if (const Status s = broadcast::check_binary_io(io, /*int16=*/true, /*int32=*/true);
      s != Status::ok)
    return s;
  const DType type = io.out[0].type;
  if (type == DType::f32)
    return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
  if (type == DType::i32) return p.act_min <= p.act_max ? Status::ok : Status::bad_params;
  // (x + offset) spans 9 bits each, so the product stays inside int32; int16 values (offsets
  // 0) multiply to at most 2^30.
  if (type == DType::i8 &&
      (!stage::int8_stage_ok(p.input1_offset, p.output_offset, p.act_min, p.act_max) ||
       !stage::int8_stage_ok(p.input2_offset, 0, -128, 127)))
    return Status::bad_params;
  if (image_int16(type) && (p.input1_offset != 0 || p.input2_offset != 0 || p.output_offset != 0 ||
                            !stage::int16_range_ok(p.act_min, p.act_max)))
    return Status::bad_params;
  if (p.output_multiplier < 0 || p.output_shift < -31 || p.output_shift > 30)
    return Status::bad_params;
  return Status::ok;
}

void eval_Mul(const MulParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8) {
    mul_integer<int8_t>(p, w, io);
  } else if (image_int16(io.out[0].type)) {
    mul_integer<int16_t>(p, w, io);
  } else if (io.out[0].type == DType::i32) {
    mul_int32(p, w, io);
  } else {
    broadcast::for_each(
        w, io.in[0].as<const float>(), io.in[1].as<const float>(), io.out[0].as<float>(),
        [&p](float x, float y) { return stage::clamp_float(x * y, p.f_act_min, p.f_act_max); });
  }
}

}  // namespace tinyforge
