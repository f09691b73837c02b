// Conv2DDsp: int8 convolution (groups 1) as a GEMM over output pixels with SMLAD.
//
// For each pair of output pixels the kernel widens both pixels' patches once into the
// scratch buffer as int16 pairs with the input offset added (SXTAB16; padding taps become
// 0, which is what skipping them does in the reference), then runs every pair of output
// channels over them with the dual-channel filter words of tinyforge/packed.h: per group of
// 4 patch elements 3 loads, 2 extends and 8 SMLADs for 16 MACs.
// The pointwise kernel reads the pixels in place (a 1x1 patch is the pixel itself); the
// im2col kernel gathers windows (through an int8 staging patch when IC % 4 != 0, so groups
// may straddle taps).
//
// Bit-exact with the reference Conv2D: the same products summed modulo 2^32 (order does
// not matter), then the same output stage (requantize.h).
// In-place safety: both pixels' inputs are read before either pixel's outputs are written.
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/armv7em/requantize.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using dsp_checks::ceil_div;

struct Geometry {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t patch;   // K = filter_h * filter_w * in_c
  int32_t groups;  // ceil(K / 4)
};

Geometry geometry(const Conv2DDspParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  Geometry g;
  g.batches = in.dims[0];
  g.in_h = in.dims[1];
  g.in_w = in.dims[2];
  g.in_c = in.dims[3];
  g.out_h = out.dims[1];
  g.out_w = out.dims[2];
  g.out_c = out.dims[3];
  g.patch = p.filter_h * p.filter_w * g.in_c;
  g.groups = ceil_div(g.patch, 4);
  return g;
}

bool needs_staging(const Conv2DDspParams& p, int32_t in_c) {
  return p.kernel == static_cast<int32_t>(ConvDspKernel::im2col) && in_c % 4 != 0;
}

// The two patch slots interleave per group: words 4g, 4g+1 hold pixel 0's even and odd
// lanes, 4g+2, 4g+3 pixel 1's.
inline void widen_group(uint32_t* slot, uint32_t x, uint32_t offset_pair) {
  slot[0] = dsp::sxtab16(offset_pair, x);
  slot[1] = dsp::sxtab16_ror8(offset_pair, x);
}

// Widens n int8 elements into consecutive groups of a slot (`dst` at the slot's first
// word of the first group); a partial last group is completed with zero bytes, which meet
// zero filter entries.
void widen_run(const int8_t* src, int32_t n, uint32_t offset_pair, uint32_t* dst) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4, dst += 4) widen_group(dst, dsp::load32(src + i), offset_pair);
  if (i < n) {
    uint32_t x = 0;
    for (int32_t b = 0; i + b < n; ++b) x |= static_cast<uint32_t>(static_cast<uint8_t>(src[i + b])) << (8 * b);
    widen_group(dst, x, offset_pair);
  }
}

// Where output pixel `index` (batch-major raster order) reads its window.
struct PixelOrigin {
  int32_t batch, iy0, ix0;
};

PixelOrigin origin(const Conv2DDspParams& p, const Geometry& g, int32_t index) {
  const int32_t per_batch = g.out_h * g.out_w;
  const int32_t b = index / per_batch;
  const int32_t r = index - b * per_batch;
  const int32_t oy = r / g.out_w;
  const int32_t ox = r - oy * g.out_w;
  return {b, oy * p.stride_h - p.pad_top, ox * p.stride_w - p.pad_left};
}

// Fills slot `slot` with the widened patch of output pixel `index`.
void load_patch(const Conv2DDspParams& p, const Geometry& g, const int8_t* input, int32_t index,
                int slot, uint32_t* patches, int8_t* staging) {
  const uint32_t offset_pair = dsp::pair(p.input_offset, p.input_offset);
  uint32_t* dst = patches + 2 * slot;
  if (p.kernel == static_cast<int32_t>(ConvDspKernel::pointwise)) {
    widen_run(input + index * g.in_c, g.in_c, offset_pair, dst);
    return;
  }
  const PixelOrigin o = origin(p, g, index);
  const int8_t* batch = input + o.batch * g.in_h * g.in_w * g.in_c;
  if (staging == nullptr) {  // in_c % 4 == 0: taps are whole groups
    const int32_t tap_groups = g.in_c / 4;
    for (int32_t ky = 0; ky < p.filter_h; ++ky) {
      const int32_t iy = o.iy0 + ky * p.dilation_h;
      for (int32_t kx = 0; kx < p.filter_w; ++kx, dst += 4 * tap_groups) {
        const int32_t ix = o.ix0 + kx * p.dilation_w;
        if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
          for (int32_t t = 0; t < tap_groups; ++t) dst[4 * t] = dst[4 * t + 1] = 0;
        } else {
          widen_run(batch + (iy * g.in_w + ix) * g.in_c, g.in_c, offset_pair, dst);
        }
      }
    }
    return;
  }
  // Gather the int8 patch (padding = the input zero point, i.e. 0 after the offset).
  const int8_t zero_point = static_cast<int8_t>(-p.input_offset);
  int8_t* s = staging;
  for (int32_t ky = 0; ky < p.filter_h; ++ky) {
    const int32_t iy = o.iy0 + ky * p.dilation_h;
    for (int32_t kx = 0; kx < p.filter_w; ++kx, s += g.in_c) {
      const int32_t ix = o.ix0 + kx * p.dilation_w;
      if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
        for (int32_t c = 0; c < g.in_c; ++c) s[c] = zero_point;
      } else {
        const int8_t* src = batch + (iy * g.in_w + ix) * g.in_c;
        for (int32_t c = 0; c < g.in_c; ++c) s[c] = src[c];
      }
    }
  }
  widen_run(staging, g.patch, offset_pair, dst);
}

