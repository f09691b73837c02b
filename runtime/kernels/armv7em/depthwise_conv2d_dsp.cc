// DepthwiseConv2DDsp: int8 depthwise convolution, depth multiplier 1, 4 channels at a time.
//
// Per tap and group of 4 channels: one load of 4 input bytes, widened with the input
// offset added by SXTAB16 / SXTAB16 ROR #8 into the lanes (c0, c2) and (c1, c3), which
// meet the filter's pre-widened pairs (packed.h) in SMLABB / SMLATT: 4 MACs per 8
// instructions. Taps outside the input add 0, as skipping them does in the reference: the
// 3x3 kernel points them at a pixel of input zero points (whose offset value is 0), so
// every pixel runs the same unrolled code; other filters take a generic loop that skips
// them. A channel count that is not a multiple of 4 ends with a group read byte by byte.
//
// Bit-exact with the reference DepthwiseConv2D (same products, sums modulo 2^32, same
// output stage). In-place safety: each output row is computed into the scratch buffer and
// written back only once the next row has been computed (WriteOrder::row_after_next_row),
// so a 3x3 stride-1 layer can overwrite its own input.
#include <cstddef>

#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/armv7em/requantize.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using dsp_checks::ceil_div;

struct Geometry {
  int32_t batches, in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t taps;  // filter_h * filter_w
};

Geometry geometry(const DepthwiseConv2DDspParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  return {in.dims[0],
          in.dims[1],
          in.dims[2],
          in.dims[3],
          out.dims[1],
          out.dims[2],
          p.filter_h * p.filter_w};
}

// 4 input channels starting at `x`; the last group of a channel count that is not a
// multiple of 4 reads only `valid` bytes (the rest are 0 and meet 0 weights).
inline uint32_t load_group(const int8_t* x, int32_t valid) {
  if (valid >= 4) return dsp::load32(x);
  uint32_t v = 0;
  for (int32_t b = 0; b < valid; ++b)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(x[b])) << (8 * b);
  return v;
}

void copy_row(const int8_t* from, int8_t* to, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) dsp::store32(to + i, dsp::load32(from + i));
  for (; i < n; ++i) to[i] = from[i];
}

struct Acc4 {
  int32_t c0, c1, c2, c3;
};

// acc += widened(x) * (pairs w[0], w[1]) for one tap.
__attribute__((always_inline)) inline void mac_tap(Acc4& a, uint32_t x, const uint32_t* w,
                                                   uint32_t offset_pair) {
  const uint32_t even = dsp::sxtab16(offset_pair, x);      // (c0, c2)
  const uint32_t odd = dsp::sxtab16_ror8(offset_pair, x);  // (c1, c3)
  a.c0 = dsp::smlabb(even, w[0], a.c0);
  a.c2 = dsp::smlatt(even, w[0], a.c2);
  a.c1 = dsp::smlabb(odd, w[1], a.c1);
  a.c3 = dsp::smlatt(odd, w[1], a.c3);
}

template <RequantMode mode, bool full_range>
__attribute__((always_inline)) inline void store_group(const Acc4& a, const ChannelQuant* q,
                                                       const dsp::OutputClamp& clamp, int8_t* out,
                                                       int32_t valid) {
  out[0] = dsp::requantize<mode, full_range>(a.c0, q[0], clamp);
  if (valid < 2) return;
  out[1] = dsp::requantize<mode, full_range>(a.c1, q[1], clamp);
  if (valid < 3) return;
  out[2] = dsp::requantize<mode, full_range>(a.c2, q[2], clamp);
  if (valid < 4) return;
  out[3] = dsp::requantize<mode, full_range>(a.c3, q[3], clamp);
}

struct Op {
  const DepthwiseConv2DDspParams& p;
  Geometry g;
  const int8_t* input;
  const uint32_t* filter;  // [groups][taps][2]
  const ChannelQuant* q;
  int8_t* output;
  dsp::OutputClamp clamp;
  uint32_t offset_pair;
};

