// Reference ResizeNearestNeighbor and ResizeBilinear of an NHWC input to the output's height
// and width (batch and channels kept), as TFLite's reference kernels
// (tensorflow/lite/kernels/internal/reference/resize_nearest_neighbor.h and
// resize_bilinear.h):
// - scale = in / out along each axis, or (in - 1) / (out - 1) with align_corners and out > 1,
//   computed in float;
// - nearest: source index min(floor((i + offset) * scale), in - 1), offset 0.5 with
//   half_pixel_centers (then also max 0), or round half away from zero with align_corners;
//   elements are copied (int8 or int16 input and output share one quantization);
// - bilinear float: position p = i * scale, or (i + 0.5) * scale - 0.5 with
//   half_pixel_centers; i0 = max(floor(p), 0), i1 = min(ceil(p), in - 1); the four
//   neighbours weighted by (1 - (p - i0)) and (p - i0) per axis, summed in TFLite's order;
// - bilinear int8: the same in 10-bit fixed point: scale_10 = (1024 * in + out / 2) / out
//   (align_corners: (1024 * (in - 1) + (out - 1) / 2) / (out - 1)), p = i * scale_10 or
//   i * scale_10 + scale_10 / 2 - 512, i0 = max(p / 1024, 0), i1 = min((p + 1023) / 1024,
//   in - 1); the 20-bit weighted sum is rounded half away from zero by 2^20 (int64);
//   int16 (TFLite's 16x8 scheme: ResizeBilinearInteger<int16_t>, which TFLite's
//   resize_bilinear.cc runs; TFLite Micro has no int16 bilinear) the same on int16 values.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

