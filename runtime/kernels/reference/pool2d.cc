// AveragePool2D and MaxPool2D reference kernels, NHWC, input and output with the same
// quantization. The window is clipped to the input: padded positions are not part of it
// (an average divides by the number of real taps). int8 follows TFLite's
// reference_integer_ops::AveragePool / MaxPool and float32 reference_ops::AveragePool /
// MaxPool (tensorflow/lite/kernels/internal/reference/{integer_ops/,}pooling.h):
// the int8 average rounds half away from zero, (acc +- count/2) / count, then clamps.
// Both also take int16 (TFLite's 16x8 scheme: reference_integer_ops::AveragePool and
// MaxPool for int16_t, the same int32 sum, rounding, comparison and clamp on int16 values).
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/output_stage.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// The input rectangle [y0, y1) x [x0, x1) one output position reads.
struct Window {
  int32_t y0, y1, x0, x1;
};

inline int32_t max_i(int32_t a, int32_t b) { return a > b ? a : b; }
inline int32_t min_i(int32_t a, int32_t b) { return a < b ? a : b; }

// Calls reduce(first_element_of_window_in_channel_0, window, out_px) for every output
// position; channel c of a tap at (y, x) sits at in[(y * W + x) * C + c] of the batch.
template <typename T, typename Reduce>
void pool_loop(const Pool2DParams& p, const KernelIO& io, Reduce reduce) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const int32_t batches = in.dims[0], in_h = in.dims[1], in_w = in.dims[2], c = in.dims[3];
  const int32_t out_h = out.dims[1], out_w = out.dims[2];
  const T* input = in.as<const T>();
  T* output = out.as<T>();
  for (int32_t b = 0; b < batches; ++b) {
    const T* in_batch = input + b * in_h * in_w * c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      for (int32_t ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        const Window w{max_i(iy0, 0), min_i(iy0 + p.filter_h, in_h), max_i(ix0, 0),
                       min_i(ix0 + p.filter_w, in_w)};
        reduce(in_batch, in_w, c, w, output + ((b * out_h + oy) * out_w + ox) * c);
      }
    }
  }
}

// Most taps of an int16 average window: the int32 sum of 65,535 int16 values, and it plus
// or minus half the count, stay inside int32.
constexpr int32_t kMaxInt16AverageTaps = 65535;

Status check_pool(const Pool2DParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const DType t = in.type;
  if (t != DType::i8 && t != DType::f32 && !image_int16(t)) return Status::bad_params;
  if (!view::is_valid(in, t) || !view::is_valid(out, t)) return Status::bad_params;
  if (!checks::has_positive_dims(in, 4) || !checks::has_positive_dims(out, 4))
    return Status::bad_shape;
  if (p.filter_h < 1 || p.filter_w < 1 || !checks::window_params_ok(p.stride_h, 1, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, 1, p.pad_left))
    return Status::bad_params;
  if (out.dims[0] != in.dims[0] || out.dims[3] != in.dims[3]) return Status::bad_shape;
  // window_fits also guarantees every window holds at least one real tap.
  if (!checks::window_fits(in.dims[1], p.filter_h, p.stride_h, 1, p.pad_top, out.dims[1]) ||
      !checks::window_fits(in.dims[2], p.filter_w, p.stride_w, 1, p.pad_left, out.dims[2]))
    return Status::bad_shape;
  if (image_int16(t))
    return stage::int16_range_ok(p.act_min, p.act_max) ? Status::ok : Status::bad_params;
  if (t == DType::i8 ? !stage::int8_stage_ok(0, 0, p.act_min, p.act_max)
                     : !stage::float_stage_ok(p.f_act_min, p.f_act_max))
    return Status::bad_params;
  return Status::ok;
}

// Integer average pool: the window's sum divided by its taps, rounding half away from zero,
// clamped to [act_min, act_max].
template <typename T>
void average_pool_integer(const Pool2DParams& p, const KernelIO& io) {
  pool_loop<T>(p, io, [&](const T* in, int32_t in_w, int32_t c, const Window& w, T* out) {
    const int32_t count = (w.y1 - w.y0) * (w.x1 - w.x0);
    for (int32_t ch = 0; ch < c; ++ch) {
      int32_t acc = 0;
      for (int32_t y = w.y0; y < w.y1; ++y)
        for (int32_t x = w.x0; x < w.x1; ++x) acc += in[(y * in_w + x) * c + ch];
      // One division per output element: TFLite's rounding needs the exact quotient.
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      out[ch] = static_cast<T>(fixed::clamp(acc, p.act_min, p.act_max));
    }
  });
}

// Integer max pool: the window's largest stored value, clamped to [act_min, act_max].
template <typename T>
void max_pool_integer(const Pool2DParams& p, const KernelIO& io, int32_t lowest) {
  pool_loop<T>(p, io, [&](const T* in, int32_t in_w, int32_t c, const Window& w, T* out) {
    for (int32_t ch = 0; ch < c; ++ch) {
      int32_t best = lowest;
      for (int32_t y = w.y0; y < w.y1; ++y)
        for (int32_t x = w.x0; x < w.x1; ++x) best = max_i(best, in[(y * in_w + x) * c + ch]);
      out[ch] = static_cast<T>(fixed::clamp(best, p.act_min, p.act_max));
    }
  });
}

}  // namespace

Status check_AveragePool2D(const Pool2DParams& p, const KernelIO& io) {
  if (const Status s = check_pool(p, io); s != Status::ok) return s;
  if (image_int16(io.in[0].type) && int32_t{p.filter_h} * p.filter_w > kMaxInt16AverageTaps)
    return Status::bad_params;
  return Status::ok;
}
Status check_MaxPool2D(const Pool2DParams& p, const KernelIO& io) { return check_pool(p, io); }

void eval_AveragePool2D(const Pool2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    average_pool_integer<int8_t>(p, io);
  } else if (image_int16(io.in[0].type)) {
    average_pool_integer<int16_t>(p, io);
  } else {
    pool_loop<float>(p, io,
                     [&](const float* in, int32_t in_w, int32_t c, const Window& w, float* out) {
                       const float count = static_cast<float>((w.y1 - w.y0) * (w.x1 - w.x0));
                       for (int32_t ch = 0; ch < c; ++ch) {
                         float total = 0.0f;
                         for (int32_t y = w.y0; y < w.y1; ++y)
                           for (int32_t x = w.x0; x < w.x1; ++x)
                             total += in[(y * in_w + x) * c + ch];
                         out[ch] = stage::clamp_float(total / count, p.f_act_min, p.f_act_max);
                       }
                     });
  }
}

void eval_MaxPool2D(const Pool2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    max_pool_integer<int8_t>(p, io, INT8_MIN);
  } else if (image_int16(io.in[0].type)) {
    max_pool_integer<int16_t>(p, io, INT16_MIN);
  } else {
    pool_loop<float>(p, io,
                     [&](const float* in, int32_t in_w, int32_t c, const Window& w, float* out) {
                       for (int32_t ch = 0; ch < c; ++ch) {
                         float best = -3.40282347e+38f;  // lowest finite float, as TFLite starts
                         for (int32_t y = w.y0; y < w.y1; ++y)
                           for (int32_t x = w.x0; x < w.x1; ++x) {
                             const float v = in[(y * in_w + x) * c + ch];
                             best = best < v ? v : best;  // std::max(best, v)
                           }
                         out[ch] = stage::clamp_float(best, p.f_act_min, p.f_act_max);
                       }
                     });
  }
}

}  // namespace tinyforge