// One output pixel, any filter: taps [ky0, ky1) x [kx0, kx1) are inside the input.
template <RequantMode mode, bool full_range>
void pixel_generic(const Op& op, const int8_t* batch_in, int32_t iy0, int32_t ix0, int8_t* out) {
  const DepthwiseConv2DDspParams& p = op.p;
  const Geometry& g = op.g;
  const int32_t row = g.in_w * g.channels;
  for (int32_t c = 0; c < g.channels; c += 4) {
    const int32_t valid = g.channels - c;
    const uint32_t* w = op.filter + (c / 4) * g.taps * 2;
    const ChannelQuant* q = op.q + c;
    Acc4 a{q[0].bias, valid > 1 ? q[1].bias : 0, valid > 2 ? q[2].bias : 0,
           valid > 3 ? q[3].bias : 0};
    for (int32_t ky = 0; ky < p.filter_h; ++ky) {
      const int32_t iy = iy0 + ky * p.dilation_h;
      if (iy < 0 || iy >= g.in_h) continue;
      for (int32_t kx = 0; kx < p.filter_w; ++kx) {
        const int32_t ix = ix0 + kx * p.dilation_w;
        if (ix < 0 || ix >= g.in_w) continue;
        mac_tap(a, load_group(batch_in + iy * row + ix * g.channels + c, valid),
                w + 2 * (ky * p.filter_w + kx), op.offset_pair);
      }
    }
    store_group<mode, full_range>(a, q, op.clamp, out + c, valid);
  }
}

#if TINYFORGE_HAVE_DSP
// The 9 taps of an output pixel and what pixel_3x3_fast_full needs beside its registers.
struct TapJob {
  const int8_t* taps[9];     // 0..32
  int8_t* out;               // 36
  int32_t end;               // 40: bytes of whole groups (channels & ~3), > 0
  int32_t act_min, act_max;  // 44, 48: the clamp (clamped variant only)
};
static_assert(offsetof(TapJob, act_max) == 48, "offsets used by the assembly below");

#define TF_TAP(t)                   \
  "ldr r9, [r0, #" #t               \
  "]\n\t"                           \
  "ldr r9, [r9, r1]\n\t"            \
  "sxtab16 r10, r8, r9\n\t"         \
  "sxtab16 r11, r8, r9, ror #8\n\t" \
  "ldrd r12, lr, [r2], #8\n\t"      \
  "smlabb r4, r10, r12, r4\n\t"     \
  "smlatt r6, r10, r12, r6\n\t"     \
  "smlabb r5, r11, lr, r5\n\t"      \
  "smlatt r7, r11, lr, r7\n\t"
// Channel k of the group: RequantMode::fast into lr, CLAMP, store (r9 = output pixel).
#define TF_OUT(acc, k, CLAMP)   \
  "ldr r10, [r3, #" #k          \
  "*16+4]\n\t"                  \
  "ldrd r11, r12, [r3, #" #k    \
  "*16+8]\n\t"                  \
  "qadd lr, " acc ", " acc      \
  "\n\t"                        \
  "smmlar lr, lr, r10, r12\n\t" \
  "add lr, lr, " acc            \
  ", asr #31\n\t"               \
  "asr lr, lr, r11\n\t"         \
  "ssat lr, #8, lr\n\t" CLAMP "strb lr, [r9, #" #k "]\n\t"
// The activation clamp, bounds from the job (r10, r11 are free once the shift is done).
#define TF_DW_CLAMP              \
  "ldrd r10, r11, [r0, #44]\n\t" \
  "cmp lr, r10\n\t"              \
  "it lt\n\t"                    \
  "movlt lr, r10\n\t"            \
  "cmp lr, r11\n\t"              \
  "it gt\n\t"                    \
  "movgt lr, r11\n\t"
#define TF_DW_NO_CLAMP

// Whole groups of 4 channels of one 3x3 output pixel, RequantMode::fast, in hand-allocated
// registers: r0 job, r1 channel offset, r2 filter, r3 records, r4-r7 sums of channels
// c..c+3, r8 input offset pair, r9-r12 and lr temporaries.
#define TF_PIXEL_3X3(name, CLAMP)                                                                     \
  TINYFORGE_ASM_FUNCTION void name(TapJob* job, const uint32_t* filter, const ChannelQuant* q,        \
                                   uint32_t offset_pair) {                                            \
    register TapJob* j asm("r0") = job;                                                               \
    register const uint32_t* w asm("r2") = filter;                                                    \
    register const ChannelQuant* records asm("r3") = q;                                               \
    register uint32_t offsets asm("r8") = offset_pair;                                                \
    asm volatile(                                                                                   \
        "movs r1, #0\n\t"                                                                           \
        "1:\n\t"                                                                                    \
        "ldr r4, [r3]\n\t"                                                                          \
        "ldr r5, [r3, #16]\n\t"                                                                     \
        "ldr r6, [r3, #32]\n\t"                                                                     \
        "ldr r7, [r3, #48]\n\t" TF_TAP(0) TF_TAP(4) TF_TAP(8) TF_TAP(12) TF_TAP(16) TF_TAP(20)        \
            TF_TAP(24) TF_TAP(28) TF_TAP(32) "ldr r9, [r0, #36]\n\t" TF_OUT("r4", 0, CLAMP)          \
                TF_OUT("r5", 1, CLAMP) TF_OUT("r6", 2, CLAMP) TF_OUT("r7", 3, CLAMP)                 \
        "adds r9, r9, #4\n\t"                                                                       \
        "str r9, [r0, #36]\n\t"                                                                     \
        "adds r3, r3, #64\n\t"                                                                      \
        "adds r1, r1, #4\n\t"                                                                       \
        "ldr r9, [r0, #40]\n\t"                                                                     \
        "cmp r1, r9\n\t"                                                                            \
        "bne 1b"                                                                                    \
        : "+r"(w), "+r"(records)                                                                    \
        : "r"(j), "r"(offsets)                                                                      \
        : "r1", "r4", "r5", "r6", "r7", "r9", "r10", "r11", "r12", "lr", "cc", "memory"); \
  }
