// Reference Add: out = in0 + in1 with numpy broadcasting up to rank 4, then the fused
// activation clamp. int8 follows TFLite's reference_integer_ops::Add (AddFunc): both inputs
// are offset, shifted left by left_shift, rescaled to a common scale, summed and rescaled to
// the output (every rescale a MultiplyByQuantizedMultiplier with double rounding). The
// broadcast walk is broadcast.h's, shared with Mul.
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

int8_t add_int8(const AddParams& p, int8_t x, int8_t y) {
  using namespace fixed;
  const int32_t a = p.input1_offset + x;
  const int32_t b = p.input2_offset + y;
  const int32_t a_shifted = static_cast<int32_t>(static_cast<uint32_t>(a) << p.left_shift);
  const int32_t b_shifted = static_cast<int32_t>(static_cast<uint32_t>(b) << p.left_shift);
  const int32_t a_scaled =
      multiply_by_quantized_multiplier(a_shifted, p.input1_multiplier, p.input1_shift);
  const int32_t b_scaled =
      multiply_by_quantized_multiplier(b_shifted, p.input2_multiplier, p.input2_shift);
  const int32_t sum = wrapping_add(a_scaled, b_scaled);
  const int32_t out = wrapping_add(
      multiply_by_quantized_multiplier(sum, p.output_multiplier, p.output_shift), p.output_offset);
  return static_cast<int8_t>(clamp(out, p.act_min, p.act_max));
}

// TFLite's ActivationFunctionWithMinMax: min(max(x, lo), hi) with std::min/std::max's
// comparison order (a NaN sum stays NaN).
float clamp_float(float v, float lo, float hi) {
  const float m = v < lo ? lo : v;
  return hi < m ? hi : m;
}

bool shift_ok(int32_t shift) { return shift >= -31 && shift <= 30; }

}  // namespace

Status check_Add(const AddParams& p, const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32) return Status::bad_enum;
  for (int i = 0; i < 2; ++i)
    if (!view::is_valid(io.in[i], type)) return Status::bad_shape;
  if (!view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (!broadcast::is_broadcast_of(io.in[0], io.in[1], io.out[0])) return Status::bad_shape;

  if (type == DType::f32) {
    if (!(p.f_act_min <= p.f_act_max)) return Status::bad_params;
    return Status::ok;
  }
  // Inputs are int8 offsets by -zero_point; the output offset is +zero_point.
  auto input_offset_ok = [](int32_t off) { return off >= -127 && off <= 128; };
  if (!input_offset_ok(p.input1_offset) || !input_offset_ok(p.input2_offset))
    return Status::bad_params;
  if (p.output_offset < -128 || p.output_offset > 127) return Status::bad_params;
  // (x - zero_point) spans 9 bits; shifted left it must stay inside int32.
  if (p.left_shift < 0 || p.left_shift > 22) return Status::bad_params;
  if (p.input1_multiplier < 0 || p.input2_multiplier < 0 || p.output_multiplier < 0)
    return Status::bad_params;
  if (!shift_ok(p.input1_shift) || !shift_ok(p.input2_shift) || !shift_ok(p.output_shift))
    return Status::bad_params;
  if (p.act_min > p.act_max || p.act_min < -128 || p.act_max > 127) return Status::bad_params;
  return Status::ok;
}

void eval_Add(const AddParams& p, const KernelIO& io) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8) {
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(),
                        [&p](int8_t x, int8_t y) { return add_int8(p, x, y); });
  } else {
    broadcast::for_each(
        w, io.in[0].as<const float>(), io.in[1].as<const float>(), io.out[0].as<float>(),
        [&p](float x, float y) { return clamp_float(x + y, p.f_act_min, p.f_act_max); });
  }
}

}  // namespace tinyforge