// One run of at most kDualChunkGroups groups for 2 pixels and a channel pair (A, B):
// s0, s1 += pixel . A; t0, t1 += pixel . A + 256 * pixel . B (packed.h). `x`, `w`
// word-aligned, advanced past the run; groups >= 1. Per group: 3 loads, 2 extends and 8
// SMLADs for 16 MACs.
inline void dual_run_2px(const uint32_t*& x, const uint32_t*& w, int32_t groups, int32_t& s0, int32_t& t0,
                         int32_t& s1, int32_t& t1) {
#if TINYFORGE_HAVE_DSP
  // Hand-scheduled (the compiler's version spends 4 more instructions per group on
  // addressing). 13 registers: 4 accumulators, 3 pointers, 6 temporaries.
  const uint32_t* const w_end = w + 2 * groups;
  uint32_t wa, wb, ea, eb, xe, xo;
  asm volatile(
      "1:\n\t"
      "ldrd %[wa], %[wb], [%[w]], #8\n\t"
      "ldrd %[xe], %[xo], [%[x]], #8\n\t"
      "sxtb16 %[ea], %[wa]\n\t"
      "sxtb16 %[eb], %[wb]\n\t"
      "smlad %[t0], %[xe], %[wa], %[t0]\n\t"
      "smlad %[t0], %[xo], %[wb], %[t0]\n\t"
      "smlad %[s0], %[xe], %[ea], %[s0]\n\t"
      "smlad %[s0], %[xo], %[eb], %[s0]\n\t"
      "ldrd %[xe], %[xo], [%[x]], #8\n\t"
      "smlad %[t1], %[xe], %[wa], %[t1]\n\t"
      "smlad %[t1], %[xo], %[wb], %[t1]\n\t"
      "smlad %[s1], %[xe], %[ea], %[s1]\n\t"
      "smlad %[s1], %[xo], %[eb], %[s1]\n\t"
      "cmp %[w], %[end]\n\t"
      "bne 1b"
      : [s0] "+r"(s0), [t0] "+r"(t0), [s1] "+r"(s1), [t1] "+r"(t1), [x] "+r"(x), [w] "+r"(w), [wa] "=&r"(wa),
        [wb] "=&r"(wb), [ea] "=&r"(ea), [eb] "=&r"(eb), [xe] "=&r"(xe), [xo] "=&r"(xo)
      : [end] "r"(w_end)
      : "cc", "memory");
#else
  for (int32_t n = 0; n < groups; ++n, x += 4, w += 2) {
    const uint32_t ea = dsp::sxtb16(w[0]), eb = dsp::sxtb16(w[1]);
    t0 = dsp::smlad(x[1], w[1], dsp::smlad(x[0], w[0], t0));
    s0 = dsp::smlad(x[1], eb, dsp::smlad(x[0], ea, s0));
    t1 = dsp::smlad(x[3], w[1], dsp::smlad(x[2], w[0], t1));
    s1 = dsp::smlad(x[3], eb, dsp::smlad(x[2], ea, s1));
  }
#endif
}

// a = pixel . A and b = pixel . B for both pixels, on top of their initial values.
inline void dot_2x2(const uint32_t* x, const uint32_t* w, int32_t groups, int32_t& a0, int32_t& b0,
                    int32_t& a1, int32_t& b1) {
  while (groups > 0) {
    const int32_t n = groups < kDualChunkGroups ? groups : kDualChunkGroups;
    groups -= n;
    int32_t t0 = a0, t1 = a1;
    dual_run_2px(x, w, n, a0, t0, a1, t1);
    b0 = dsp::wrap_add(b0, static_cast<int32_t>(static_cast<uint32_t>(t0) - static_cast<uint32_t>(a0)) >> 8);
    b1 = dsp::wrap_add(b1, static_cast<int32_t>(static_cast<uint32_t>(t1) - static_cast<uint32_t>(a1)) >> 8);
  }
}