TF_PIXEL_3X3(pixel_3x3_fast_full, TF_DW_NO_CLAMP)
TF_PIXEL_3X3(pixel_3x3_fast_clamped, TF_DW_CLAMP)
#undef TF_PIXEL_3X3
#undef TF_DW_CLAMP
#undef TF_DW_NO_CLAMP
#undef TF_TAP
#undef TF_OUT
#endif

#if !TINYFORGE_HAVE_DSP
struct TapJob {
  const int8_t* taps[9];
  int8_t* out;
  int32_t end;
  int32_t act_min, act_max;
};
#endif

// One output pixel of a 3x3 filter (dilation 1). job.taps[t] is the first channel of tap
// t (ky * 3 + kx), or the zero-point pixel for a tap outside the input: its value plus the
// input offset is 0, exactly what skipping the tap adds.
template <RequantMode mode, bool full_range>
void pixel_3x3(const Op& op, TapJob& job) {
  const int32_t channels = op.g.channels;
  const uint32_t* w = op.filter;
  const ChannelQuant* q = op.q;
  int8_t* const out = job.out;
  const int8_t* const* taps = job.taps;
  int32_t c = 0;
#if TINYFORGE_HAVE_DSP
  if (mode == RequantMode::fast && channels >= 4) {
    job.end = channels & ~3;
    job.act_min = op.clamp.act_min;
    job.act_max = op.clamp.act_max;
    if (dsp::is_full_range(op.clamp.act_min, op.clamp.act_max))
      pixel_3x3_fast_full(&job, w, q, op.offset_pair);
    else
      pixel_3x3_fast_clamped(&job, w, q, op.offset_pair);
    c = channels & ~3;
    w += 18 * (c / 4);
    q += c;
  }
#endif
  for (; c < channels; c += 4, w += 18, q += 4) {
    const int32_t valid = channels - c;
    Acc4 a;
    if (valid >= 4) {
      a = {q[0].bias, q[1].bias, q[2].bias, q[3].bias};
      for (int32_t t = 0; t < 9; ++t)
        mac_tap(a, dsp::load32(taps[t] + c), w + 2 * t, op.offset_pair);
    } else {
      a = {q[0].bias, valid > 1 ? q[1].bias : 0, valid > 2 ? q[2].bias : 0, 0};
      for (int32_t t = 0; t < 9; ++t)
        mac_tap(a, load_group(taps[t] + c, valid), w + 2 * t, op.offset_pair);
    }
    store_group<mode, full_range>(a, q, op.clamp, out + c, valid);
  }
}

