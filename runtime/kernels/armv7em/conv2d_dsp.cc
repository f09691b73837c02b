// Conv2DDsp: int8 convolution (groups 1) as a GEMM over output pixels with SMLAD.
//
// For each pair of output pixels the kernel widens both pixels' patches once into the
// scratch buffer as int16 pairs with the input offset added (SXTAB16; padding taps become
// 0, which is what skipping them does in the reference), then runs every quad of output
// channels over them with the dual-channel filter words of tinyforge/packed.h: per half
// group (2 patch lanes) one LDRD of both pixels' patch words, one LDRD of both pairs'
// filter words, 8 SMLADs and 2 extends for 16 MACs (15 cycles on the M4). A last pair of
// channels runs 2 pixels x 2 channels.
// The pointwise kernel reads the pixels in place (a 1x1 patch is the pixel itself); the
// im2col kernel gathers windows (through an int8 staging patch when IC % 4 != 0, so groups
// may straddle taps).
//
// Bit-exact with the reference Conv2D: the same products summed modulo 2^32 (order does
// not matter), then the same output stage (requantize.h).
// In-place safety: both pixels' inputs are read before either pixel's outputs are written.
#include "kernels/armv7em/conv2d_dsp.h"

#include <cstddef>

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
  int32_t in_row0;             // the input row held at the input view's row 0
  int32_t out_row0, out_row1;  // the output rows computed, the first at the output view's row 0
  int32_t patch;               // K = filter_h * filter_w * in_c
  int32_t groups;              // ceil(K / 4)
  int32_t run;                 // dual-channel run length (params.run_groups)
};

Geometry geometry(const Conv2DDspParams& p, const KernelIO& io, const ConvRows& rows) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  Geometry g;
  g.batches = in.dims[0];
  g.in_h = rows.in_h;
  g.in_w = in.dims[2];
  g.in_c = in.dims[3];
  g.out_h = rows.out_h;
  g.out_w = out.dims[2];
  g.out_c = out.dims[3];
  g.in_row0 = rows.in_row0;
  g.out_row0 = rows.out_row0;
  g.out_row1 = rows.out_row1;
  g.patch = p.filter_h * p.filter_w * g.in_c;
  g.groups = ceil_div(g.patch, 4);
  g.run = p.run_groups;
  return g;
}

bool needs_staging(const Conv2DDspParams& p, int32_t in_c) {
  return p.kernel == static_cast<int32_t>(ConvDspKernel::im2col) && in_c % 4 != 0;
}

// The two patch slots interleave per group: words 4g, 4g+1 hold the even lanes of pixels
// 0 and 1, 4g+2, 4g+3 their odd lanes (one LDRD loads a lane pair of both pixels).
inline void widen_group(uint32_t* slot, uint32_t x, uint32_t offset_pair) {
  slot[0] = dsp::sxtab16(offset_pair, x);
  slot[2] = dsp::sxtab16_ror8(offset_pair, x);
}

// Widens n int8 elements into consecutive groups of a slot (`dst` at the slot's first
// word of the first group); a partial last group is completed with zero bytes, which meet
// zero filter entries.
void widen_run(const int8_t* src, int32_t n, uint32_t offset_pair, uint32_t* dst) {
  int32_t i = 0;
#if TINYFORGE_HAVE_DSP
  if (n >= 8) {  // two groups per turn: one LDRD, 4 extends, 4 stores
    const int8_t* const end = src + (n & ~7);
    uint32_t x, y, e;
    asm volatile(
        "1:\n\t"
        "ldrd %[x], %[y], [%[src]], #8\n\t"
        "sxtab16 %[e], %[off], %[x]\n\t"
        "sxtab16 %[x], %[off], %[x], ror #8\n\t"
        "str %[x], [%[dst], #8]\n\t"
        "str %[e], [%[dst]], #16\n\t"
        "sxtab16 %[e], %[off], %[y]\n\t"
        "sxtab16 %[y], %[off], %[y], ror #8\n\t"
        "str %[y], [%[dst], #8]\n\t"
        "str %[e], [%[dst]], #16\n\t"
        "cmp %[src], %[end]\n\t"
        "bne 1b"
        : [src] "+r"(src), [dst] "+r"(dst), [x] "=&r"(x), [y] "=&r"(y), [e] "=&r"(e)
        : [off] "r"(offset_pair), [end] "r"(end)
        : "cc", "memory");
    n &= 7;
  }
#endif
  for (; i + 4 <= n; i += 4, dst += 4) widen_group(dst, dsp::load32(src + i), offset_pair);
  if (i < n) {
    uint32_t x = 0;
    for (int32_t b = 0; i + b < n; ++b)
      x |= static_cast<uint32_t>(static_cast<uint8_t>(src[i + b])) << (8 * b);
    widen_group(dst, x, offset_pair);
  }
}

