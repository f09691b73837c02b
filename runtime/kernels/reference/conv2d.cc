// Conv2D reference kernel, NHWC, filter [OC, KH, KW, IC/groups].
// int8 follows TFLite's reference_integer_ops::ConvPerChannel and float32 follows
// reference_ops::Conv (tensorflow/lite/kernels/internal/reference/{integer_ops/,}conv.h):
// same accumulation order, taps outside the input skipped, grouped convolution when the
// filter's last dim divides the input channels (output channel oc belongs to group
// oc / (OC / groups)).
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

struct ConvShape {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, group_c;  // group_c = filter's last dim = input channels per group
  int32_t groups, filters_per_group;
};

ConvShape conv_shape(const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  ConvShape s;
  s.batches = in.dims[0];
  s.in_h = in.dims[1];
  s.in_w = in.dims[2];
  s.in_c = in.dims[3];
  s.out_h = out.dims[1];
  s.out_w = out.dims[2];
  s.out_c = out.dims[3];
  s.k_h = filter.dims[1];
  s.k_w = filter.dims[2];
  s.group_c = filter.dims[3];
  s.groups = s.in_c / s.group_c;
  s.filters_per_group = s.out_c / s.groups;
  return s;
}

template <typename T, typename Acc, typename Finish>
void conv_loop(const Conv2DParams& p, const KernelIO& io, int32_t input_offset, Finish finish) {
  const ConvShape s = conv_shape(io);
  const T* input = io.in[0].as<const T>();
  const T* filter = io.in[1].as<const T>();
  T* output = io.out[0].as<T>();
  const int32_t filter_stride_oc = s.k_h * s.k_w * s.group_c;
  for (int32_t b = 0; b < s.batches; ++b) {
    for (int32_t oy = 0; oy < s.out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < s.out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        T* out_px = output + ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int32_t g = 0; g < s.groups; ++g) {
          for (int32_t f = 0; f < s.filters_per_group; ++f) {
            const int32_t oc = g * s.filters_per_group + f;
            const T* w_oc = filter + oc * filter_stride_oc;
            Acc acc = 0;
            for (int32_t ky = 0; ky < s.k_h; ++ky) {
              const int32_t iy = iy0 + ky * p.dilation_h;
              if (iy < 0 || iy >= s.in_h) continue;
              for (int32_t kx = 0; kx < s.k_w; ++kx) {
                const int32_t ix = ix0 + kx * p.dilation_w;
                if (ix < 0 || ix >= s.in_w) continue;
                const T* x = input + ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + g * s.group_c;
                const T* w = w_oc + (ky * s.k_w + kx) * s.group_c;
                for (int32_t c = 0; c < s.group_c; ++c)
                  acc = finish.accumulate(acc, x[c], w[c], input_offset);
              }
            }
            out_px[oc] = finish(acc, oc);
          }
        }
      }
    }
  }
}

}  // namespace

Status check_Conv2D(const Conv2DParams& p, const KernelIO& io) {
  DType type;
  const Status views = checks::check_windowed_views(io, &type);
  if (views != Status::ok) return views;
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  if (!checks::window_params_ok(p.stride_h, p.dilation_h, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, p.dilation_w, p.pad_left))
    return Status::bad_params;
  const int32_t in_c = in.dims[3], group_c = filter.dims[3], out_c = out.dims[3];
  if (out.dims[0] != in.dims[0] || filter.dims[0] != out_c) return Status::bad_shape;
  if (in_c % group_c != 0 || out_c % (in_c / group_c) != 0) return Status::bad_shape;
  if (!checks::window_fits(in.dims[1], filter.dims[1], p.stride_h, p.dilation_h, p.pad_top,
                           out.dims[1]) ||
      !checks::window_fits(in.dims[2], filter.dims[2], p.stride_w, p.dilation_w, p.pad_left,
                           out.dims[2]))
    return Status::bad_shape;
  return checks::check_channel_inputs(p, io, type, out_c);
}

void eval_Conv2D(const Conv2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    conv_loop<int8_t, int32_t>(p, io, p.input_offset, stage::int8_channels(p, io.in));
  } else {
    conv_loop<float, float>(p, io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
