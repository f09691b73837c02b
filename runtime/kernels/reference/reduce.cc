// Reference Mean, Sum and ReduceMax over a set of axes (rank <= 4), following TFLite Micro's
// reduce kernels (tensorflow/lite/micro/kernels/reduce_common.cc EvalMeanHelper /
// EvalSumHelper / EvalMaxHelper)
// and the reference functions they call; the compiler picks the path TFLM would take
// (ReduceMode) and precomputes its constants.
// - float Mean: the sum in row-major input order (reference_ops::Mean and its 4-D axes
//   {1, 2} special case add in the same order), divided by the element count as float.
//   float Sum: the same sum (ReduceGeneric, init 0).
// - int8 Mean, 4-D axes {1, 2} with keep_dims (reference_integer_ops::Mean): acc = sum of
//   (x - zp_in); MultiplyByQuantizedMultiplier(acc, s_in / s_out); divided by the count
//   rounding half away from zero; + zp_out; clamped.
// - int8 Mean, input and output quantized alike (reference_ops::Mean<int8_t, int32_t>): the
//   int32 sum of the stored values divided by the count, truncating.
// - int8 Mean otherwise (reference_ops::QuantizedMeanOrSum, compute_sum false), in float:
//   round(float(sum) / float(count) * scale + bias) + zp_out clamped, with scale = s_in /
//   s_out and bias = -zp_in * scale + 0.5f (TFLite's own formula, rounding after adding 0.5).
// - int8 Sum (QuantizedMeanOrSum, compute_sum true): round(sum * scale + bias) + zp_out
//   with bias = -zp_in * scale * count + 0.5f, NOT clamped: TFLite casts the int32 to int8,
//   which wraps modulo 256, and so do we.
// - ReduceMax (EvalMaxHelper, reference_ops::ReduceGeneric with the type's lowest value as
//   init and max as reducer): the largest stored value; int8 and int16 (TFLite's 16x8
//   scheme) input and output share one scale and zero point (TFLM requires it), so stored
//   values compare as real ones.
// The float steps are single precision as in TFLite; a build that contracts a * b + c into
// a fused multiply-add would change the int8 rounding (the host build does not).
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// Kept and reduced dims of the input, each padded to 4 with extent 1.
struct Split {
  int32_t kept[4], kept_stride[4];
  int32_t reduced[4], reduced_stride[4];
  int32_t count;  // elements per output
};

Split split(const TensorView& in, int32_t mask) {
  Split s{};
  int32_t stride[4];
  int32_t st = 1;
  for (int d = in.rank - 1; d >= 0; --d) {
    stride[d] = st;
    st *= in.dims[d];
  }
  int k = 0, r = 0;
  s.count = 1;
  for (int d = 0; d < in.rank; ++d) {
    if (mask & (1 << d)) {
      s.reduced[r] = in.dims[d];
      s.reduced_stride[r++] = stride[d];
      s.count *= in.dims[d];
    } else {
      s.kept[k] = in.dims[d];
      s.kept_stride[k++] = stride[d];
    }
  }
  for (; k < 4; ++k) s.kept[k] = 1, s.kept_stride[k] = 0;
  for (; r < 4; ++r) s.reduced[r] = 1, s.reduced_stride[r] = 0;
  return s;
}

// finish(o, acc) for every output element o in order, acc = the reduced elements folded into
// `init` by fold(acc, x) in row-major order.
template <typename T, typename Acc, typename Fold, typename Finish>
void for_each_output(const Split& s, const T* in, Acc init, Fold fold, Finish finish) {
  int32_t o = 0;
  for (int32_t a = 0; a < s.kept[0]; ++a)
    for (int32_t b = 0; b < s.kept[1]; ++b)
      for (int32_t c = 0; c < s.kept[2]; ++c)
        for (int32_t d = 0; d < s.kept[3]; ++d) {
          const int32_t base = a * s.kept_stride[0] + b * s.kept_stride[1] + c * s.kept_stride[2] +
                               d * s.kept_stride[3];
          Acc acc = init;
          for (int32_t i = 0; i < s.reduced[0]; ++i)
            for (int32_t j = 0; j < s.reduced[1]; ++j)
              for (int32_t k = 0; k < s.reduced[2]; ++k)
                for (int32_t l = 0; l < s.reduced[3]; ++l)
                  acc = fold(acc, static_cast<Acc>(
                                      in[base + i * s.reduced_stride[0] + j * s.reduced_stride[1] +
                                         k * s.reduced_stride[2] + l * s.reduced_stride[3]]));
          finish(o++, acc);
        }
}

// float -> int32 for a rounded value, saturating (TFLite's conversion is undefined outside
// int32; every such value is clamped to the same int8 afterwards).
int32_t to_int(float r) {
  constexpr float kLimit = 16777216.0f;  // 2^24
  if (!(r >= -kLimit)) return -(1 << 24);
  if (r > kLimit) return 1 << 24;
  return static_cast<int32_t>(r);
}

enum class Reduction { mean, sum, max };

struct Add {
  template <typename T>
  T operator()(T a, T b) const {
    return a + b;
  }
};
// TFLite's max reducer, (in > current) ? in : current: a NaN input never replaces the max.
struct Max {
  template <typename T>
  T operator()(T current, T in) const {
    return in > current ? in : current;
  }
};