// Where an output pixel reads its window, advanced in batch-major raster order.
struct PixelCursor {
  int32_t batch = 0, oy = 0, ox = 0;
  void next(const Geometry& g) {
    if (++ox < g.out_w) return;
    ox = 0;
    if (++oy < g.out_h) return;
    oy = 0;
    ++batch;
  }
};

// n bytes from src to dst, word by word (neither needs alignment on Cortex-M4).
inline void copy_bytes(int8_t* dst, const int8_t* src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) dsp::store32(dst + i, dsp::load32(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

// Fills slot `slot` with the widened patch of the output pixel at `at` (pixel `index` of
// the input view: pointwise reads it in place).
// Taps outside the input contribute 0 after the offset: zero pairs, or zero-point bytes in
// the int8 staging patch. With dilation 1 along x, the taps of a window row that lie inside
// the input are one contiguous run of NHWC bytes, copied or widened in one go.
void load_patch(const Conv2DDspParams& p, const Geometry& g, const int8_t* input, int32_t index,
                const PixelCursor& at, int slot, uint32_t* patches, int8_t* staging) {
  const uint32_t offset_pair = dsp::pair(p.input_offset, p.input_offset);
  uint32_t* dst = patches + slot;
  if (p.kernel == static_cast<int32_t>(ConvDspKernel::pointwise)) {
    widen_run(input + index * g.in_c, g.in_c, offset_pair, dst);
    return;
  }
  const int32_t iy0 = at.oy * p.stride_h - p.pad_top, ix0 = at.ox * p.stride_w - p.pad_left;
  // Input rows are addressed from the view's first row, g.in_row0 (a band of the input).
  const int8_t* batch = input + at.batch * g.in_h * g.in_w * g.in_c;
  const int32_t ry0 = iy0 - g.in_row0;
  // Taps [kx_lo, kx_hi) of a window row are inside the input (dilation 1 along x).
  const int32_t kx_lo = ix0 < 0 ? -ix0 : 0;
  const int32_t kx_hi = ix0 + p.filter_w > g.in_w ? g.in_w - ix0 : p.filter_w;
  const bool runs = p.dilation_w == 1;
  const int8_t zero_point = static_cast<int8_t>(-p.input_offset);
  if (staging == nullptr) {  // in_c % 4 == 0: taps are whole groups
    const int32_t tap_groups = g.in_c / 4;
    auto zero_taps = [&](int32_t taps) {
      for (int32_t t = 0; t < taps * tap_groups; ++t, dst += 4) dst[0] = dst[2] = 0;
    };
    for (int32_t ky = 0; ky < p.filter_h; ++ky) {
      const int32_t iy = iy0 + ky * p.dilation_h;
      if (iy < 0 || iy >= g.in_h) {
        zero_taps(p.filter_w);
      } else if (runs) {
        zero_taps(kx_lo);
        if (kx_hi > kx_lo) {
          widen_run(batch + ((iy - g.in_row0) * g.in_w + ix0 + kx_lo) * g.in_c,
                    (kx_hi - kx_lo) * g.in_c, offset_pair, dst);
          dst += 4 * tap_groups * (kx_hi - kx_lo);
        }
        zero_taps(p.filter_w - (kx_hi > kx_lo ? kx_hi : kx_lo));
      } else {
        for (int32_t kx = 0; kx < p.filter_w; ++kx) {
          const int32_t ix = ix0 + kx * p.dilation_w;
          if (ix < 0 || ix >= g.in_w) {
            zero_taps(1);
          } else {
            widen_run(batch + ((iy - g.in_row0) * g.in_w + ix) * g.in_c, g.in_c, offset_pair, dst);
            dst += 4 * tap_groups;
          }
        }
      }
    }
    return;
  }
  // The whole window inside the input (the common case): plain row copies, then whole
  // staging words widened (bytes past K in the staging patch meet zero filter entries).
  if (runs && kx_lo == 0 && kx_hi == p.filter_w && iy0 >= 0 &&
      iy0 + (p.filter_h - 1) * p.dilation_h < g.in_h) {
    const int32_t row_bytes = p.filter_w * g.in_c;
    const int32_t step = p.dilation_h * g.in_w * g.in_c;
    const int8_t* src = batch + (ry0 * g.in_w + ix0) * g.in_c;
    int8_t* s = staging;
    for (int32_t ky = 0; ky < p.filter_h; ++ky, src += step, s += row_bytes)
      copy_bytes(s, src, row_bytes);
    widen_run(staging, 4 * g.groups, offset_pair, dst);
    return;
  }
  int8_t* s = staging;
  auto pad = [&](int32_t taps) {
    for (int32_t n = taps * g.in_c; n > 0; --n) *s++ = zero_point;
  };
  for (int32_t ky = 0; ky < p.filter_h; ++ky) {
    const int32_t iy = iy0 + ky * p.dilation_h;
    if (iy < 0 || iy >= g.in_h) {
      pad(p.filter_w);
    } else if (runs) {
      pad(kx_lo);
      if (kx_hi > kx_lo) {
        copy_bytes(s, batch + ((iy - g.in_row0) * g.in_w + ix0 + kx_lo) * g.in_c,
                   (kx_hi - kx_lo) * g.in_c);
        s += (kx_hi - kx_lo) * g.in_c;
      }
      pad(p.filter_w - (kx_hi > kx_lo ? kx_hi : kx_lo));
    } else {
      for (int32_t kx = 0; kx < p.filter_w; ++kx) {
        const int32_t ix = ix0 + kx * p.dilation_w;
        if (ix < 0 || ix >= g.in_w) {
          pad(1);
        } else {
          copy_bytes(s, batch + ((iy - g.in_row0) * g.in_w + ix) * g.in_c, g.in_c);
          s += g.in_c;
        }
      }
    }
  }
  widen_run(staging, g.patch, offset_pair, dst);
}

// One run of at most `run_groups` groups for 2 pixels and a channel pair (A, B):
// s0, s1 += pixel . A; t0, t1 += pixel . A + 256 * pixel . B (packed.h). The pair's word 1
// of a group follows its word 0 at `stride` words (1 in a pair row, 2 in a quad).
// Portable form of the assembly; used by the other output stages and off-target.
inline void dual_run_2px(const uint32_t*& x, const uint32_t*& w, int32_t groups, int32_t stride,
                         int32_t& s0, int32_t& t0, int32_t& s1, int32_t& t1) {
  for (int32_t n = 0; n < groups; ++n, x += 4, w += 2 * stride) {
    const uint32_t w0 = w[0], w1 = w[stride];
    const uint32_t ea = dsp::sxtb16(w0), eb = dsp::sxtb16(w1);
    t0 = dsp::smlad(x[2], w1, dsp::smlad(x[0], w0, t0));
    s0 = dsp::smlad(x[2], eb, dsp::smlad(x[0], ea, s0));
    t1 = dsp::smlad(x[3], w1, dsp::smlad(x[1], w0, t1));
    s1 = dsp::smlad(x[3], eb, dsp::smlad(x[1], ea, s1));
  }
}

// a = pixel . A and b = pixel . B for both pixels, on top of their initial values.
inline void dot_2x2(const uint32_t* x, const uint32_t* w, int32_t groups, int32_t run,
                    int32_t stride, int32_t& a0, int32_t& b0, int32_t& a1, int32_t& b1) {
  while (groups > 0) {
    const int32_t n = groups < run ? groups : run;
    groups -= n;
    int32_t t0 = a0, t1 = a1;
    dual_run_2px(x, w, n, stride, a0, t0, a1, t1);
    b0 = dsp::wrap_add(
        b0, static_cast<int32_t>(static_cast<uint32_t>(t0) - static_cast<uint32_t>(a0)) >> 8);
    b1 = dsp::wrap_add(
        b1, static_cast<int32_t>(static_cast<uint32_t>(t1) - static_cast<uint32_t>(a1)) >> 8);
  }
}

#if TINYFORGE_HAVE_DSP
// State of quads_fast_runs and quads_one_run in memory (the inner loop takes all 14
// registers).
struct QuadJob {
  const uint32_t* x;      // 0: the pixel pair's patches
  const uint32_t* w;      // 4: filter rows of the first quad
  const ChannelQuant* q;  // 8: its records (advanced by 4 per quad)
  int8_t* out0;           // 12: output of pixel 0 (advanced by 4 per quad)
  int8_t* out1;           // 16
  int32_t quads;          // 20: quads left, >= 1
  int32_t groups;         // 24: groups per filter row, >= 1
  int32_t run;            // 28: groups per run
  uint32_t min4, max4;    // 32, 36: the clamp's bounds in all 4 bytes
  int32_t clamped;        // 40: 0 for a full-range output (quads_one_run skips the clamp)
};
static_assert(offsetof(QuadJob, clamped) == 40, "offsets used by the assembly below");

// Half a group (2 patch lanes) for 2 pixels x 2 channel pairs P, Q: patch words of pixels
// 0 and 1 in r2, r3, filter words of P and Q in r12, lr. t += x . (A + 256 B) with the
// raw words, then the words become SXTB16(word) = A in place and s += x . A. Sums: r4/r5
// s/t of (P, pixel 0), r6/r7 (P, pixel 1), r8/r9 (Q, pixel 0), r10/r11 (Q, pixel 1).
// Every instruction is 32 bits wide: a group is 96 bytes, which the TBB entry relies on.
#define TF_QUAD_HALF           \
  "ldrd r2, r3, [r0], #8\n\t"  \
  "ldrd r12, lr, [r1], #8\n\t" \
  "smlad r5, r2, r12, r5\n\t"  \
  "smlad r7, r3, r12, r7\n\t"  \
  "smlad r9, r2, lr, r9\n\t"   \
  "smlad r11, r3, lr, r11\n\t" \
  "sxtb16 r12, r12\n\t"        \
  "sxtb16 lr, lr\n\t"          \
  "smlad r4, r2, r12, r4\n\t"  \
  "smlad r6, r3, r12, r6\n\t"  \
  "smlad r8, r2, lr, r8\n\t"   \
  "smlad r10, r3, lr, r10\n\t"
#define TF_QUAD_GROUP TF_QUAD_HALF TF_QUAD_HALF
// RequantMode::fast (requantize.h) of channel c for pixel 0 (value va, into byte c of r7)
// and pixel 1 (vb, into byte c of r9), records at r3; r5 temporary, r0/r12/lr the record.
#define TF_QUAD_REQUANT(v)     \
  "qadd r5, " v ", " v         \
  "\n\t"                       \
  "smmlar r5, r5, r12, lr\n\t" \
  "add r5, r5, " v             \
  ", asr #31\n\t"              \
  "asr r5, r5, r0\n\t"         \
  "ssat r5, #8, r5\n\t"
#define TF_QUAD_OUT(va, vb, c)                                                         \
  "ldr r12, [r3, #" #c                                                                 \
  "*16+4]\n\t"                                                                         \
  "ldrd r0, lr, [r3, #" #c                                                             \
  "*16+8]\n\t" TF_QUAD_REQUANT(va) "bfi r7, r5, #" #c                                  \
                                   "*8, #8\n\t" TF_QUAD_REQUANT(vb) "bfi r9, r5, #" #c \
                                                                    "*8, #8\n\t"
// The activation clamp of the 4 bytes of r7 and of r9 at once (SSUB8 sets a GE flag per
// byte, SEL picks by them), the bounds' bytes loaded into r12 (min) and lr (max).
#define TF_QUAD_CLAMP           \
  "ldrd r12, lr, [r0, #32]\n\t" \
  "ssub8 r5, r7, r12\n\t"       \
  "sel r7, r7, r12\n\t"         \
  "ssub8 r5, lr, r7\n\t"        \
  "sel r7, r7, lr\n\t"          \
  "ssub8 r5, r9, r12\n\t"       \
  "sel r9, r9, r12\n\t"         \
  "ssub8 r5, lr, r9\n\t"        \
  "sel r9, r9, lr\n\t"
#define TF_QUAD_NONE

// All channel quads of a pixel pair, RequantMode::fast. Registers in the inner loop: r0
// patches, r1 filter, r2/r3 patch words, r12/lr filter words, r4-r11 the sums. The stack
// frame holds [sp] the run's patch end (later the next quad's filter), [sp+4] the job,
// [sp+8] the groups left, [sp+12..24] the B channels' sums (pixel 0 and 1 of pair P, then
// of Q) and [sp+28] the run length. The loop runs 4 groups per turn; a run of n groups
// enters it at group (-n) & 3 (TBB), so no group is handled outside it.
#define TF_QUADS_FAST(name, CLAMP)                                                               \
  TINYFORGE_ASM_FUNCTION void name(QuadJob* job) {                                               \
    register QuadJob* j asm("r0") = job;                                                         \
    asm volatile(                                                                                \
        "sub sp, sp, #32\n\t"                                                                    \
        "str r0, [sp, #4]\n\t"                                                                   \
        "ldr r1, [r0, #28]\n\t"                                                                  \
        "str r1, [sp, #28]\n\t"                                                                  \
        "ldr r1, [r0, #4]\n\t"                                                                   \
        "1:\n\t"                                                                                 \
        "ldr r0, [sp, #4]\n\t"                                                                   \
        "ldr r3, [r0, #8]\n\t"                                                                   \
        "ldr r4, [r3]\n\t"                                                                       \
        "ldr r8, [r3, #32]\n\t"                                                                  \
        "ldr r2, [r3, #16]\n\t"                                                                  \
        "ldr r12, [r3, #48]\n\t"                                                                 \
        "mov r6, r4\n\t"                                                                         \
        "mov r10, r8\n\t"                                                                        \
        "str r2, [sp, #12]\n\t"                                                                  \
        "str r2, [sp, #16]\n\t"                                                                  \
        "str r12, [sp, #20]\n\t"                                                                 \
        "str r12, [sp, #24]\n\t"                                                                 \
        "ldr r2, [r0, #24]\n\t"                                                                  \
        "ldr r0, [r0]\n\t"                                                                       \
        "2:\n\t"                                                                                 \
        "ldr r3, [sp, #28]\n\t"                                                                  \
        "cmp r2, r3\n\t"                                                                         \
        "it lt\n\t"                                                                              \
        "movlt r3, r2\n\t"                                                                       \
        "sub r2, r2, r3\n\t"                                                                     \
        "str r2, [sp, #8]\n\t"                                                                   \
        "add r2, r0, r3, lsl #4\n\t"                                                             \
        "str r2, [sp]\n\t"                                                                       \
        "mov r5, r4\n\t"                                                                         \
        "mov r7, r6\n\t"                                                                         \
        "mov r9, r8\n\t"                                                                         \
        "mov r11, r10\n\t"                                                                       \
        "rsb r3, r3, #0\n\t"                                                                     \
        "and r3, r3, #3\n\t"                                                                     \
        "tbb [pc, r3]\n\t"                                                                       \
        "3:\n\t"                                                                                 \
        ".byte (4f - 3b) / 2, (5f - 3b) / 2, (6f - 3b) / 2, (7f - 3b) / 2\n\t"                   \
        "4:\n\t" TF_QUAD_GROUP "5:\n\t" TF_QUAD_GROUP "6:\n\t" TF_QUAD_GROUP                     \
        "7:\n\t" TF_QUAD_GROUP                                                                   \
        "ldr r2, [sp]\n\t"                                                                       \
        "cmp r0, r2\n\t"                                                                         \
        "bne 4b\n\t"                                                                             \
        "ldrd r2, r3, [sp, #12]\n\t"                                                             \
        "sub r12, r5, r4\n\t"                                                                    \
        "add r2, r2, r12, asr #8\n\t"                                                            \
        "sub r12, r7, r6\n\t"                                                                    \
        "add r3, r3, r12, asr #8\n\t"                                                            \
        "strd r2, r3, [sp, #12]\n\t"                                                             \
        "ldrd r2, r3, [sp, #20]\n\t"                                                             \
        "sub r12, r9, r8\n\t"                                                                    \
        "add r2, r2, r12, asr #8\n\t"                                                            \
        "sub r12, r11, r10\n\t"                                                                  \
        "add r3, r3, r12, asr #8\n\t"                                                            \
        "strd r2, r3, [sp, #20]\n\t"                                                             \
        "ldr r2, [sp, #8]\n\t"                                                                   \
        "cmp r2, #0\n\t"                                                                         \
        "bne 2b\n\t"                                                                             \
        "str r1, [sp]\n\t"                                                                       \
        "ldr r0, [sp, #4]\n\t"                                                                   \
        "ldr r3, [r0, #8]\n\t" TF_QUAD_OUT(                                                      \
            "r4", "r6", 0) "ldrd r4, r6, [sp, #12]\n\t" TF_QUAD_OUT("r4", "r6", 1)               \
            TF_QUAD_OUT("r8", "r10", 2) "ldrd r4, r6, [sp, #20]\n\t" TF_QUAD_OUT(                \
                "r4", "r6", 3) "ldr r0, [sp, #4]\n\t" CLAMP                                      \
                               "ldrd r1, r2, [r0, #12]\n\t"                                      \
                               "str r7, [r1], #4\n\t"                                            \
                               "str r9, [r2], #4\n\t"                                            \
                               "add r3, r3, #64\n\t"                                             \
                               "str r3, [r0, #8]\n\t"                                            \
                               "strd r1, r2, [r0, #12]\n\t"                                      \
                               "ldr r1, [sp]\n\t"                                                \
                               "ldr r2, [r0, #20]\n\t"                                           \
                               "subs r2, r2, #1\n\t"                                             \
                               "str r2, [r0, #20]\n\t"                                           \
                               "bne 1b\n\t"                                                      \
                               "add sp, sp, #32"                                                 \
        : "+r"(j)                                                                                \
        :                                                                                        \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", \
          "memory");                                                                             \
  }
// Rows of several runs only (rare: the compiler proves most rows run at once): one
// instance, always clamped (with full-range bounds SSUB8 + SEL keep every byte).
TF_QUADS_FAST(quads_fast_runs, TF_QUAD_CLAMP)
#undef TF_QUADS_FAST

// The same quads when the whole row is one run (groups <= run, the common case): the B
// shares stay in registers and the entry point is computed once per pixel pair, not per
// quad, which saves about 40 cycles per quad. Its loop runs 8 groups per turn (entered at
// group (-groups) & 7 by TBH), and one copy serves both output stages (the clamp is skipped
// by a branch for full-range outputs). The stack frame holds [sp] the patch end, [sp+4] the
// job, [sp+8] the entry index, [sp+12] the patches, [sp+16] the records. After the loop
// B = bias B + (t - s) >> 8 (packed.h); channel c's outputs are packed into byte c of r4
// (pixel 0) and r6 (pixel 1).
#define TF_ONE_REQUANT(v, dst) \
  "qadd r2, " v ", " v         \
  "\n\t"                       \
  "smmlar r2, r2, r12, lr\n\t" \
  "add r2, r2, " v             \
  ", asr #31\n\t"              \
  "asr r2, r2, r0\n\t"         \
  "ssat " dst ", #8, r2\n\t"
#define TF_ONE_RECORD(c) \
  "ldr r12, [r3, #" #c   \
  "*16+4]\n\t"           \
  "ldrd r0, lr, [r3, #" #c "*16+8]\n\t"
#define TF_ONE_OUT(va, vb, c) \
  TF_ONE_RECORD(c)            \
  TF_ONE_REQUANT(va, "r2")    \
  "bfi r4, r2, #" #c "*8, #8\n\t" TF_ONE_REQUANT(vb, "r2") "bfi r6, r2, #" #c "*8, #8\n\t"
#define TF_ONE_CLAMP            \
  "ldrd r12, lr, [r0, #32]\n\t" \
  "ssub8 r2, r4, r12\n\t"       \
  "sel r4, r4, r12\n\t"         \
  "ssub8 r2, lr, r4\n\t"        \
  "sel r4, r4, lr\n\t"          \
  "ssub8 r2, r6, r12\n\t"       \
  "sel r6, r6, r12\n\t"         \
  "ssub8 r2, lr, r6\n\t"        \
  "sel r6, r6, lr\n\t"
#define TF_QUADS_ONE_RUN(name)                                                                     \
  TINYFORGE_ASM_FUNCTION void name(QuadJob* job) {                                                 \
    register QuadJob* j asm("r0") = job;                                                           \
    asm volatile(                                                                                \
        "sub sp, sp, #20\n\t"                                                                    \
        "str r0, [sp, #4]\n\t"                                                                   \
        "ldr r1, [r0, #24]\n\t"                                                                  \
        "ldr r2, [r0]\n\t"                                                                       \
        "ldr r3, [r0, #8]\n\t"                                                                   \
        "str r3, [sp, #16]\n\t"                                                                  \
        "str r2, [sp, #12]\n\t"                                                                  \
        "add r3, r2, r1, lsl #4\n\t"                                                             \
        "str r3, [sp]\n\t"                                                                       \
        "rsb r1, r1, #0\n\t"                                                                     \
        "and r1, r1, #7\n\t"                                                                     \
        "str r1, [sp, #8]\n\t"                                                                   \
        "ldr r1, [r0, #4]\n\t"                                                                   \
        "1:\n\t"                                                                                 \
        "ldr r3, [sp, #16]\n\t"                                                                  \
        "ldr r4, [r3]\n\t"                                                                       \
        "ldr r8, [r3, #32]\n\t"                                                                  \
        "ldr r2, [sp, #8]\n\t"                                                                   \
        "ldr r0, [sp, #12]\n\t"                                                                  \
        "mov r5, r4\n\t"                                                                         \
        "mov r6, r4\n\t"                                                                         \
        "mov r7, r4\n\t"                                                                         \
        "mov r9, r8\n\t"                                                                         \
        "mov r10, r8\n\t"                                                                        \
        "mov r11, r8\n\t"                                                                        \
        "tbh [pc, r2, lsl #1]\n\t"                                                               \
        "3:\n\t"                                                                                 \
        ".hword (4f - 3b) / 2, (5f - 3b) / 2, (6f - 3b) / 2, (7f - 3b) / 2\n\t"                  \
        ".hword (14f - 3b) / 2, (15f - 3b) / 2, (16f - 3b) / 2, (17f - 3b) / 2\n\t"              \
        "4:\n\t" TF_QUAD_GROUP "5:\n\t" TF_QUAD_GROUP "6:\n\t" TF_QUAD_GROUP                     \
        "7:\n\t" TF_QUAD_GROUP "14:\n\t" TF_QUAD_GROUP "15:\n\t" TF_QUAD_GROUP                   \
        "16:\n\t" TF_QUAD_GROUP "17:\n\t" TF_QUAD_GROUP                                        \
        "ldr r2, [sp]\n\t"                                                                       \
        "cmp r0, r2\n\t"                                                                         \
        "bne 4b\n\t"                                                                             \
        "ldr r3, [sp, #16]\n\t"                                                                  \
        "ldr r2, [r3, #16]\n\t"                                                                  \
        "ldr r12, [r3, #48]\n\t"                                                                 \
        "sub r5, r5, r4\n\t"                                                                     \
        "add r5, r2, r5, asr #8\n\t"                                                             \
        "sub r7, r7, r6\n\t"                                                                     \
        "add r7, r2, r7, asr #8\n\t"                                                             \
        "sub r9, r9, r8\n\t"                                                                     \
        "add r9, r12, r9, asr #8\n\t"                                                            \
        "sub r11, r11, r10\n\t"                                                                  \
        "add r11, r12, r11, asr #8\n\t" TF_ONE_RECORD(0) TF_ONE_REQUANT("r4", "r4")             \
            TF_ONE_REQUANT("r6", "r6") TF_ONE_OUT("r5", "r7", 1) TF_ONE_OUT("r8", "r10", 2)      \
                TF_ONE_OUT("r9", "r11", 3) "ldr r0, [sp, #4]\n\t"                                 \
        "ldr r2, [r0, #40]\n\t"                                                                  \
        "cbz r2, 8f\n\t" TF_ONE_CLAMP "8:\n\t"                                                  \
        "ldrd r2, r12, [r0, #12]\n\t"                                                            \
        "str r4, [r2], #4\n\t"                                                                   \
        "str r6, [r12], #4\n\t"                                                                  \
        "strd r2, r12, [r0, #12]\n\t"                                                            \
        "add r3, r3, #64\n\t"                                                                    \
        "str r3, [sp, #16]\n\t"                                                                  \
        "ldr r2, [r0, #20]\n\t"                                                                  \
        "subs r2, r2, #1\n\t"                                                                    \
        "str r2, [r0, #20]\n\t"                                                                  \
        "bne 1b\n\t"                                                                             \
        "add sp, sp, #20"                                                                        \
        : "+r"(j)                                                                                \
        :                                                                                        \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", \
          "memory"); \
  }
TF_QUADS_ONE_RUN(quads_one_run)
#undef TF_QUADS_ONE_RUN
#undef TF_ONE_CLAMP
#undef TF_ONE_OUT
#undef TF_ONE_RECORD
#undef TF_ONE_REQUANT
#undef TF_QUAD_HALF
#undef TF_QUAD_GROUP
#undef TF_QUAD_REQUANT
#undef TF_QUAD_OUT
#undef TF_QUAD_CLAMP
#undef TF_QUAD_NONE
#endif

// Channels A = channel 0 and B = channel 1 of a pair for both pixels, requantized.
template <RequantMode mode, bool full_range>
void pair_of_pixel_pair(const Geometry& g, const uint32_t* patches, const uint32_t* filter,
                        int32_t stride, const ChannelQuant* q, int32_t channels,
                        const dsp::OutputClamp& clamp, int8_t* out0, int8_t* out1) {
  int32_t a0 = q[0].bias, a1 = q[0].bias;
  int32_t b0 = channels > 1 ? q[1].bias : 0, b1 = b0;  // an odd last channel: B is all zeros
  dot_2x2(patches, filter, g.groups, g.run, stride, a0, b0, a1, b1);
  out0[0] = dsp::requantize<mode, full_range>(a0, q[0], clamp);
  out1[0] = dsp::requantize<mode, full_range>(a1, q[0], clamp);
  if (channels < 2) return;
  out0[1] = dsp::requantize<mode, full_range>(b0, q[1], clamp);
  out1[1] = dsp::requantize<mode, full_range>(b1, q[1], clamp);
}

// Every output channel of the two pixels whose patches are in `patches`: the quads, then a
// last pair (or single channel) in its own row.
template <RequantMode mode, bool full_range>
void channels_of_pair(const Geometry& g, const uint32_t* patches, const uint32_t* filter,
                      const ChannelQuant* q, const dsp::OutputClamp& clamp, int8_t* out0,
                      int8_t* out1) {
  const int32_t row_words = 2 * g.groups;  // of one pair
  int32_t quads = g.out_c / 4;
#if TINYFORGE_HAVE_DSP
  if (mode == RequantMode::fast && quads > 0) {
    QuadJob job{patches,
                filter,
                q,
                out0,
                out1,
                quads,
                g.groups,
                g.run,
                dsp::bytes4(clamp.act_min),
                dsp::bytes4(clamp.act_max),
                dsp::is_full_range(clamp.act_min, clamp.act_max) ? 0 : 1};
    if (g.groups > g.run)
      quads_fast_runs(&job);
    else
      quads_one_run(&job);
    filter += 2 * quads * row_words;
    q += 4 * quads;
    out0 += 4 * quads;
    out1 += 4 * quads;
    quads = 0;
  }
#endif
  for (; quads > 0; --quads, q += 4, filter += 2 * row_words, out0 += 4, out1 += 4) {
    pair_of_pixel_pair<mode, full_range>(g, patches, filter, 2, q, 2, clamp, out0, out1);
    pair_of_pixel_pair<mode, full_range>(g, patches, filter + 1, 2, q + 2, 2, clamp, out0 + 2,
                                         out1 + 2);
  }
  for (int32_t c = g.out_c / 4 * 4; c < g.out_c;
       c += 2, q += 2, filter += row_words, out0 += 2, out1 += 2)
    pair_of_pixel_pair<mode, full_range>(g, patches, filter, 1, q, g.out_c - c, clamp, out0, out1);
}

// Every output pixel, two at a time, with one output stage. Not inlined into eval: the
// locals of one stage's loop are on the stack during the kernel, not those of every stage.
template <RequantMode mode, bool full_range>
__attribute__((noinline)) void pixel_pairs(const Conv2DDspParams& p, const Geometry& g,
                                           const KernelIO& io, const dsp::OutputClamp& clamp) {
  const int8_t* input = io.in[0].as<const int8_t>();
  const uint32_t* filter = io.in[1].as<const uint32_t>();
  const ChannelQuant* q = io.in[2].as<const ChannelQuant>();
  int8_t* output = io.out[0].as<int8_t>();
  uint32_t* patches = reinterpret_cast<uint32_t*>(io.scratch);
  int8_t* staging =
      needs_staging(p, g.in_c) ? reinterpret_cast<int8_t*>(patches + 4 * g.groups) : nullptr;
  // Pixels counted from the first output row computed; `shift` makes a pixel index one of
  // the input view (pointwise: the same pixel).
  const int32_t pixels = g.batches * (g.out_row1 - g.out_row0) * g.out_w;
  const int32_t shift = (g.out_row0 - g.in_row0) * g.in_w;
  PixelCursor at;
  at.oy = g.out_row0;
  for (int32_t i = 0; i < pixels; i += 2) {
    const int32_t j = i + 1 < pixels ? i + 1 : i;  // an odd last pixel is computed twice
    load_patch(p, g, input, i + shift, at, 0, patches, staging);
    if (j != i) at.next(g);
    load_patch(p, g, input, j + shift, at, 1, patches, staging);
    at.next(g);
    channels_of_pair<mode, full_range>(g, patches, filter, q, clamp, output + i * g.out_c,
                                       output + j * g.out_c);
  }
}

}  // namespace

void conv2d_dsp_rows(const Conv2DDspParams& p, const KernelIO& io, const ConvRows& rows) {
  const Geometry g = geometry(p, io, rows);
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    pixel_pairs<decltype(mode)::value, decltype(full_range)::value>(p, g, io, clamp);
  });
}

void eval_Conv2DDsp(const Conv2DDspParams& p, const KernelIO& io) {
  const int32_t in_h = io.in[0].dims[1], out_h = io.out[0].dims[1];
  conv2d_dsp_rows(p, io, ConvRows{in_h, 0, out_h, 0, out_h});
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
  if (!dsp_checks::is_int8_activation(in, 4) || !dsp_checks::is_int8_activation(out, 4))
    return Status::bad_shape;
  if (p.filter_h < 1 || p.filter_w < 1 ||
      !checks::window_params_ok(p.stride_h, p.dilation_h, p.pad_top) ||
      !checks::window_params_ok(p.stride_w, p.dilation_w, p.pad_left))
    return Status::bad_params;
  if (p.kernel == static_cast<int32_t>(ConvDspKernel::pointwise)) {
    if (p.filter_h != 1 || p.filter_w != 1 || p.stride_h != 1 || p.stride_w != 1 ||
        p.pad_top != 0 || p.pad_left != 0 || out.dims[1] != in.dims[1] || out.dims[2] != in.dims[2])
      return Status::bad_params;
  } else if (p.kernel != static_cast<int32_t>(ConvDspKernel::im2col)) {
    return Status::bad_params;
  }
  if (out.dims[0] != in.dims[0] ||
      !checks::window_fits(in.dims[1], p.filter_h, p.stride_h, p.dilation_h, p.pad_top,
                           out.dims[1]) ||
      !checks::window_fits(in.dims[2], p.filter_w, p.stride_w, p.dilation_w, p.pad_left,
                           out.dims[2]))
    return Status::bad_shape;
  const int64_t patch = int64_t{p.filter_h} * p.filter_w * in.dims[3];
  if (patch > checks::kMaxExtent) return Status::bad_shape;
  const int32_t out_c = out.dims[3];
  if (!dsp_checks::is_words(io.in[1], ceil_div(out_c, 2),
                            2 * ceil_div(static_cast<int32_t>(patch), 4)) ||
      !dsp_checks::is_channel_records(io.in[2], out_c))
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, p.input_offset, p.output_offset, p.act_min, p.act_max) ||
      p.run_groups < kDualChunkGroups)
    return Status::bad_params;
  if (io.scratch_size < conv2d_dsp_scratch_bytes(p, in.dims[3])) return Status::bad_params;
  return Status::ok;
}

}  // namespace tinyforge
