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
//   which wraps modulo 256, and so do we (exactly wherever TFLite's float-to-int32
//   conversion is defined).
// - int16 Mean and Sum (TFLite's 16x8 scheme, zero points 0): the int8 paths on int16
//   values (EvalMeanHelper / EvalSumHelper take the same three for int16), clamped to or,
//   for Sum, wrapped into int16; at most 2^16 elements per output keep the sums in int32.
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
#include "src/enabled_ops.h"
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

// float -> int32 for a rounded value, exact inside int32 (as TFLite's static_cast), saturating
// outside it and for NaN (where TFLite's conversion is undefined).
int32_t to_int(float r) {
  constexpr float kLimit = 2147483648.0f;  // 2^31
  if (!(r >= -kLimit)) return INT32_MIN;
  if (r >= kLimit) return INT32_MAX;
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

// Most elements one int16 output sums (TFLite's 16x8 scheme, zero points 0).
constexpr int64_t kMaxInt16Count = 1 << 16;

Status check_reduce(const ReduceParams& p, const KernelIO& io, Reduction r) {
  const bool mean = r == Reduction::mean;
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const DType type = out.type;
  if (type != DType::i8 && type != DType::f32 && !image_int16(type)) return Status::bad_enum;
  if (!view::is_valid(in, type) || !view::is_valid(out, type)) return Status::bad_shape;
  if (in.rank < 1 || p.axes_mask <= 0 || p.axes_mask >= (1 << in.rank)) return Status::bad_params;
  int64_t kept = 1, count = 1;
  for (int d = 0; d < in.rank; ++d) {
    if (in.dims[d] < 1) return Status::bad_shape;
    (p.axes_mask & (1 << d) ? count : kept) *= in.dims[d];
  }
  if (view::element_count(out) != kept) return Status::bad_shape;
  // The int32 sums cannot overflow: 2^23 int8 or 2^16 int16 values.
  if (count > (image_int16(type) ? kMaxInt16Count : 1 << 23)) return Status::bad_shape;
  const auto mode = static_cast<ReduceMode>(p.mode);
  if (type == DType::f32 || r == Reduction::max) {
    if (!view::same_quantization(in, out)) return Status::bad_params;
    return mode == ReduceMode::float_values ? Status::ok : Status::bad_params;
  }
  if (image_int16(type) ? p.input_zero_point != 0 || p.output_zero_point != 0
                        : p.input_zero_point < -128 || p.input_zero_point > 127 ||
                              p.output_zero_point < -128 || p.output_zero_point > 127)
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

// int8 or int16 Mean and Sum, on the path `p.mode` names (see top).
template <typename T>
void eval_integer(const ReduceParams& p, const Split& s, const KernelIO& io, bool mean) {
  constexpr int32_t lo = sizeof(T) == 1 ? -128 : -32768, hi = sizeof(T) == 1 ? 127 : 32767;
  const T* in = io.in[0].as<const T>();
  T* out = io.out[0].as<T>();
  const int32_t n = s.count;
  switch (static_cast<ReduceMode>(p.mode)) {
    case ReduceMode::mean_spatial:
      for_each_output(s, in, int32_t{0}, Add{}, [&](int32_t o, int32_t sum) {
        // sum of (x - zp_in) = sum of x - n * zp_in
        int32_t acc = fixed::multiply_by_quantized_multiplier(sum - n * p.input_zero_point,
                                                              p.multiplier, p.shift);
        // (wrapping where TFLite's int32 would overflow: never with TFLite's parameters)
        acc = acc > 0 ? fixed::wrapping_add(acc, n / 2) / n : fixed::wrapping_sub(acc, n / 2) / n;
        out[o] = static_cast<T>(fixed::clamp(acc + p.output_zero_point, lo, hi));
      });
      break;
    case ReduceMode::mean_same_quant:
      for_each_output(s, in, int32_t{0}, Add{},
                      [&](int32_t o, int32_t sum) { out[o] = static_cast<T>(sum / n); });
      break;
    default:  // requantize
      for_each_output(s, in, int32_t{0}, Add{}, [&](int32_t o, int32_t sum) {
        if (mean) {
          const float float_mean = static_cast<float>(sum) / static_cast<float>(n);
          const float r = std::round(float_mean * p.scale + p.bias);
          const int64_t q = int64_t{to_int(r)} + p.output_zero_point;
          out[o] = static_cast<T>(q < lo ? lo : q > hi ? hi : q);
        } else {
          // TFLite casts the int32 to T: it keeps the low 8 or 16 bits.
          const float r = std::round(static_cast<float>(sum) * p.scale + p.bias);
          const uint32_t wrapped =
              static_cast<uint32_t>(to_int(r)) + static_cast<uint32_t>(p.output_zero_point);
          out[o] = static_cast<T>(sizeof(T) == 1 ? static_cast<int8_t>(wrapped & 0xFFu)
                                                 : static_cast<int16_t>(wrapped & 0xFFFFu));
        }
      });
      break;
  }
}

// Mean and Sum (ReduceMax has its own loop).
void eval_reduce(const ReduceParams& p, const KernelIO& io, Reduction r) {
  const Split s = split(io.in[0], p.axes_mask);
  const bool mean = r == Reduction::mean;
  if (io.out[0].type == DType::f32) {
    float* out = io.out[0].as<float>();
    const float count = static_cast<float>(s.count);
    for_each_output(s, io.in[0].as<const float>(), 0.0f, Add{},
                    [&](int32_t o, float sum) { out[o] = mean ? sum / count : sum; });
  } else if (image_int16(io.out[0].type)) {
    eval_integer<int16_t>(p, s, io, mean);
  } else {
    eval_integer<int8_t>(p, s, io, mean);
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
  else if (image_int16(io.out[0].type))
    reduce_max<int16_t>(s, io.in[0], io.out[0], INT16_MIN);
  else
    reduce_max<int8_t>(s, io.in[0], io.out[0], -128);
}

}  // namespace tinyforge
