// Reference Div: out = in0 / in1 with numpy broadcasting up to rank 4, then the fused
// activation's clamp.
//   float32: TFLite's reference_ops::BroadcastDivSlow / Div<float>
//     (tensorflow/lite/kernels/internal/reference/div.h): input1 / input2, then
//     ActivationFunctionWithMinMax. A zero divisor gives IEEE infinity or NaN, as there.
//   int8: TFLite's DivElementwise<int8_t> (same file; tflite-micro's div.cc runs it), double
//     rounding build: a = x + input1_offset, b = y + input2_offset, signs moved so b > 0;
//     1 / b as GetReciprocal(b, 31) (Q0.31 and a shift); a normalized by its leading sign
//     bits times that reciprocal (MultiplyByQuantizedMultiplierGreaterThanOne), then
//     MultiplyByQuantizedMultiplierSmallerThanOneExp by output_multiplier with total shift
//     output_shift - reciprocal shift - headroom; + output_offset, clamped. Two cases TFLite
//     leaves undefined (a DCHECK and gemmlowp's exponent assert) are defined here: b == 0
//     gives the clamp of a / 0 (act_max for a > 0, act_min for a < 0, output_offset for 0),
//     and a total shift beyond 31 gives the rounded value, 0 (the product is below 2^31).
//   int32 (plain integers): reference_ops::Div<int32_t>, C++'s quotient truncated toward
//     zero, clamped to [act_min, act_max]. Defined here where C++ is not: a zero divisor
//     gives 0 and INT32_MIN / -1 gives INT32_MIN (the quotient wraps).
//   int16: TFLite's DivElementwise<int16_t> (the same template; TFLite Micro has no int16
//     DIV), in its 16x8 form: offsets 0, the clamp in int16. In a function of its own,
//     apart from the int8 and float paths; left out of images without int16 (image_int16).
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// TFLite's CountLeadingSignBits for int32: the leading bits equal to the sign bit, the sign
// bit itself not counted (31 for 0 and -1).
int leading_sign_bits(int32_t x) {
  const uint32_t u = x < 0 ? ~static_cast<uint32_t>(x) : static_cast<uint32_t>(x);
  return fixed::count_leading_zeros(u) - 1;
}

// T int8 or int16. check_Div keeps |a| <= 2^8 (int8) or 2^15 (int16, offsets 0), so
// negating does not overflow and the headroom is at least 23 or 15, and keeps output_shift
// at most 23 or 15: the total shift is <= 0.
template <typename T>
T div_quantized(const DivParams& p, T x, T y) {
  int32_t a = x + p.input1_offset;
  int32_t b = y + p.input2_offset;
  if (b == 0)
    return static_cast<T>(a > 0   ? p.act_max
                          : a < 0 ? p.act_min
                                  : fixed::clamp(p.output_offset, p.act_min, p.act_max));
  if (b < 0) {
    a = -a;
    b = -b;
  }
  int recip_shift = 0;
  const int32_t inverse = fixed::reciprocal(b, 31, &recip_shift);
  const int headroom = leading_sign_bits(a);
  const int32_t unscaled = fixed::saturating_rounding_doubling_high_mul(
      static_cast<int32_t>(static_cast<uint32_t>(a) << headroom), inverse);
  const int total_shift = p.output_shift - recip_shift - headroom;
  const int32_t scaled =
      total_shift < -31
          ? 0
          : fixed::rounding_divide_by_pot(
                fixed::saturating_rounding_doubling_high_mul(unscaled, p.output_multiplier),
                -total_shift);
  return static_cast<T>(fixed::clamp(scaled + p.output_offset, p.act_min, p.act_max));
}

Status check_int16(const DivParams& p) {
  if (p.input1_offset != 0 || p.input2_offset != 0 || p.output_offset != 0 ||
      !stage::int16_range_ok(p.act_min, p.act_max))
    return Status::bad_params;
  if (p.output_multiplier < 0 || p.output_shift < -31 || p.output_shift > 15)
    return Status::bad_params;
  return Status::ok;
}

void eval_int16(const DivParams& p, const KernelIO& io, const broadcast::Walk& w) {
  broadcast::for_each(w, io.in[0].as<const int16_t>(), io.in[1].as<const int16_t>(),
                      io.out[0].as<int16_t>(),
                      [&p](int16_t x, int16_t y) { return div_quantized<int16_t>(p, x, y); });
}

int32_t div_int32(const DivParams& p, int32_t x, int32_t y) {
  if (y == 0) return fixed::clamp(0, p.act_min, p.act_max);
  const int32_t q = y == -1 ? fixed::wrapping_sub(0, x) : x / y;
  return fixed::clamp(q, p.act_min, p.act_max);
}

}  // namespace

Status check_Div(const DivParams& p, const KernelIO& io) {
  if (const Status s = broadcast::check_binary_io(io, /*int16=*/true, /*int32=*/true);
      s != Status::ok)
    return s;
  const DType type = io.out[0].type;
  if (type == DType::i32) return p.act_min <= p.act_max ? Status::ok : Status::bad_params;
  if (image_int16(type)) return check_int16(p);
  if (type == DType::i8) {
    if (!stage::int8_stage_ok(p.input1_offset, p.output_offset, p.act_min, p.act_max) ||
        !stage::int8_stage_ok(p.input2_offset, 0, -128, 127))
      return Status::bad_params;
    if (p.output_multiplier < 0 || p.output_shift < -31 || p.output_shift > 23)
      return Status::bad_params;
    return Status::ok;
  }
  if (type != DType::f32) return Status::bad_enum;
  return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
}

void eval_Div(const DivParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (image_int16(io.out[0].type)) {
    eval_int16(p, io, w);
    return;
  }
  if (io.out[0].type == DType::i8) {
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(),
                        [&p](int8_t x, int8_t y) { return div_quantized<int8_t>(p, x, y); });
    return;
  }
  if (io.out[0].type == DType::i32) {
    broadcast::for_each(w, io.in[0].as<const int32_t>(), io.in[1].as<const int32_t>(),
                        io.out[0].as<int32_t>(),
                        [&p](int32_t x, int32_t y) { return div_int32(p, x, y); });
    return;
  }
  broadcast::for_each(
      w, io.in[0].as<const float>(), io.in[1].as<const float>(), io.out[0].as<float>(),
      [&p](float x, float y) { return stage::clamp_float(x / y, p.f_act_min, p.f_act_max); });
}

}  // namespace tinyforge