Status check_reduce(const ReduceParams& p, const KernelIO& io, Reduction r) {
  const bool mean = r == Reduction::mean;
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const DType type = out.type;
  if (type != DType::i8 && type != DType::f32 && !(r == Reduction::max && type == DType::i16))
    return Status::bad_enum;
  if (!view::is_valid(in, type) || !view::is_valid(out, type)) return Status::bad_shape;
  if (in.rank < 1 || p.axes_mask <= 0 || p.axes_mask >= (1 << in.rank)) return Status::bad_params;
  int64_t kept = 1, count = 1;
  for (int d = 0; d < in.rank; ++d) {
    if (in.dims[d] < 1) return Status::bad_shape;
    (p.axes_mask & (1 << d) ? count : kept) *= in.dims[d];
  }
  if (view::element_count(out) != kept) return Status::bad_shape;
  if (count > (1 << 23)) return Status::bad_shape;  // the int32 sums cannot overflow
  const auto mode = static_cast<ReduceMode>(p.mode);
  if (type == DType::f32 || r == Reduction::max) {
    if (!view::same_quantization(in, out)) return Status::bad_params;
    return mode == ReduceMode::float_values ? Status::ok : Status::bad_params;
  }
  if (p.input_zero_point < -128 || p.input_zero_point > 127 || p.output_zero_point < -128 ||
      p.output_zero_point > 127)
    return Status::bad_params;
  switch (mode) {
    case ReduceMode::mean_spatial:
      if (!mean || in.rank != 4 || p.axes_mask != 6) return Status::bad_params;
      if (p.multiplier < 0 || p.shift < -31 || p.shift > 7) return Status::bad_params;
      return Status::ok;
    case ReduceMode::mean_same_quant:
      return mean ? Status::ok : Status::bad_params;
    case ReduceMode::requantize:
      return std::isfinite(p.scale) && std::isfinite(p.bias) ? Status::ok : Status::bad_params;
    default:
      return Status::bad_params;
  }
}

template <typename T>
void reduce_max(const Split& s, const TensorView& in, const TensorView& out, T lowest) {
  T* y = out.as<T>();
  for_each_output(s, in.as<const T>(), lowest, Max{}, [&](int32_t o, T m) { y[o] = m; });
}

// Mean and Sum (ReduceMax has its own loop).
void eval_reduce(const ReduceParams& p, const KernelIO& io, Reduction r) {
  const Split s = split(io.in[0], p.axes_mask);
  const auto mode = static_cast<ReduceMode>(p.mode);
  const bool mean = r == Reduction::mean;
  if (io.out[0].type == DType::f32) {
    float* out = io.out[0].as<float>();
    const float count = static_cast<float>(s.count);
    for_each_output(s, io.in[0].as<const float>(), 0.0f, Add{},
                    [&](int32_t o, float sum) { out[o] = mean ? sum / count : sum; });
    return;
  }
  const int8_t* in = io.in[0].as<const int8_t>();
  int8_t* out = io.out[0].as<int8_t>();
  const int32_t n = s.count;
  switch (mode) {
    case ReduceMode::mean_spatial:
      for_each_output(s, in, int32_t{0}, Add{}, [&](int32_t o, int32_t sum) {
        // sum of (x - zp_in) = sum of x - n * zp_in
        int32_t acc = fixed::multiply_by_quantized_multiplier(sum - n * p.input_zero_point,
                                                              p.multiplier, p.shift);
        acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
        out[o] = static_cast<int8_t>(fixed::clamp(acc + p.output_zero_point, -128, 127));
      });
      break;
    case ReduceMode::mean_same_quant:
      for_each_output(s, in, int32_t{0}, Add{},
                      [&](int32_t o, int32_t sum) { out[o] = static_cast<int8_t>(sum / n); });
      break;
    default:  // requantize
      for_each_output(s, in, int32_t{0}, Add{}, [&](int32_t o, int32_t sum) {
        if (mean) {
          const float float_mean = static_cast<float>(sum) / static_cast<float>(n);
          const float r = std::round(float_mean * p.scale + p.bias);
          out[o] = static_cast<int8_t>(fixed::clamp(to_int(r) + p.output_zero_point, -128, 127));
        } else {
          const float r = std::round(static_cast<float>(sum) * p.scale + p.bias);
          const uint32_t wrapped = static_cast<uint32_t>(to_int(r) + p.output_zero_point);
          out[o] = static_cast<int8_t>(static_cast<uint8_t>(wrapped & 0xFFu));
        }
      });
      break;
  }
}

}  // namespace

Status check_Mean(const ReduceParams& p, const KernelIO& io) {
  return check_reduce(p, io, Reduction::mean);
}
void eval_Mean(const ReduceParams& p, const KernelIO& io) { eval_reduce(p, io, Reduction::mean); }
Status check_Sum(const ReduceParams& p, const KernelIO& io) {
  return check_reduce(p, io, Reduction::sum);
}
void eval_Sum(const ReduceParams& p, const KernelIO& io) { eval_reduce(p, io, Reduction::sum); }
Status check_ReduceMax(const ReduceParams& p, const KernelIO& io) {
  return check_reduce(p, io, Reduction::max);
}
void eval_ReduceMax(const ReduceParams& p, const KernelIO& io) {
  const Split s = split(io.in[0], p.axes_mask);
  if (io.out[0].type == DType::f32)
    reduce_max(s, io.in[0], io.out[0], -FLT_MAX);
  else if (io.out[0].type == DType::i16)
    reduce_max<int16_t>(s, io.in[0], io.out[0], INT16_MIN);
  else
    reduce_max<int8_t>(s, io.in[0], io.out[0], -128);
}

}  // namespace tinyforge
