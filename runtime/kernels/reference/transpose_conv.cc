// TransposeConv reference kernel, NHWC, filter [OC, KH, KW, IC].
// int8 follows TFLite's reference_integer_ops::TransposeConv and float32 reference_ops::
// TransposeConv (tensorflow/lite/kernels/internal/reference/{integer_ops/,}transpose_conv.h):
// input element (iy, ix, ic) adds input x filter[oc, ky, kx, ic] to output (iy * stride_h -
// pad_top + ky, ix * stride_w - pad_left + kx, oc), skipping positions outside the output;
// then bias, requantization (int8) and the clamp. int16 (TFLite's 16x8 scheme: int16
// activations with zero point 0, int8 weights, int64 bias) follows its int16 TransposeConv
// overload (integer_ops/transpose_conv.h): 64-bit sums, the bias, MultiplyByQuantizedMultiplier
// in its int64 form, the clamp (output_stage.h's Int16x8Channels); the lowering requires
// the bias, as for the conv family's 16x8 twins.
//
// TFLite scatters into an output-sized accumulator buffer. We gather instead: each output
// element sums its contributions in the order the scatter adds them (input row, column,
// channel ascending), so float32 sums round identically, and the int8 sums are exact, with
// no scratch buffer.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/output_stage.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// The input positions along one axis that reach output position `out`, and the filter tap
// of the first: input i reaches out with tap out + pad - i * stride in [0, filter).
struct Reach {
  int32_t first, last;  // inclusive; empty when first > last
  int32_t first_tap;
};

Reach reach(int32_t out, int32_t pad, int32_t stride, int32_t filter, int32_t in) {
  const int32_t from_origin = out + pad;  // >= 0: check_ requires pad >= 0
  const int32_t lowest_tap_start = from_origin - filter + 1;
  Reach r;
  r.first = lowest_tap_start <= 0 ? 0 : (lowest_tap_start + stride - 1) / stride;
  r.last = from_origin / stride;
  if (r.last > in - 1) r.last = in - 1;
  r.first_tap = from_origin - r.first * stride;
  return r;
}

// Float finish as TFLite's reference: bias added only when present (keeps -0.0f), clamp.
struct FloatFinish {
  const float* bias;
  float act_min, act_max;

  static float accumulate(float acc, float x, float w, int32_t) { return acc + x * w; }
  float operator()(float acc, int32_t channel) const {
    if (bias) acc += bias[channel];
    return stage::clamp_float(acc, act_min, act_max);
  }
};

// T: input and output element, W: weight element.
template <typename T, typename W, typename Acc, typename Finish>
void transpose_conv_loop(const TransposeConvParams& p, const KernelIO& io, int32_t input_offset,
                         Finish finish) {
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  const int32_t in_h = in.dims[1], in_w = in.dims[2], in_c = in.dims[3];
  const int32_t k_h = filter.dims[1], k_w = filter.dims[2];
  const int32_t out_h = out.dims[1], out_w = out.dims[2], out_c = out.dims[3];
  const T* input = in.as<const T>();
  const W* weights = filter.as<const W>();
  T* output = out.as<T>();
  for (int32_t b = 0; b < in.dims[0]; ++b) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const Reach ry = reach(oy, p.pad_top, p.stride_h, k_h, in_h);
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const Reach rx = reach(ox, p.pad_left, p.stride_w, k_w, in_w);
        T* out_px = output + ((b * out_h + oy) * out_w + ox) * out_c;
        for (int32_t oc = 0; oc < out_c; ++oc) {
          Acc acc = 0;
          for (int32_t iy = ry.first, ky = ry.first_tap; iy <= ry.last; ++iy, ky -= p.stride_h) {
            for (int32_t ix = rx.first, kx = rx.first_tap; ix <= rx.last; ++ix, kx -= p.stride_w) {
              const T* x = input + ((b * in_h + iy) * in_w + ix) * in_c;
              const W* w = weights + ((oc * k_h + ky) * k_w + kx) * in_c;
              for (int32_t c = 0; c < in_c; ++c)
                acc = finish.accumulate(acc, x[c], w[c], input_offset);
            }
          }
          out_px[oc] = finish(acc, oc);
        }
      }
    }
  }
}

// One spatial axis: stride and padding sane, and every index the loop computes inside int32.
bool axis_ok(int32_t in, int32_t filter, int32_t stride, int32_t pad, int32_t out) {
  if (stride < 1 || pad < 0 || pad > checks::kMaxExtent || out > checks::kMaxExtent) return false;
  const int64_t span = (int64_t{in} - 1) * stride + filter;
  return span <= checks::kMaxExtent;
}

}  // namespace

Status check_TransposeConv(const TransposeConvParams& p, const KernelIO& io) {
  DType type = DType::i16;
  const bool int16 = io.num_inputs > 0 && image_int16(io.in[0].type);
  const Status views =
      int16 ? checks::check_int16x8_types(io) : checks::check_windowed_views(io, &type);
  if (views != Status::ok) return views;
  if (int16 && !checks::has_windowed_dims(io)) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  if (p.stride_h < 1 || p.stride_w < 1 || p.pad_top < 0 || p.pad_left < 0)
    return Status::bad_params;
  const int32_t out_c = out.dims[3];
  if (out.dims[0] != in.dims[0] || filter.dims[0] != out_c || filter.dims[3] != in.dims[3])
    return Status::bad_shape;
  if (!axis_ok(in.dims[1], filter.dims[1], p.stride_h, p.pad_top, out.dims[1]) ||
      !axis_ok(in.dims[2], filter.dims[2], p.stride_w, p.pad_left, out.dims[2]))
    return Status::bad_shape;
  if (int16) return checks::check_int16x8_channels(p, io, out_c);
  return checks::check_channel_inputs(p, io, type, out_c);
}

void eval_TransposeConv(const TransposeConvParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    transpose_conv_loop<int8_t, int8_t, int32_t>(p, io, p.input_offset,
                                                 stage::int8_channels(p, io.in));
  } else if (image_int16(io.in[0].type)) {
    transpose_conv_loop<int16_t, int8_t, int64_t>(p, io, 0, stage::int16x8_channels(p, io.in));
  } else {
    const FloatFinish finish{io.in[2].as<const float>(), p.f_act_min, p.f_act_max};
    transpose_conv_loop<float, float, float>(p, io, 0, finish);
  }
}

}  // namespace tinyforge
