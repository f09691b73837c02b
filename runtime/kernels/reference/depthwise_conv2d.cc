// DepthwiseConv2D reference kernel, NHWC, filter [1, KH, KW, IC * depth_multiplier]:
// output channel ic * M + m convolves input channel ic with filter channel ic * M + m.
// int8 follows TFLite's reference_integer_ops::DepthwiseConvPerChannel and float32
// reference_ops::DepthwiseConv (tensorflow/lite/kernels/internal/reference/
// integer_ops/depthwise_conv.h, depthwiseconv_float.h): same accumulation order, taps
// outside the input skipped.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

struct DepthwiseShape {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, multiplier;
};

DepthwiseShape depthwise_shape(const DepthwiseConv2DParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  return {in.dims[0],  in.dims[1],  in.dims[2],     in.dims[3],     out.dims[1],
          out.dims[2], out.dims[3], filter.dims[1], filter.dims[2], p.depth_multiplier};
}

template <typename T, typename Acc, typename Finish>
void depthwise_loop(const DepthwiseConv2DParams& p, const KernelIO& io, int32_t input_offset,
                    Finish finish) {
  const DepthwiseShape s = depthwise_shape(p, io);
  const T* input = io.in[0].as<const T>();
  const T* filter = io.in[1].as<const T>();
  T* output = io.out[0].as<T>();
  for (int32_t b = 0; b < s.batches; ++b) {
    for (int32_t oy = 0; oy < s.out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < s.out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        T* out_px = output + ((b * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int32_t ic = 0; ic < s.in_c; ++ic) {
          for (int32_t m = 0; m < s.multiplier; ++m) {
            const int32_t oc = ic * s.multiplier + m;
            Acc acc = 0;
            for (int32_t ky = 0; ky < s.k_h; ++ky) {
              const int32_t iy = iy0 + ky * p.dilation_h;
              if (iy < 0 || iy >= s.in_h) continue;
              for (int32_t kx = 0; kx < s.k_w; ++kx) {
                const int32_t ix = ix0 + kx * p.dilation_w;
                if (ix < 0 || ix >= s.in_w) continue;
                const T x = input[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic];
                const T w = filter[(ky * s.k_w + kx) * s.out_c + oc];
                acc = finish.accumulate(acc, x, w, input_offset);
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

Status check_DepthwiseConv2D(const DepthwiseConv2DParams& p, const KernelIO& io) {
  DType type;
  const Status views = checks::check_windowed_views(io, &type);
  if (views != Status::ok) return views;
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  if (p.depth_multiplier < 1 || !checks::window_params_ok(p.stride_h, p.dilation_h, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, p.dilation_w, p.pad_left))
    return Status::bad_params;
  const DepthwiseShape s = depthwise_shape(p, io);
  if (out.dims[0] != s.batches || filter.dims[0] != 1 || filter.dims[3] != s.out_c)
    return Status::bad_shape;
  if (int64_t{s.in_c} * s.multiplier != s.out_c) return Status::bad_shape;
  if (!checks::window_fits(s.in_h, s.k_h, p.stride_h, p.dilation_h, p.pad_top, s.out_h) ||
      !checks::window_fits(s.in_w, s.k_w, p.stride_w, p.dilation_w, p.pad_left, s.out_w))
    return Status::bad_shape;
  return checks::check_channel_inputs(p, io, type, s.out_c);
}

void eval_DepthwiseConv2D(const DepthwiseConv2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    depthwise_loop<int8_t, int32_t>(p, io, p.input_offset, stage::int8_channels(p, io.in));
  } else {
    depthwise_loop<float, float>(p, io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
