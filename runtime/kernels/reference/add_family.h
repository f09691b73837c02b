// What Add, Sub and SquaredDifference share (they take AddParams): TFLite's int8 scheme of
// reference_integer_ops::Add and reference_ops Sub/SquaredDifference
// (tensorflow/lite/kernels/internal/reference/add.h, sub.h, kernels/squared_difference.cc):
// each input is offset, shifted left by left_shift and rescaled to a common scale; the
// op combines the two; the result is rescaled to the output, offset and clamped. Every
// rescale is a MultiplyByQuantizedMultiplier with double rounding. The int32 arithmetic
// wraps where TFLite's would overflow; with the parameters TFLite's Prepare computes it
// never does. int16 (TFLite's 16x8 scheme, zero points 0) takes the same steps on int16
// values with left_shift 15 (reference_ops::AddElementwise<int16_t>, the general-scale path
// TFLite Micro's add.cc and sub.cc always take).
#pragma once
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge::add_family {

// The two inputs offset, shifted and rescaled to their common scale.
struct Scaled {
  int32_t a, b;
};

template <typename T>
Scaled scale_inputs(const AddParams& p, T x, T y) {
  using fixed::multiply_by_quantized_multiplier;
  const int32_t a = p.input1_offset + x;
  const int32_t b = p.input2_offset + y;
  const int32_t a_shifted = static_cast<int32_t>(static_cast<uint32_t>(a) << p.left_shift);
  const int32_t b_shifted = static_cast<int32_t>(static_cast<uint32_t>(b) << p.left_shift);
  return {multiply_by_quantized_multiplier(a_shifted, p.input1_multiplier, p.input1_shift),
          multiply_by_quantized_multiplier(b_shifted, p.input2_multiplier, p.input2_shift)};
}

// The combined value rescaled to the output, offset and clamped.
template <typename T>
T finish(const AddParams& p, int32_t raw) {
  const int32_t out = fixed::wrapping_add(
      fixed::multiply_by_quantized_multiplier(raw, p.output_multiplier, p.output_shift),
      p.output_offset);
  return static_cast<T>(fixed::clamp(out, p.act_min, p.act_max));
}

// Largest left_shift of the int16 path: a 16-bit value shifted by 15 stays inside int32
// (TFLite's 16x8 Add and Sub use exactly 15).
constexpr int32_t kMaxInt16LeftShift = 15;

// Shapes, dtypes and the integer fields. `max_left_shift` keeps the shifted 9-bit int8
// input inside int32 (int16: kMaxInt16LeftShift, offsets 0); every multiplier's shift lies
// in [-31, max_shift] (0 where TFLite uses MultiplyByQuantizedMultiplierSmallerThanOneExp).
// `int16`: the op has a 16x8 path.
inline Status check(const AddParams& p, const KernelIO& io, int32_t max_left_shift,
                    int32_t max_shift, bool int16 = false) {
  if (const Status s = broadcast::check_binary_io(io, int16); s != Status::ok) return s;
  const DType type = io.out[0].type;
  if (type == DType::f32)
    return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
  if (image_int16(type)) {
    if (p.input1_offset != 0 || p.input2_offset != 0 || p.output_offset != 0 ||
        !stage::int16_range_ok(p.act_min, p.act_max))
      return Status::bad_params;
    max_left_shift = kMaxInt16LeftShift;
  } else if (!stage::int8_stage_ok(p.input1_offset, p.output_offset, p.act_min, p.act_max) ||
             !stage::int8_stage_ok(p.input2_offset, 0, -128, 127)) {
    return Status::bad_params;
  }
  if (p.left_shift < 0 || p.left_shift > max_left_shift) return Status::bad_params;
  const int32_t multipliers[] = {p.input1_multiplier, p.input2_multiplier, p.output_multiplier};
  const int32_t shifts[] = {p.input1_shift, p.input2_shift, p.output_shift};
  for (int i = 0; i < 3; ++i)
    if (multipliers[i] < 0 || shifts[i] < -31 || shifts[i] > max_shift) return Status::bad_params;
  return Status::ok;
}

// Over the broadcast of the two inputs: out = finish(combine(scale_inputs(a, b))) for int8
// and int16, float_op(a, b) for float32.
template <typename T, typename Combine>
void eval_integer(const AddParams& p, const broadcast::Walk& w, const KernelIO& io,
                  Combine combine) {
  broadcast::for_each(
      w, io.in[0].as<const T>(), io.in[1].as<const T>(), io.out[0].as<T>(),
      [&p, &combine](T x, T y) { return finish<T>(p, combine(scale_inputs(p, x, y))); });
}

template <typename Combine, typename FloatOp>
void eval(const AddParams& p, const KernelIO& io, Combine combine, FloatOp float_op) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8)
    eval_integer<int8_t>(p, w, io, combine);
  else if (image_int16(io.out[0].type))
    eval_integer<int16_t>(p, w, io, combine);
  else
    broadcast::for_each(w, io.in[0].as<const float>(), io.in[1].as<const float>(),
                        io.out[0].as<float>(), float_op);
}

}  // namespace tinyforge::add_family
