// The loops of the conv-family reference kernels (Conv2D, DepthwiseConv2D, FullyConnected),
// shared by their int8/float kernels and their 16x8 twins: activations of type T, weights of
// type W, accumulator Acc; `finish` (output_stage.h) multiplies-accumulates and turns an
// accumulator into an output element. Loop order and skipped taps as TFLite's reference
// kernels (see each kernel's file). Header-only templates: each kernel file instantiates
// only its own types, so an image links only the forms its ops use.
#pragma once
#include <cstdint>

#include "kernels/reference/conv_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge::loops {

struct ConvShape {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, group_c;  // group_c = filter's last dim = input channels per group
  int32_t groups, filters_per_group;
};

inline ConvShape conv_shape(const KernelIO& io) {
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

template <typename T, typename W, typename Acc, typename Finish>
void conv_loop(const Conv2DParams& p, const KernelIO& io, int32_t input_offset, Finish finish) {
  const ConvShape s = conv_shape(io);
  const T* input = io.in[0].as<const T>();
  const W* filter = io.in[1].as<const W>();
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
            const W* w_oc = filter + oc * filter_stride_oc;
            Acc acc = 0;
            for (int32_t ky = 0; ky < s.k_h; ++ky) {
              const int32_t iy = iy0 + ky * p.dilation_h;
              if (iy < 0 || iy >= s.in_h) continue;
              for (int32_t kx = 0; kx < s.k_w; ++kx) {
                const int32_t ix = ix0 + kx * p.dilation_w;
                if (ix < 0 || ix >= s.in_w) continue;
                const T* x = input + ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + g * s.group_c;
                const W* w = w_oc + (ky * s.k_w + kx) * s.group_c;
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

struct DepthwiseShape {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, multiplier;
};

inline DepthwiseShape depthwise_shape(const DepthwiseConv2DParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  return {in.dims[0],  in.dims[1],  in.dims[2],     in.dims[3],     out.dims[1],
          out.dims[2], out.dims[3], filter.dims[1], filter.dims[2], p.depth_multiplier};
}

template <typename T, typename W, typename Acc, typename Finish>
void depthwise_loop(const DepthwiseConv2DParams& p, const KernelIO& io, int32_t input_offset,
                    Finish finish) {
  const DepthwiseShape s = depthwise_shape(p, io);
  const T* input = io.in[0].as<const T>();
  const W* filter = io.in[1].as<const W>();
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
                const W w = filter[(ky * s.k_w + kx) * s.out_c + oc];
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

struct FcShape {
  int32_t rows, depth, units;  // depth = IN, units = OUT
};

inline FcShape fc_shape(const KernelIO& io) {
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  const int32_t units = filter.dims[0];
  return {static_cast<int32_t>(view::element_count(out) / units), filter.dims[1], units};
}

template <typename T, typename W, typename Acc, typename Finish>
void fc_loop(const KernelIO& io, int32_t input_offset, Finish finish) {
  const FcShape s = fc_shape(io);
  const T* input = io.in[0].as<const T>();
  const W* filter = io.in[1].as<const W>();
  T* output = io.out[0].as<T>();
  for (int32_t r = 0; r < s.rows; ++r) {
    const T* x = input + r * s.depth;
    for (int32_t o = 0; o < s.units; ++o) {
      const W* w = filter + o * s.depth;
      Acc acc = 0;
      for (int32_t i = 0; i < s.depth; ++i) acc = finish.accumulate(acc, x[i], w[i], input_offset);
      output[r * s.units + o] = finish(acc, o);
    }
  }
}

// The geometry of each op (window parameters and how the input, filter and output shapes
// fit), for its check_ once the views' dtypes are known: the same for every dtype.
inline Status check_conv_geometry(const Conv2DParams& p, const KernelIO& io) {
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
  return Status::ok;
}

inline Status check_depthwise_geometry(const DepthwiseConv2DParams& p, const KernelIO& io) {
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
  return Status::ok;
}

inline Status check_fc_geometry(const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  if (in.rank < 1 || out.rank < 1 || !checks::has_positive_dims(filter, 2) ||
      !checks::has_positive_dims(in, in.rank) || !checks::has_positive_dims(out, out.rank))
    return Status::bad_shape;
  const int32_t units = filter.dims[0];
  const int32_t depth = filter.dims[1];
  if (out.dims[out.rank - 1] != units) return Status::bad_shape;
  const int64_t rows = view::element_count(out) / units;
  if (view::element_count(in) != rows * depth) return Status::bad_shape;
  return Status::ok;
}

}  // namespace tinyforge::loops