// Every output channel of the two pixels whose patches are in `patches`.
template <RequantMode mode, bool full_range>
void channels_of_pair(const Geometry& g, const uint32_t* patches, const uint32_t* filter,
                      const ChannelQuant* q, const dsp::OutputClamp& clamp, int8_t* out0, int8_t* out1) {
  const int32_t row_words = 2 * g.groups;
  const ChannelQuant* const q_pairs_end = q + (g.out_c & ~1);
  for (; q != q_pairs_end; q += 2, filter += row_words, out0 += 2, out1 += 2) {
    int32_t a00 = q[0].bias, a10 = q[0].bias, a01 = q[1].bias, a11 = q[1].bias;
    dot_2x2(patches, filter, g.groups, a00, a01, a10, a11);  // [pixel][channel]
    out0[0] = dsp::requantize<mode, full_range>(a00, q[0], clamp);
    out1[0] = dsp::requantize<mode, full_range>(a10, q[0], clamp);
    out0[1] = dsp::requantize<mode, full_range>(a01, q[1], clamp);
    out1[1] = dsp::requantize<mode, full_range>(a11, q[1], clamp);
  }
  if (g.out_c & 1) {  // odd channel count: the row's second channel is all zeros
    int32_t a00 = q[0].bias, a10 = q[0].bias, unused0 = 0, unused1 = 0;
    dot_2x2(patches, filter, g.groups, a00, unused0, a10, unused1);
    out0[0] = dsp::requantize<mode, full_range>(a00, q[0], clamp);
    out1[0] = dsp::requantize<mode, full_range>(a10, q[0], clamp);
  }
}

}  // namespace

void eval_Conv2DDsp(const Conv2DDspParams& p, const KernelIO& io) {
  const Geometry g = geometry(p, io);
  const int8_t* input = io.in[0].as<const int8_t>();
  const uint32_t* filter = io.in[1].as<const uint32_t>();
  const ChannelQuant* q = io.in[2].as<const ChannelQuant>();
  int8_t* output = io.out[0].as<int8_t>();
  uint32_t* patches = reinterpret_cast<uint32_t*>(io.scratch);
  int8_t* staging = needs_staging(p, g.in_c) ? reinterpret_cast<int8_t*>(patches + 4 * g.groups) : nullptr;
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  const int32_t pixels = g.batches * g.out_h * g.out_w;
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    for (int32_t i = 0; i < pixels; i += 2) {
      const int32_t j = i + 1 < pixels ? i + 1 : i;  // an odd last pixel is computed twice
      load_patch(p, g, input, i, 0, patches, staging);
      load_patch(p, g, input, j, 1, patches, staging);
      channels_of_pair<decltype(mode)::value, decltype(full_range)::value>(
          g, patches, filter, q, clamp, output + i * g.out_c, output + j * g.out_c);
    }
  });
}

uint32_t conv2d_dsp_scratch_bytes(const Conv2DDspParams& p, int32_t in_c) {
  const int64_t patch = int64_t{p.filter_h} * p.filter_w * in_c;
  const int64_t group_bytes = (patch + 3) / 4 * 4;
  const int64_t bytes = 4 * group_bytes + (needs_staging(p, in_c) ? group_bytes : 0);
  return bytes > INT32_MAX ? UINT32_MAX : static_cast<uint32_t>(bytes);
}

Status check_Conv2DDsp(const Conv2DDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!dsp_checks::is_int8_activation(in, 4) || !dsp_checks::is_int8_activation(out, 4)) return Status::bad_shape;
  if (p.filter_h < 1 || p.filter_w < 1 || !checks::window_params_ok(p.stride_h, p.dilation_h, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, p.dilation_w, p.pad_left))
    return Status::bad_params;
  if (p.kernel == static_cast<int32_t>(ConvDspKernel::pointwise)) {
    if (p.filter_h != 1 || p.filter_w != 1 || p.stride_h != 1 || p.stride_w != 1 || p.pad_top != 0 ||
        p.pad_left != 0 || out.dims[1] != in.dims[1] || out.dims[2] != in.dims[2])
      return Status::bad_params;
  } else if (p.kernel != static_cast<int32_t>(ConvDspKernel::im2col)) {
    return Status::bad_params;
  }
  if (out.dims[0] != in.dims[0] ||
      !checks::window_fits(in.dims[1], p.filter_h, p.stride_h, p.dilation_h, p.pad_top, out.dims[1]) ||
      !checks::window_fits(in.dims[2], p.filter_w, p.stride_w, p.dilation_w, p.pad_left, out.dims[2]))
    return Status::bad_shape;
  const int64_t patch = int64_t{p.filter_h} * p.filter_w * in.dims[3];
  if (patch > checks::kMaxExtent) return Status::bad_shape;
  const int32_t out_c = out.dims[3];
  if (!dsp_checks::is_words(io.in[1], ceil_div(out_c, 2), 2 * ceil_div(static_cast<int32_t>(patch), 4)) ||
      !dsp_checks::is_channel_records(io.in[2], out_c))
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, p.input_offset, p.output_offset, p.act_min, p.act_max))
    return Status::bad_params;
  if (io.scratch_size < conv2d_dsp_scratch_bytes(p, in.dims[3])) return Status::bad_params;
  return Status::ok;
}

}  // namespace tinyforge
