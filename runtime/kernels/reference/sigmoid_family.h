// What the reference Logistic and Tanh kernels share (TFLite's reference_integer_ops run
// both the same way): the shape and params checks, and the int8 walk where
// x - input_zero_point saturates to -128 / 127 beyond +-input_range_radius and is otherwise
// rescaled to Q4.27 by MultiplyByQuantizedMultiplier before the op's own fixed-point curve;
// and the int16 walk (TFLite's 16x8 scheme, reference_integer_ops Logistic / Tanh on int16):
// x is rescaled by (x * input_multiplier + round) >> input_left_shift to units of 1 / (3 *
// 4096) (the compiler folds TFLite's power-of-two case, multiplier 0, into 3 << shift, shift
// 0), then the op interpolates kSigmoidTableQ16 on |x| and mirrors for x < 0.
// Params: LogisticParams / TanhParams (same fields; int16 uses only the multiplier and shift).
#pragma once
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge::sigmoid_family {

// TFLite's sigmoid_table_uint16 (tensorflow/lite/kernels/internal/common.h, the same values
// as CMSIS-NN's arm_nntables.c): sigmoid(i / 24) in Q0.16 for i = 0..255, 65535 at the end.
// Data, not a formula: 44 entries are one above round(65536 * sigmoid(i / 24)), and
// bit-exactness needs TFLite's values. Tanh reads it as tanh(x) = 2 * sigmoid(2x) - 1.
inline constexpr uint16_t kSigmoidTableQ16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

// The int16 logistic curve (Q0.15 out); `x` in units of 1 / (3 * 4096).
inline int16_t logistic_int16(int32_t x) {
  const uint32_t magnitude = x < 0 ? 0u - static_cast<uint32_t>(x) : static_cast<uint32_t>(x);
  const uint32_t index = magnitude >> 9;
  uint32_t r = 0x7FFFu << 10;
  if (index < 255) {
    const uint32_t lo = kSigmoidTableQ16[index];
    const uint32_t hi = kSigmoidTableQ16[index + 1];
    r = (lo << 9) + (magnitude & 0x1FFu) * (hi - lo);
  }
  r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
  return static_cast<int16_t>(r >> 10);
}

// The int16 tanh curve (Q0.15 out); `x` in units of 1 / (3 * 4096).
inline int16_t tanh_int16(int32_t x) {
  const uint32_t magnitude = x < 0 ? 0u - static_cast<uint32_t>(x) : static_cast<uint32_t>(x);
  const uint32_t index = magnitude >> 8;
  int32_t r = 0xFFFF << 8;
  if (index < 255) {
    const uint32_t lo = kSigmoidTableQ16[index];
    const uint32_t hi = kSigmoidTableQ16[index + 1];
    r = static_cast<int32_t>((lo << 8) + (magnitude & 0xFFu) * (hi - lo));
  }
  r = x >= 0 ? r - (1 << 23) + (1 << 7) : (1 << 23) - r + (1 << 7) - 1;
  return static_cast<int16_t>(r >> 8);  // arithmetic shift: floor, as TFLite's
}

// The int16 input multiplier bounds: |x| <= 32768 times it, plus the rounding term
// 2^(shift - 1) <= 2^30 when shifting, stays inside int32.
inline constexpr int32_t kMaxInt16Multiplier = 65535;
inline constexpr int32_t kMaxInt16ShiftedMultiplier = 32767;

// `output_zero_point`: the one the int8 kernel writes (-128 logistic, 0 tanh).
template <typename Params>
Status check(const Params& p, const KernelIO& io, int32_t output_zero_point) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.in[0].type;
  if (!view::is_activation(type)) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (type == DType::i8) {
    if (io.out[0].zero_point != output_zero_point) return Status::bad_params;
    if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.input_range_radius < 0 ||
        p.input_multiplier < 0 || p.input_left_shift < -31 || p.input_left_shift > 31)
      return Status::bad_params;
  }
  if (image_int16(type)) {
    // TFLite's 16x8 scheme: zero points 0 (the output scale 2^-15 is the compiler's check).
    if (io.in[0].zero_point != 0 || io.out[0].zero_point != 0) return Status::bad_params;
    const int32_t most = p.input_left_shift > 0 ? kMaxInt16ShiftedMultiplier : kMaxInt16Multiplier;
    const int32_t multiplier = p.input_multiplier;
    if (p.input_left_shift < 0 || p.input_left_shift > 31 || multiplier < 1 || multiplier > most)
      return Status::bad_params;
  }
  return Status::ok;
}

// int8: out[i] = from_q4(x rescaled to Q4.27) inside the radius; int16: out[i] =
// from_int16(x rescaled to 1 / (3 * 4096) units); float: out[i] = f(in[i]).
template <typename Params, typename FromQ4, typename FromInt16, typename Float>
void eval(const Params& p, const KernelIO& io, FromQ4 from_q4, FromInt16 from_int16, Float f) {
  const auto n = static_cast<int32_t>(view::element_count(io.in[0]));
  if (image_int16(io.in[0].type)) {
    const int16_t* in = io.in[0].as<const int16_t>();
    int16_t* out = io.out[0].as<int16_t>();
    const int32_t round = p.input_left_shift > 0 ? 1 << (p.input_left_shift - 1) : 0;
    for (int32_t i = 0; i < n; ++i)
      out[i] = from_int16((in[i] * p.input_multiplier + round) >> p.input_left_shift);
    return;
  }
  if (io.in[0].type == DType::i8) {
    const int8_t* in = io.in[0].as<const int8_t>();
    int8_t* out = io.out[0].as<int8_t>();
    for (int32_t i = 0; i < n; ++i) {
      const int32_t x = in[i] - p.input_zero_point;
      if (x <= -p.input_range_radius) {
        out[i] = -128;
      } else if (x >= p.input_range_radius) {
        out[i] = 127;
      } else {
        out[i] = static_cast<int8_t>(from_q4(
            fixed::multiply_by_quantized_multiplier(x, p.input_multiplier, p.input_left_shift)));
      }
    }
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  for (int32_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

}  // namespace tinyforge::sigmoid_family
