// Reference Sub and SquaredDifference: out = in0 - in1 (then the fused activation clamp) and
// out = (in0 - in1)^2, with numpy broadcasting up to rank 4 (broadcast.h's walk).
//
// int8 follows TFLite's reference arithmetic (both ops share AddParams' fields):
// - Sub: reference_ops::BroadcastSubSlow / SubElementwise for int8
//   (tensorflow/lite/kernels/internal/reference/sub.h): each input is offset, shifted left
//   by left_shift, rescaled by MultiplyByQuantizedMultiplierSmallerThanOneExp, the two are
//   subtracted, rescaled to the output, offset and clamped to [act_min, act_max].
// - SquaredDifference: the int8 SquaredDifference of tensorflow/lite/kernels/
//   squared_difference.cc: the same two rescaled inputs (left_shift 7), their difference
//   squared, rescaled to the output, offset and clamped to the int8 range.
// MultiplyByQuantizedMultiplierSmallerThanOneExp is multiply_by_quantized_multiplier with a
// shift <= 0 (check_ enforces it). The int32 arithmetic wraps where TFLite's would
// overflow; with the parameters TFLite's Prepare computes it never does.
// float: TFLite's reference (input1 - input2, ActivationFunctionWithMinMax) and
// SquaredDifference<float> (d = x - y; d * d).
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// The two inputs offset, shifted and rescaled to their common scale.
struct Scaled {
  int32_t a, b;
};

Scaled scale_inputs(const AddParams& p, int8_t x, int8_t y) {
  using fixed::multiply_by_quantized_multiplier;
  const int32_t a = p.input1_offset + x;
  const int32_t b = p.input2_offset + y;
  const int32_t a_shifted = static_cast<int32_t>(static_cast<uint32_t>(a) << p.left_shift);
  const int32_t b_shifted = static_cast<int32_t>(static_cast<uint32_t>(b) << p.left_shift);
  return {multiply_by_quantized_multiplier(a_shifted, p.input1_multiplier, p.input1_shift),
          multiply_by_quantized_multiplier(b_shifted, p.input2_multiplier, p.input2_shift)};
}

int8_t finish(const AddParams& p, int32_t raw) {
  const int32_t out = fixed::wrapping_add(
      fixed::multiply_by_quantized_multiplier(raw, p.output_multiplier, p.output_shift),
      p.output_offset);
  return static_cast<int8_t>(fixed::clamp(out, p.act_min, p.act_max));
}

int8_t sub_int8(const AddParams& p, int8_t x, int8_t y) {
  const Scaled s = scale_inputs(p, x, y);
  return finish(p, fixed::wrapping_sub(s.a, s.b));
}

int8_t squared_difference_int8(const AddParams& p, int8_t x, int8_t y) {
  const Scaled s = scale_inputs(p, x, y);
  const uint32_t d = static_cast<uint32_t>(fixed::wrapping_sub(s.a, s.b));
  return finish(p, static_cast<int32_t>(d * d));
}

// Shapes, dtypes and the integer fields of both ops; `max_left_shift` keeps the shifted
// 9-bit input inside int32.
Status check_binary(const AddParams& p, const KernelIO& io, int32_t max_left_shift) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32) return Status::bad_enum;
  for (int i = 0; i < 2; ++i)
    if (!view::is_valid(io.in[i], type)) return Status::bad_shape;
  if (!view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (!broadcast::is_broadcast_of(io.in[0], io.in[1], io.out[0])) return Status::bad_shape;
  if (type == DType::f32)
    return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
  if (!stage::int8_stage_ok(p.input1_offset, p.output_offset, p.act_min, p.act_max) ||
      !stage::int8_stage_ok(p.input2_offset, 0, -128, 127))
    return Status::bad_params;
  if (p.left_shift < 0 || p.left_shift > max_left_shift) return Status::bad_params;
  // Multipliers below one: Q31 multiplier, shift in [-31, 0].
  const int32_t multipliers[] = {p.input1_multiplier, p.input2_multiplier, p.output_multiplier};
  const int32_t shifts[] = {p.input1_shift, p.input2_shift, p.output_shift};
  for (int i = 0; i < 3; ++i)
    if (multipliers[i] < 0 || shifts[i] < -31 || shifts[i] > 0) return Status::bad_params;
  return Status::ok;
}

}  // namespace

Status check_Sub(const AddParams& p, const KernelIO& io) { return check_binary(p, io, 22); }

void eval_Sub(const AddParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8) {
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(),
                        [&p](int8_t x, int8_t y) { return sub_int8(p, x, y); });
  } else {
    broadcast::for_each(
        w, io.in[0].as<const float>(), io.in[1].as<const float>(), io.out[0].as<float>(),
        [&p](float x, float y) { return stage::clamp_float(x - y, p.f_act_min, p.f_act_max); });
  }
}

Status check_SquaredDifference(const AddParams& p, const KernelIO& io) {
  return check_binary(p, io, 22);
}

void eval_SquaredDifference(const AddParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8) {
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(),
                        [&p](int8_t x, int8_t y) { return squared_difference_int8(p, x, y); });
  } else {
    broadcast::for_each(w, io.in[0].as<const float>(), io.in[1].as<const float>(),
                        io.out[0].as<float>(), [](float x, float y) {
                          const float d = x - y;
                          return d * d;
                        });
  }
}

}  // namespace tinyforge
