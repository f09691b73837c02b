// AveragePool2DDsp: int8 average pooling, 4 channels at a time.
//
// Window sums are accumulated in 16-bit lanes by SXTAB16 (3 instructions per 4 input
// bytes instead of a load and an add per byte) when the window holds at most 256 taps, so
// no lane can overflow (256 * 128 = 2^15); larger windows sum in 32 bits. Each sum is then
// divided exactly as the reference does ((sum +- count/2) / count, truncating), so the
// result is bit-exact with the reference AveragePool2D.
// In-place safety: an output pixel is written after its whole window was read, in raster
// order.
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/reference/fixed_point.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

inline int32_t max_i(int32_t a, int32_t b) { return a > b ? a : b; }
inline int32_t min_i(int32_t a, int32_t b) { return a < b ? a : b; }

inline uint32_t load_group(const int8_t* x, int32_t valid) {
  if (valid >= 4) return dsp::load32(x);
  uint32_t v = 0;
  for (int32_t b = 0; b < valid; ++b)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(x[b])) << (8 * b);
  return v;
}

// TFLite's rounding average of an int8 window sum, clamped.
inline int8_t average(int32_t sum, int32_t count, const Pool2DParams& p) {
  const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  return static_cast<int8_t>(fixed::clamp(avg, p.act_min, p.act_max));
}

// Sums of channels c..c+3 over the window rows [y0, y1) x cols [x0, x1).
void window_sums(const int8_t* base, int32_t row, int32_t step, int32_t y0, int32_t y1, int32_t x0,
                 int32_t x1, int32_t valid, bool narrow, int32_t sums[4]) {
  if (narrow) {
    uint32_t even = 0, odd = 0;  // lanes (c0, c2) and (c1, c3)
    for (int32_t y = y0; y < y1; ++y) {
      const int8_t* x = base + y * row + x0 * step;
      for (int32_t n = x1 - x0; n > 0; --n, x += step) {
        const uint32_t v = load_group(x, valid);
        even = dsp::sxtab16(even, v);
        odd = dsp::sxtab16_ror8(odd, v);
      }
    }
    sums[0] = dsp::lane0(even);
    sums[1] = dsp::lane0(odd);
    sums[2] = dsp::lane1(even);
    sums[3] = dsp::lane1(odd);
    return;
  }
  sums[0] = sums[1] = sums[2] = sums[3] = 0;
  for (int32_t y = y0; y < y1; ++y)
    for (int32_t xx = x0; xx < x1; ++xx)
      for (int32_t c = 0; c < valid && c < 4; ++c)
        sums[c] = dsp::wrap_add(sums[c], base[y * row + xx * step + c]);
}

}  // namespace

Status check_AveragePool2DDsp(const Pool2DParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!dsp_checks::is_int8_activation(in, 4) || !dsp_checks::is_int8_activation(out, 4))
    return Status::bad_shape;
  if (p.filter_h < 1 || p.filter_w < 1 || !checks::window_params_ok(p.stride_h, 1, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, 1, p.pad_left))
    return Status::bad_params;
  if (out.dims[0] != in.dims[0] || out.dims[3] != in.dims[3]) return Status::bad_shape;
  if (!checks::window_fits(in.dims[1], p.filter_h, p.stride_h, 1, p.pad_top, out.dims[1]) ||
      !checks::window_fits(in.dims[2], p.filter_w, p.stride_w, 1, p.pad_left, out.dims[2]))
    return Status::bad_shape;
  if (!stage::int8_stage_ok(0, 0, p.act_min, p.act_max)) return Status::bad_params;
  return Status::ok;
}

void eval_AveragePool2DDsp(const Pool2DParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const int32_t batches = in.dims[0], in_h = in.dims[1], in_w = in.dims[2], channels = in.dims[3];
  const int32_t out_h = out.dims[1], out_w = out.dims[2];
  const int8_t* input = in.as<const int8_t>();
  int8_t* output = out.as<int8_t>();
  const int32_t row = in_w * channels;
  for (int32_t b = 0; b < batches; ++b, input += in_h * row) {
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      const int32_t y0 = max_i(iy0, 0), y1 = min_i(iy0 + p.filter_h, in_h);
      for (int32_t ox = 0; ox < out_w; ++ox, output += channels) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        const int32_t x0 = max_i(ix0, 0), x1 = min_i(ix0 + p.filter_w, in_w);
        const int32_t count = (y1 - y0) * (x1 - x0);  // >= 1 (check_: window_fits)
        for (int32_t c = 0; c < channels; c += 4) {
          const int32_t valid = channels - c;
          int32_t sums[4];
          window_sums(input + c, row, channels, y0, y1, x0, x1, valid, count <= 256, sums);
          for (int32_t k = 0; k < 4 && k < valid; ++k) output[c + k] = average(sums[k], count, p);
        }
      }
    }
  }
}

}  // namespace tinyforge