template <RequantMode mode, bool full_range>
void run(const Op& op, int8_t* rows, const int8_t* zero_pixel) {
  const DepthwiseConv2DDspParams& p = op.p;
  const Geometry& g = op.g;
  const bool k3x3 = p.kernel == static_cast<int32_t>(DepthwiseDspKernel::k3x3);
  const int32_t out_row = g.out_w * g.channels;
  const int32_t in_row = g.in_w * g.channels;
  int8_t* out = op.output;
  int32_t written = 0;  // a computed row waits in `rows` until the next one is computed
  for (int32_t b = 0; b < g.batches; ++b) {
    const int8_t* batch_in = op.input + b * g.in_h * in_row;
    for (int32_t oy = 0; oy < g.out_h; ++oy) {
      const int32_t r = b * g.out_h + oy;
      int8_t* px = rows + (r & 1) * out_row;
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      const int8_t* row_of[3];
      for (int32_t ky = 0; ky < 3; ++ky) {
        const int32_t iy = iy0 + ky;
        row_of[ky] = iy >= 0 && iy < g.in_h ? batch_in + iy * in_row : nullptr;
      }
      const bool rows_inside = row_of[0] && row_of[2];
      for (int32_t ox = 0; ox < g.out_w; ++ox, px += g.channels) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        if (!k3x3) {
          pixel_generic<mode, full_range>(op, batch_in, iy0, ix0, px);
          continue;
        }
        TapJob job;
        job.out = px;
        if (rows_inside && ix0 >= 0 && ix0 + 3 <= g.in_w) {  // interior: no zero pixel
          const int8_t* t = row_of[0] + ix0 * g.channels;
          for (int32_t ky = 0; ky < 3; ++ky, t += in_row) {
            job.taps[3 * ky] = t;
            job.taps[3 * ky + 1] = t + g.channels;
            job.taps[3 * ky + 2] = t + 2 * g.channels;
          }
        } else {
          for (int32_t kx = 0; kx < 3; ++kx) {
            const int32_t ix = ix0 + kx;
            const bool col = ix >= 0 && ix < g.in_w;
            for (int32_t ky = 0; ky < 3; ++ky)
              job.taps[ky * 3 + kx] = col && row_of[ky] ? row_of[ky] + ix * g.channels : zero_pixel;
          }
        }
        pixel_3x3<mode, full_range>(op, job);
      }
      if (r > 0) {
        copy_row(rows + ((r + 1) & 1) * out_row, out, out_row);
        out += out_row;
      }
      ++written;
    }
  }
  if (written > 0) copy_row(rows + ((written + 1) & 1) * out_row, out, out_row);
}

}  // namespace

Status check_DepthwiseConv2DDsp(const DepthwiseConv2DDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!dsp_checks::is_int8_activation(in, 4) || !dsp_checks::is_int8_activation(out, 4))
    return Status::bad_shape;
  if (p.filter_h < 1 || p.filter_w < 1 ||
      !checks::window_params_ok(p.stride_h, p.dilation_h, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, p.dilation_w, p.pad_left))
    return Status::bad_params;
  if (p.kernel == static_cast<int32_t>(DepthwiseDspKernel::k3x3)) {
    if (p.filter_h != 3 || p.filter_w != 3 || p.dilation_h != 1 || p.dilation_w != 1)
      return Status::bad_params;
  } else if (p.kernel != static_cast<int32_t>(DepthwiseDspKernel::generic)) {
    return Status::bad_params;
  }
  const int32_t channels = in.dims[3];
  if (out.dims[0] != in.dims[0] || out.dims[3] != channels ||
      !checks::window_fits(in.dims[1], p.filter_h, p.stride_h, p.dilation_h, p.pad_top,
                           out.dims[1]) ||
      !checks::window_fits(in.dims[2], p.filter_w, p.stride_w, p.dilation_w, p.pad_left,
                           out.dims[2]))
    return Status::bad_shape;
  const int64_t taps = int64_t{p.filter_h} * p.filter_w;
  if (taps > checks::kMaxExtent) return Status::bad_shape;
  if (!dsp_checks::is_words(io.in[1], ceil_div(channels, 4), 2 * taps) ||
      !dsp_checks::is_channel_records(io.in[2], channels))
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, p.input_offset, p.output_offset, p.act_min, p.act_max))
    return Status::bad_params;
  if (io.scratch_size < depthwise_conv2d_dsp_scratch_bytes(out.dims[2], channels))
    return Status::bad_params;
  return Status::ok;
}

uint32_t depthwise_conv2d_dsp_scratch_bytes(int32_t out_w, int32_t channels) {
  const int64_t bytes =
      2 * int64_t{out_w} * channels + channels;  // two rows + the zero-point pixel
  return bytes > INT32_MAX ? UINT32_MAX : static_cast<uint32_t>(bytes);
}

void eval_DepthwiseConv2DDsp(const DepthwiseConv2DDspParams& p, const KernelIO& io) {
  const Op op{p,
              geometry(p, io),
              io.in[0].as<const int8_t>(),
              io.in[1].as<const uint32_t>(),
              io.in[2].as<const ChannelQuant>(),
              io.out[0].as<int8_t>(),
              {p.output_offset, p.act_min, p.act_max},
              dsp::pair(p.input_offset, p.input_offset)};
  int8_t* rows = reinterpret_cast<int8_t*>(io.scratch);
  int8_t* zero_pixel = rows + 2 * op.g.out_w * op.g.channels;
  for (int32_t c = 0; c < op.g.channels; ++c) zero_pixel[c] = static_cast<int8_t>(-p.input_offset);
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    run<decltype(mode)::value, decltype(full_range)::value>(op, rows, zero_pixel);
  });
}

}  // namespace tinyforge
