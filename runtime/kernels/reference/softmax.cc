// Reference Softmax over the last dimension.
//   int8 -> int8 (output scale 1/256, zero point -128): TFLite's reference_ops::Softmax
//     fixed-point algorithm. Per row: d = x - max(row); rows elements with d < diff_min
//     contribute nothing and output -128; the others are rescaled by input_multiplier /
//     input_left_shift into Q5.26 (kScaledDiffIntegerBits = 5), exponentiated in Q0.31,
//     summed in Q12.19 (kAccumulationIntegerBits = 12); each exp is multiplied by the
//     reciprocal of the sum and shifted down to 8 bits.
//   int16 -> int16 (zero points 0, output scale 1/32768): TFLite's reference_ops::SoftmaxInt16
//     (kernels/internal/reference/softmax.h). Per row: d = x - max(row) is rescaled by
//     MultiplyByQuantizedMultiplier so [-65535, 0] spans [-10, 0], recentred by +32767 and
//     looked up (interpolated, lut_lookup of kernels/internal/common.h) in the exp table
//     (input 1); the Q16.15 sum is normalized by its leading zeros, recentred and looked up
//     in the 1 / (1 + x) table (input 2); each exp times that reciprocal, shifted back and
//     clamped to [0, 32767]. The compiler makes both tables (compiler/ops/softmax.cc).
//   float32: TFLite's reference float Softmax: exp((x - max) * beta) / sum, in float.
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/lut_int16.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

// exp(beta * input_scale * d) in Q0.31 for a row difference d in [diff_min, 0].
int32_t exp_of_diff(const SoftmaxParams& p, int32_t diff) {
  // MultiplyByQuantizedMultiplierGreaterThanOne: left shift, then the rounding high mul.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift);
  const int32_t scaled = fixed::saturating_rounding_doubling_high_mul(shifted, p.input_multiplier);
  return fixed::exp_on_negative_values(scaled, kScaledDiffIntegerBits);
}

void softmax_row_int8(const SoftmaxParams& p, const int8_t* in, int8_t* out, int32_t depth) {
  int32_t max_in_row = -128;
  for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;

  int32_t sum_of_exps = 0;  // Q12.19
  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    if (diff >= p.diff_min)
      sum_of_exps = fixed::wrapping_add(
          sum_of_exps, fixed::rescale(exp_of_diff(p, diff), 0, kAccumulationIntegerBits));
  }

  int num_bits_over_unit = 0;
  const int32_t shifted_scale =
      fixed::reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
  // The reference requires 0 <= exponent <= 31 (it aborts otherwise, which needs rows of
  // more than ~512 equal maxima); clamping keeps this kernel defined for any input.
  const int exponent = fixed::clamp(num_bits_over_unit + 31 - 8, 0, 31);

  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    if (diff >= p.diff_min) {
      const int32_t prob = fixed::rounding_divide_by_pot(
          fixed::saturating_rounding_doubling_high_mul(shifted_scale, exp_of_diff(p, diff)),
          exponent);
      out[c] = static_cast<int8_t>(fixed::clamp(prob - 128, -128, 127));
    } else {
      out[c] = -128;
    }
  }
}

int32_t exp_of_diff_int16(const SoftmaxParams& p, const int16_t* exp_lut, int32_t diff) {
  const int32_t scaled =
      fixed::multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_left_shift);
  return lut_lookup_int16(fixed::clamp(scaled + 32767, -32768, 32767), exp_lut);
}