Status check_resize(const ResizeParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (out.type != DType::f32 && out.type != DType::i8 && !image_int16(out.type))
    return Status::bad_enum;
  if (!view::is_valid(in, out.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (in.rank != 4 || out.rank != 4 || in.dims[0] != out.dims[0] || in.dims[3] != out.dims[3])
    return Status::bad_shape;
  for (int d = 0; d < 4; ++d)
    if (in.dims[d] < 1 || out.dims[d] < 1) return Status::bad_shape;
  // 1024 * in (+ out / 2) stays inside int32 and i * scale_10 too (scale_10 <= 1024 * in).
  for (int d = 1; d <= 2; ++d)
    if (in.dims[d] > 32767 || out.dims[d] > 32767) return Status::bad_shape;
  if ((p.align_corners != 0 && p.align_corners != 1) ||
      (p.half_pixel_centers != 0 && p.half_pixel_centers != 1) ||
      (p.align_corners && p.half_pixel_centers))
    return Status::bad_params;
  if (!view::same_quantization(in, out)) return Status::bad_params;
  return Status::ok;
}

float resize_scale(int32_t in, int32_t out, bool align_corners) {
  return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                  : static_cast<float>(in) / static_cast<float>(out);
}

int32_t nearest(int32_t i, int32_t in, int32_t out, const ResizeParams& p) {
  const float scale = resize_scale(in, out, p.align_corners);
  const float at = (static_cast<float>(i) + (p.half_pixel_centers ? 0.5f : 0.0f)) * scale;
  int32_t v = static_cast<int32_t>(p.align_corners ? std::round(at) : std::floor(at));
  if (v > in - 1) v = in - 1;
  if (p.half_pixel_centers && v < 0) v = 0;
  return v;
}

// One axis of the float interpolation: position and the two neighbours.
struct Axis {
  float at;
  int32_t lo, hi;
};
Axis float_axis(int32_t i, float scale, bool half_pixel_centers, int32_t in) {
  Axis a;
  a.at = half_pixel_centers ? (static_cast<float>(i) + 0.5f) * scale - 0.5f
                            : static_cast<float>(i) * scale;
  a.lo = static_cast<int32_t>(std::floor(a.at));
  if (a.lo < 0) a.lo = 0;
  if (a.lo > in - 1) a.lo = in - 1;  // not in TFLite: keeps every read inside the input
  a.hi = static_cast<int32_t>(std::ceil(a.at));
  if (a.hi > in - 1) a.hi = in - 1;
  return a;
}

// The same in 10-bit fixed point (int8).
struct FixedAxis {
  int32_t at, lo, hi;
};
int32_t scale_10(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}
FixedAxis fixed_axis(int32_t i, int32_t scale, bool half_pixel_centers, int32_t in) {
  FixedAxis a;
  a.at = half_pixel_centers ? i * scale + scale / 2 - (1 << 9) : i * scale;
  a.lo = a.at / (1 << 10);
  if (a.lo < 0) a.lo = 0;
  if (a.lo > in - 1) a.lo = in - 1;  // not in TFLite: keeps every read inside the input
  a.hi = (a.at + (1 << 10) - 1) / (1 << 10);
  if (a.hi > in - 1) a.hi = in - 1;
  return a;
}

// The integer bilinear (see top) on int8 or int16 values.
template <typename T>
void bilinear_integer(const ResizeParams& p, const TensorView& in, const TensorView& out) {
  const int32_t h = in.dims[1], w = in.dims[2], c = in.dims[3];
  auto index = [&](int32_t b, int32_t y, int32_t x, int32_t ch) {
    return ((static_cast<size_t>(b) * h + y) * w + x) * c + ch;
  };
  const int32_t sh = scale_10(h, out.dims[1], p.align_corners);
  const int32_t sw = scale_10(w, out.dims[2], p.align_corners);
  const T* src = in.as<const T>();
  T* dst = out.as<T>();
  for (int32_t b = 0; b < out.dims[0]; ++b)
    for (int32_t y = 0; y < out.dims[1]; ++y) {
      const FixedAxis ay = fixed_axis(y, sh, p.half_pixel_centers, h);
      const int64_t dy = ay.at - (1 << 10) * ay.lo;
      for (int32_t x = 0; x < out.dims[2]; ++x) {
        const FixedAxis ax = fixed_axis(x, sw, p.half_pixel_centers, w);
        const int64_t dx = ax.at - (1 << 10) * ax.lo;
        for (int32_t ch = 0; ch < c; ++ch) {
          const int64_t sum =
              src[index(b, ay.lo, ax.lo, ch)] * ((1 << 10) - dy) * ((1 << 10) - dx) +
              src[index(b, ay.hi, ax.lo, ch)] * dy * ((1 << 10) - dx) +
              src[index(b, ay.lo, ax.hi, ch)] * ((1 << 10) - dy) * dx +
              src[index(b, ay.hi, ax.hi, ch)] * dy * dx;
          const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
          *dst++ = static_cast<T>((sum + round) / (1 << 20));
        }
      }
    }
}

}  // namespace

Status check_ResizeNearestNeighbor(const ResizeParams& p, const KernelIO& io) {
  return check_resize(p, io);
}

void eval_ResizeNearestNeighbor(const ResizeParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const auto pixel = static_cast<size_t>(in.dims[3]) * dtype_size(in.type);
  const auto* src = static_cast<const uint8_t*>(in.data);
  auto* dst = static_cast<uint8_t*>(out.data);
  for (int32_t b = 0; b < out.dims[0]; ++b)
    for (int32_t y = 0; y < out.dims[1]; ++y) {
      const int32_t sy = nearest(y, in.dims[1], out.dims[1], p);
      for (int32_t x = 0; x < out.dims[2]; ++x) {
        const int32_t sx = nearest(x, in.dims[2], out.dims[2], p);
        const auto at = (static_cast<size_t>(b) * in.dims[1] + sy) * in.dims[2] + sx;
        std::memcpy(dst, src + at * pixel, pixel);
        dst += pixel;
      }
    }
}

Status check_ResizeBilinear(const ResizeParams& p, const KernelIO& io) {
  return check_resize(p, io);
}

void eval_ResizeBilinear(const ResizeParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const int32_t h = in.dims[1], w = in.dims[2], c = in.dims[3];
  auto index = [&](int32_t b, int32_t y, int32_t x, int32_t ch) {
    return ((static_cast<size_t>(b) * h + y) * w + x) * c + ch;
  };
  if (out.type == DType::f32) {
    const float sh = resize_scale(h, out.dims[1], p.align_corners);
    const float sw = resize_scale(w, out.dims[2], p.align_corners);
    const float* src = in.as<const float>();
    float* dst = out.as<float>();
    for (int32_t b = 0; b < out.dims[0]; ++b)
      for (int32_t y = 0; y < out.dims[1]; ++y) {
        const Axis ay = float_axis(y, sh, p.half_pixel_centers, h);
        const float dy = ay.at - static_cast<float>(ay.lo);
        for (int32_t x = 0; x < out.dims[2]; ++x) {
          const Axis ax = float_axis(x, sw, p.half_pixel_centers, w);
          const float dx = ax.at - static_cast<float>(ax.lo);
          for (int32_t ch = 0; ch < c; ++ch)
            *dst++ = src[index(b, ay.lo, ax.lo, ch)] * (1 - dy) * (1 - dx) +
                     src[index(b, ay.hi, ax.lo, ch)] * dy * (1 - dx) +
                     src[index(b, ay.lo, ax.hi, ch)] * (1 - dy) * dx +
                     src[index(b, ay.hi, ax.hi, ch)] * dy * dx;
        }
      }
    return;
  }
  if (image_int16(out.type))
    bilinear_integer<int16_t>(p, in, out);
  else
    bilinear_integer<int8_t>(p, in, out);
}

}  // namespace tinyforge
