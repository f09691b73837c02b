// Reference LogSoftmax over the last dimension (TFLite LOG_SOFTMAX, beta 1).
//   float32: TFLite's reference_ops::LogSoftmax (kernels/internal/reference/log_softmax.h):
//     per row, max, sum of exp(x - max) in float, then x - max - log(sum). Every output is
//     finite however far an element lies below its row's maximum.
//   int8 -> int8 (output scale 16/256, zero point 127): TFLite's LogSoftmaxQuantized, the
//     kernel tflite-micro's LOG_SOFTMAX runs. Per row: d = x - max(row); the d >= diff_min
//     are rescaled into Q5.26 (MultiplyByQuantizedMultiplier by input_multiplier and
//     input_left_shift), exponentiated and summed in Q12.19; log(sum) in Q5.26
//     (fixed::log_x_for_x_greater_than_or_equal_to_1). The differences at or below
//     max(diff_min - 1, (INT32_MIN + log(sum)) rescaled back by reverse_scaling_divisor /
//     reverse_scaling_left_shift) output -128; the others output
//     RoundingDivideByPOT(rescaled d - log(sum), 31 - 5 - 4) + 127, clamped.
// The reference adds the exps with a plain int32 add, which cannot overflow for rows of
// fewer than 4096 elements; saturating keeps longer rows defined (same results below that).
// The float path is left out of images without float32 tensors (image_float,
// src/enabled_ops.h), so an int8 image does not link expf and logf.
#include <climits>
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;
constexpr int kOutputIntegerBits = 4;
constexpr int32_t kOutputZeroPoint = 127;

int32_t rescaled_diff(const LogSoftmaxParams& p, int32_t diff) {
  return fixed::multiply_by_quantized_multiplier(diff, p.input_multiplier, p.input_left_shift);
}

void log_softmax_row_int8(const LogSoftmaxParams& p, const int8_t* in, int8_t* out, int32_t depth) {
  int32_t max_in_row = -128;
  for (int32_t c = 0; c < depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;

  int32_t sum_of_exps = 0;  // Q12.19; at least 1 (the maximum's exp)
  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    if (diff >= p.diff_min)
      sum_of_exps = fixed::saturating_add(
          sum_of_exps, fixed::rescale(fixed::exp_on_negative_values(rescaled_diff(p, diff),
                                                                    kScaledDiffIntegerBits),
                                      0, kAccumulationIntegerBits));
  }
  const int32_t log_sum_of_exps =
      fixed::log_x_for_x_greater_than_or_equal_to_1<kAccumulationIntegerBits,
                                                    kScaledDiffIntegerBits>(sum_of_exps);  // Q5.26

  // Below this difference, rescaled d - log(sum) would leave Q5.26: the lowest output.
  // (The reference's int32 sum INT32_MIN + log(sum), wrapping where it would overflow.)
  const int32_t reverse_scaled = fixed::multiply_by_quantized_multiplier(
      fixed::wrapping_add(log_sum_of_exps, INT32_MIN), p.reverse_scaling_divisor,
      p.reverse_scaling_left_shift);
  const int32_t adjusted_diff_min =
      p.diff_min - 1 > reverse_scaled ? p.diff_min - 1 : reverse_scaled;

  for (int32_t c = 0; c < depth; ++c) {
    const int32_t diff = in[c] - max_in_row;
    if (diff > adjusted_diff_min) {
      const int32_t v = fixed::rounding_divide_by_pot(
                            fixed::wrapping_sub(rescaled_diff(p, diff), log_sum_of_exps),
                            31 - kScaledDiffIntegerBits - kOutputIntegerBits) +
                        kOutputZeroPoint;
      out[c] = static_cast<int8_t>(fixed::clamp(v, -128, 127));
    } else {
      out[c] = -128;
    }
  }
}

void log_softmax_row_float(const float* in, float* out, int32_t depth) {
  float max = -3.40282347e+38f;  // lowest float, the reference's starting value
  for (int32_t c = 0; c < depth; ++c) max = max < in[c] ? in[c] : max;
  float sum = 0.0f;
  for (int32_t c = 0; c < depth; ++c) sum += std::exp(in[c] - max);
  const float log_sum = std::log(sum);
  for (int32_t c = 0; c < depth; ++c) out[c] = in[c] - max - log_sum;
}

}  // namespace

Status check_LogSoftmax(const LogSoftmaxParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type || (in.type != DType::i8 && !image_float(in.type)))
    return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (!view::same_dims(in, out) || in.rank < 1 || in.dims[in.rank - 1] < 1)
    return Status::bad_shape;
  if (in.type == DType::i8) {
    // The arithmetic writes log-probabilities in [-255/16, 0] at 1/16 per step.
    if (out.zero_point != kOutputZeroPoint || out.scale != 16.0f / 256) return Status::bad_params;
    if (p.input_multiplier < 0 || p.input_left_shift < 0 || p.input_left_shift > 31)
      return Status::bad_params;
    if (p.reverse_scaling_divisor < 0 || p.reverse_scaling_left_shift > 0 ||
        p.reverse_scaling_left_shift < -31)
      return Status::bad_params;
    if (p.diff_min > 0 || p.diff_min == INT32_MIN) return Status::bad_params;  // diff_min - 1
  }
  return Status::ok;
}

void eval_LogSoftmax(const LogSoftmaxParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const int32_t depth = in.dims[in.rank - 1];
  const int32_t rows = static_cast<int32_t>(view::element_count(in)) / depth;
  if (in.type == DType::i8) {
    const int8_t* x = in.as<const int8_t>();
    int8_t* y = io.out[0].as<int8_t>();
    for (int32_t r = 0; r < rows; ++r) log_softmax_row_int8(p, x + r * depth, y + r * depth, depth);
  } else if (image_float(in.type)) {
    const float* x = in.as<const float>();
    float* y = io.out[0].as<float>();
    for (int32_t r = 0; r < rows; ++r) log_softmax_row_float(x + r * depth, y + r * depth, depth);
  }
}

}  // namespace tinyforge