// The exps are kept in `out` between the two passes, as the reference does (out[c] is only
// written after in[c] is read, so an in-place plan is safe).
void softmax_row_int16(const SoftmaxParams& p, const int16_t* exp_lut,
                       const int16_t* one_over_one_plus_x_lut, const int16_t* in, int16_t* out,
                       int32_t depth) {
  int32_t max_in_row = -32768;
  for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
  int32_t sum_of_exps = 0;  // Q16.15; check_Softmax bounds it inside [2^14, 2^31)
  for (int32_t c = 0; c < depth; ++c) {
    const int32_t e = exp_of_diff_int16(p, exp_lut, in[c] - max_in_row);
    out[c] = static_cast<int16_t>(e);
    sum_of_exps += e;
  }
  const int headroom_plus_one = fixed::count_leading_zeros(static_cast<uint32_t>(sum_of_exps));
  const auto shifted_sum = static_cast<int32_t>(
      ((static_cast<int64_t>(sum_of_exps) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
  // 1 / (1 + x) for x = sum - 1 recentred from [0, 65535] to [-32768, 32767].
  const int32_t reciprocal = lut_lookup_int16(
      fixed::clamp(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767), one_over_one_plus_x_lut);
  const int right_shift = 31 - headroom_plus_one;
  const int64_t round = int64_t{1} << (right_shift - 1);
  for (int32_t c = 0; c < depth; ++c) {
    const int64_t v = (static_cast<int64_t>(out[c]) * reciprocal + round) >> right_shift;
    out[c] = static_cast<int16_t>(v < 0 ? 0 : (v > 32767 ? 32767 : v));
  }
}

void softmax_row_float(float beta, const float* in, float* out, int32_t depth) {
  float max = -3.40282347e+38f;  // lowest float, the reference's starting value
  for (int32_t c = 0; c < depth; ++c) max = max < in[c] ? in[c] : max;
  float sum = 0.0f;
  for (int32_t c = 0; c < depth; ++c) {
    out[c] = std::exp((in[c] - max) * beta);
    sum += out[c];
  }
  for (int32_t c = 0; c < depth; ++c) out[c] = out[c] / sum;
}

}  // namespace

namespace {

// The int16 tables: constants (their data is in the blob at validation) of 513 entries whose
// values keep the kernel's shifts defined: exps in [0, 32767] and an exp(0) of at least 2^14
// (its entries 511 and 512 interpolate it), so a row's sum lies in [2^14, 2^31) for up to
// 2^16 elements.
Status check_int16_tables(const SoftmaxParams& p, const KernelIO& io, int32_t depth) {
  if (io.num_inputs != 3) return Status::bad_shape;
  for (int i = 1; i <= 2; ++i) {
    const TensorView& t = io.in[i];
    if (!image_int16(t.type) || !view::is_valid(t, DType::i16)) return Status::bad_enum;
    if (t.elements() != kInt16LutSize || t.data == nullptr) return Status::bad_shape;
  }
  const int16_t* exp_lut = io.in[1].as<const int16_t>();
  for (int32_t i = 0; i < kInt16LutSize; ++i)
    if (exp_lut[i] < 0) return Status::bad_params;
  if (exp_lut[511] < (1 << 14) || exp_lut[512] < (1 << 14)) return Status::bad_params;
  if (depth > (1 << 16)) return Status::bad_shape;
  if (io.in[0].zero_point != 0 || io.out[0].zero_point != 0) return Status::bad_params;
  // d * 2^shift for |d| <= 65535 stays inside int32.
  if (p.input_multiplier < 0 || p.input_left_shift < -31 || p.input_left_shift > 15)
    return Status::bad_params;
  return Status::ok;
}

}  // namespace

Status check_Softmax(const SoftmaxParams& p, const KernelIO& io) {
  if (io.num_inputs < 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type ||
      (in.type != DType::i8 && !image_float(in.type) && !image_int16(in.type)))
    return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (!view::same_dims(in, out) || in.rank < 1 || in.dims[in.rank - 1] < 1)
    return Status::bad_shape;
  if (image_int16(in.type)) return check_int16_tables(p, io, in.dims[in.rank - 1]);
  if (io.num_inputs != 1) return Status::bad_shape;
  if (in.type == DType::i8) {
    if (p.input_multiplier < 0 || p.input_left_shift < 0 || p.input_left_shift > 31)
      return Status::bad_params;
    if (p.diff_min > 0) return Status::bad_params;
  }
  return Status::ok;
}

void eval_Softmax(const SoftmaxParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const int32_t depth = in.dims[in.rank - 1];
  const int32_t rows = static_cast<int32_t>(view::element_count(in)) / depth;
  if (in.type == DType::i8) {
    const int8_t* x = in.as<const int8_t>();
    int8_t* y = io.out[0].as<int8_t>();
    for (int32_t r = 0; r < rows; ++r) softmax_row_int8(p, x + r * depth, y + r * depth, depth);
  } else if (image_int16(in.type)) {
    const int16_t* x = in.as<const int16_t>();
    int16_t* y = io.out[0].as<int16_t>();
    for (int32_t r = 0; r < rows; ++r)
      softmax_row_int16(p, io.in[1].as<const int16_t>(), io.in[2].as<const int16_t>(),
                        x + r * depth, y + r * depth, depth);
  } else if (image_float(in.type)) {
    const float* x = in.as<const float>();
    float* y = io.out[0].as<float>();
    for (int32_t r = 0; r < rows; ++r)
      softmax_row_float(p.beta, x + r * depth, y + r * depth, depth);
  }
}

}  // namespace tinyforge
