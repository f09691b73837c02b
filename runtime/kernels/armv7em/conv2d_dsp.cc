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
#if TINYFORGE_HAVE_DSP
  if (n >= 4) {  // 4 instructions per group
    const int8_t* const end = src + (n & ~3);
    uint32_t x, e;
    asm volatile(
        "1:\n\t"
        "ldr %[x], [%[src]], #4\n\t"
        "sxtab16 %[e], %[off], %[x]\n\t"
        "sxtab16 %[x], %[off], %[x], ror #8\n\t"
        "strd %[e], %[x], [%[dst]], #16\n\t"
        "cmp %[src], %[end]\n\t"
        "bne 1b"
        : [src] "+r"(src), [dst] "+r"(dst), [x] "=&r"(x), [e] "=&r"(e)
        : [off] "r"(offset_pair), [end] "r"(end)
        : "cc", "memory");
    n &= 3;
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
  uint32_t* dst = patches + 2 * slot;
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
      for (int32_t t = 0; t < taps * tap_groups; ++t, dst += 4) dst[0] = dst[1] = 0;
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
// s0, s1 += pixel . A; t0, t1 += pixel . A + 256 * pixel . B (packed.h). Portable form of
// what pairs_fast_full does in assembly; used by the other output stages and off-target.
inline void dual_run_2px(const uint32_t*& x, const uint32_t*& w, int32_t groups, int32_t& s0,
                         int32_t& t0, int32_t& s1, int32_t& t1) {
  for (int32_t n = 0; n < groups; ++n, x += 4, w += 2) {
    const uint32_t ea = dsp::sxtb16(w[0]), eb = dsp::sxtb16(w[1]);
    t0 = dsp::smlad(x[1], w[1], dsp::smlad(x[0], w[0], t0));
    s0 = dsp::smlad(x[1], eb, dsp::smlad(x[0], ea, s0));
    t1 = dsp::smlad(x[3], w[1], dsp::smlad(x[2], w[0], t1));
    s1 = dsp::smlad(x[3], eb, dsp::smlad(x[2], ea, s1));
  }
}

// a = pixel . A and b = pixel . B for both pixels, on top of their initial values.
inline void dot_2x2(const uint32_t* x, const uint32_t* w, int32_t groups, int32_t run, int32_t& a0,
                    int32_t& b0, int32_t& a1, int32_t& b1) {
  while (groups > 0) {
    const int32_t n = groups < run ? groups : run;
    groups -= n;
    int32_t t0 = a0, t1 = a1;
    dual_run_2px(x, w, n, a0, t0, a1, t1);
    b0 = dsp::wrap_add(
        b0, static_cast<int32_t>(static_cast<uint32_t>(t0) - static_cast<uint32_t>(a0)) >> 8);
    b1 = dsp::wrap_add(
        b1, static_cast<int32_t>(static_cast<uint32_t>(t1) - static_cast<uint32_t>(a1)) >> 8);
  }
}

#if TINYFORGE_HAVE_DSP
// State of pairs_fast_full in memory (its 14 registers are all taken by the inner loop).
struct PairJob {
  const uint32_t* x;         // 0: the pixel pair's patches
  const uint32_t* w;         // 4: filter row of the first channel pair
  const ChannelQuant* q;     // 8: its records (advanced by 2 per pair)
  int8_t* out0;              // 12: output of pixel 0 (advanced by 2 per pair)
  int8_t* out1;              // 16
  int32_t pairs;             // 20: channel pairs left, >= 1
  int32_t groups;            // 24: groups per filter row, >= 1
  int32_t b0, b1;            // 28, 32: channel B's sums
  int32_t left;              // 36: groups of the row not yet run
  int32_t act_min, act_max;  // 40, 44: the clamp (clamped variant only)
  int32_t run;               // 48: groups per run
};
static_assert(offsetof(PairJob, run) == 48, "offsets used by the assembly below");

// One group: t += x . (A + 256 B) with the raw words first, then the words become
// SXTB16(word) = A in place and s += x . A; both pixels' patch words come in one LDM
// (12 instructions for 16 MACs).
#define TF_GROUP                     \
  "ldrd r8, r9, [r2], #8\n\t"        \
  "ldm r1!, {r10, r11, r12, lr}\n\t" \
  "smlad r5, r10, r8, r5\n\t"        \
  "smlad r5, r11, r9, r5\n\t"        \
  "smlad r7, r12, r8, r7\n\t"        \
  "smlad r7, lr, r9, r7\n\t"         \
  "sxtb16 r8, r8\n\t"                \
  "sxtb16 r9, r9\n\t"                \
  "smlad r4, r10, r8, r4\n\t"        \
  "smlad r4, r11, r9, r4\n\t"        \
  "smlad r6, r12, r8, r6\n\t"        \
  "smlad r6, lr, r9, r6\n\t"
// RequantMode::fast of accumulator `v` with the record's multiplier r10, shift r11 and
// rounding r12 (requantize.h), SSAT to int8, result in r8.
#define TF_REQUANT(v)           \
  "qadd r8, " v ", " v          \
  "\n\t"                        \
  "smmlar r8, r8, r10, r12\n\t" \
  "add r8, r8, " v              \
  ", asr #31\n\t"               \
  "asr r8, r8, r11\n\t"         \
  "ssat r8, #8, r8\n\t"
// The activation clamp, bounds in r5 (min) and r7 (max).
#define TF_CLAMP     \
  "cmp r8, r5\n\t"   \
  "it lt\n\t"        \
  "movlt r8, r5\n\t" \
  "cmp r8, r7\n\t"   \
  "it gt\n\t"        \
  "movgt r8, r7\n\t"
#define TF_NO_CLAMP

// All channel pairs of a pixel pair, RequantMode::fast, in hand-allocated registers:
// r0 job, r1 patches, r2 filter, r3 chunk end, r4-r7 sums (s0, t0, s1, t1), r8-r12 and lr
// temporaries. The inner loop runs two groups per turn. CLAMP: the activation clamp when
// the range is not the full int8 range.
#define TF_PAIRS_FAST(name, CLAMP)                                                               \
  TINYFORGE_ASM_FUNCTION void name(PairJob* job) {                                               \
    register PairJob* j asm("r0") = job;                                                         \
    asm volatile(                                                                                \
        "ldr r2, [r0, #4]\n\t"                                                                   \
        "1:\n\t"                                                                                 \
        "ldr r3, [r0, #8]\n\t"                                                                   \
        "ldr r4, [r3]\n\t"                                                                       \
        "mov r6, r4\n\t"                                                                         \
        "ldr r8, [r3, #16]\n\t"                                                                  \
        "str r8, [r0, #28]\n\t"                                                                  \
        "str r8, [r0, #32]\n\t"                                                                  \
        "ldr r1, [r0]\n\t"                                                                       \
        "ldr r8, [r0, #24]\n\t"                                                                  \
        "2:\n\t"                                                                                 \
        "mov r5, r4\n\t"                                                                         \
        "mov r7, r6\n\t"                                                                         \
        "ldr r9, [r0, #48]\n\t"                                                                  \
        "cmp r8, r9\n\t"                                                                         \
        "it le\n\t"                                                                              \
        "movle r9, r8\n\t"                                                                       \
        "sub r8, r8, r9\n\t"                                                                     \
        "str r8, [r0, #36]\n\t"                                                                  \
        "add r3, r2, r9, lsl #3\n\t"                                                             \
        "tst r9, #1\n\t"                                                                         \
        "beq 3f\n\t" TF_GROUP                                                                    \
        "3:\n\t"                                                                                 \
        "cmp r2, r3\n\t"                                                                         \
        "beq 5f\n\t"                                                                             \
        "4:\n\t" TF_GROUP TF_GROUP                                                               \
        "cmp r2, r3\n\t"                                                                         \
        "bne 4b\n\t"                                                                             \
        "5:\n\t"                                                                                 \
        "ldrd r8, r9, [r0, #28]\n\t"                                                             \
        "sub r10, r5, r4\n\t"                                                                    \
        "add r8, r8, r10, asr #8\n\t"                                                            \
        "sub r10, r7, r6\n\t"                                                                    \
        "add r9, r9, r10, asr #8\n\t"                                                            \
        "strd r8, r9, [r0, #28]\n\t"                                                             \
        "ldr r8, [r0, #36]\n\t"                                                                  \
        "cmp r8, #0\n\t"                                                                         \
        "bne 2b\n\t"                                                                             \
        "ldr r3, [r0, #8]\n\t"                                                                   \
        "ldr r1, [r0, #12]\n\t"                                                                  \
        "ldr lr, [r0, #16]\n\t"                                                                  \
        "ldrd r5, r7, [r0, #40]\n\t"                                                             \
        "ldr r10, [r3, #4]\n\t"                                                                  \
        "ldrd r11, r12, [r3, #8]\n\t" TF_REQUANT("r4") CLAMP                                     \
        "strb r8, [r1], #1\n\t" TF_REQUANT("r6") CLAMP                                           \
        "strb r8, [lr], #1\n\t"                                                                  \
        "ldr r10, [r3, #20]\n\t"                                                                 \
        "ldrd r11, r12, [r3, #24]\n\t"                                                           \
        "ldrd r4, r6, [r0, #28]\n\t" TF_REQUANT("r4") CLAMP                                      \
        "strb r8, [r1], #1\n\t" TF_REQUANT("r6") CLAMP                                           \
        "strb r8, [lr], #1\n\t"                                                                  \
        "str r1, [r0, #12]\n\t"                                                                  \
        "str lr, [r0, #16]\n\t"                                                                  \
        "add r3, r3, #32\n\t"                                                                    \
        "str r3, [r0, #8]\n\t"                                                                   \
        "ldr r8, [r0, #20]\n\t"                                                                  \
        "subs r8, r8, #1\n\t"                                                                    \
        "str r8, [r0, #20]\n\t"                                                                  \
        "bne 1b"                                                                                 \
        :                                                                                        \
        : "r"(j)                                                                                 \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", \
          "memory");                                                                             \
  }

// The same for rows of at most `run` groups (one run, the common case), with
// the loop state kept on the stack by PUSH/POP around the inner loop instead of in the job:
// r8 records, r9 / r10 outputs of pixel 0 / 1, r11 B's bias.
struct ShortJob {
  const uint32_t* x;          // 0
  const uint32_t* w;          // 4
  const ChannelQuant* q;      // 8
  int8_t* out0;               // 12
  int8_t* out1;               // 16
  const ChannelQuant* q_end;  // 20: after the last pair's records
  int32_t row_bytes;          // 24: 8 * groups, groups in 1..run
  int32_t act_min, act_max;   // 28, 32
};
static_assert(offsetof(ShortJob, act_max) == 32, "offsets used by the assembly below");

#define TF_SHORT_REQUANT(v)    \
  "qadd r3, " v ", " v         \
  "\n\t"                       \
  "smmlar r3, r3, r11, lr\n\t" \
  "add r3, r3, " v             \
  ", asr #31\n\t"              \
  "asr r3, r3, r12\n\t"        \
  "ssat r3, #8, r3\n\t"
#define TF_SHORT_CLAMP \
  "cmp r3, r1\n\t"     \
  "it lt\n\t"          \
  "movlt r3, r1\n\t"   \
  "cmp r3, r4\n\t"     \
  "it gt\n\t"          \
  "movgt r3, r4\n\t"
#define TF_SHORT_LOAD_CLAMP "ldrd r1, r4, [r0, #28]\n\t"
#define TF_SHORT_NONE

#define TF_PAIRS_SHORT(name, LOAD_CLAMP, CLAMP)                                                  \
  TINYFORGE_ASM_FUNCTION void name(ShortJob* job) {                                              \
    register ShortJob* j asm("r0") = job;                                                        \
    asm volatile(                                                                                \
        "ldr r2, [r0, #4]\n\t"                                                                   \
        "ldr r8, [r0, #8]\n\t"                                                                   \
        "ldrd r9, r10, [r0, #12]\n\t"                                                            \
        "1:\n\t"                                                                                 \
        "ldr r4, [r8]\n\t"                                                                       \
        "mov r5, r4\n\t"                                                                         \
        "mov r6, r4\n\t"                                                                         \
        "mov r7, r4\n\t"                                                                         \
        "ldr r11, [r8, #16]\n\t"                                                                 \
        "push {r8, r9, r10, r11}\n\t"                                                            \
        "ldr r1, [r0]\n\t"                                                                       \
        "ldr r3, [r0, #24]\n\t"                                                                  \
        "tst r3, #8\n\t"                                                                         \
        "add r3, r3, r2\n\t"                                                                     \
        "beq 3f\n\t" TF_GROUP                                                                    \
        "3:\n\t"                                                                                 \
        "cmp r2, r3\n\t"                                                                         \
        "beq 5f\n\t"                                                                             \
        "4:\n\t" TF_GROUP TF_GROUP                                                               \
        "cmp r2, r3\n\t"                                                                         \
        "bne 4b\n\t"                                                                             \
        "5:\n\t"                                                                                 \
        "pop {r8, r9, r10, r11}\n\t"                                                             \
        "sub lr, r7, r6\n\t"                                                                     \
        "add r7, r11, lr, asr #8\n\t"                                                            \
        "sub lr, r5, r4\n\t"                                                                     \
        "add r5, r11, lr, asr #8\n\t"                                                            \
        "ldr r11, [r8, #4]\n\t"                                                                  \
        "ldrd r12, lr, [r8, #8]\n\t" TF_SHORT_REQUANT("r4") LOAD_CLAMP CLAMP                     \
        "strb r3, [r9], #1\n\t" TF_SHORT_REQUANT("r6") CLAMP                                     \
        "strb r3, [r10], #1\n\t"                                                                 \
        "ldr r11, [r8, #20]\n\t"                                                                 \
        "ldrd r12, lr, [r8, #24]\n\t" TF_SHORT_REQUANT("r5") CLAMP                               \
        "strb r3, [r9], #1\n\t" TF_SHORT_REQUANT("r7") CLAMP                                     \
        "strb r3, [r10], #1\n\t"                                                                 \
        "add r8, r8, #32\n\t"                                                                    \
        "ldr r3, [r0, #20]\n\t"                                                                  \
        "cmp r8, r3\n\t"                                                                         \
        "bne 1b"                                                                                 \
        :                                                                                        \
        : "r"(j)                                                                                 \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", \
          "memory");                                                                             \
  }
TF_PAIRS_SHORT(pairs_short_full, TF_SHORT_NONE, TF_SHORT_NONE)
TF_PAIRS_SHORT(pairs_short_clamped, TF_SHORT_LOAD_CLAMP, TF_SHORT_CLAMP)
#undef TF_PAIRS_SHORT
#undef TF_SHORT_REQUANT
#undef TF_SHORT_CLAMP
#undef TF_SHORT_LOAD_CLAMP
#undef TF_SHORT_NONE
TF_PAIRS_FAST(pairs_fast_full, TF_NO_CLAMP)
TF_PAIRS_FAST(pairs_fast_clamped, TF_CLAMP)
#undef TF_PAIRS_FAST
#undef TF_CLAMP
#undef TF_NO_CLAMP
#undef TF_GROUP
#undef TF_REQUANT
#endif

// Every output channel of the two pixels whose patches are in `patches`.
template <RequantMode mode, bool full_range>
void channels_of_pair(const Geometry& g, const uint32_t* patches, const uint32_t* filter,
                      const ChannelQuant* q, const dsp::OutputClamp& clamp, int8_t* out0,
                      int8_t* out1) {
  const int32_t row_words = 2 * g.groups;
  int32_t pairs = g.out_c / 2;
#if TINYFORGE_HAVE_DSP
  if (mode == RequantMode::fast && pairs > 0 && g.groups <= g.run) {
    ShortJob job{patches,       filter,       q, out0, out1, q + 2 * pairs, 8 * g.groups,
                 clamp.act_min, clamp.act_max};
    if (dsp::is_full_range(clamp.act_min, clamp.act_max))
      pairs_short_full(&job);
    else
      pairs_short_clamped(&job);
    filter += pairs * row_words;
    q += 2 * pairs;
    out0 += 2 * pairs;
    out1 += 2 * pairs;
    pairs = 0;
  } else if (mode == RequantMode::fast && pairs > 0) {
    PairJob job{patches, filter, q, out0,          out1,          pairs, g.groups,
                0,       0,      0, clamp.act_min, clamp.act_max, g.run};
    if (dsp::is_full_range(clamp.act_min, clamp.act_max))
      pairs_fast_full(&job);
    else
      pairs_fast_clamped(&job);
    filter += pairs * row_words;
    q += 2 * pairs;
    out0 += 2 * pairs;
    out1 += 2 * pairs;
    pairs = 0;
  }
#endif
  for (; pairs > 0; --pairs, q += 2, filter += row_words, out0 += 2, out1 += 2) {
    int32_t a00 = q[0].bias, a10 = q[0].bias, a01 = q[1].bias, a11 = q[1].bias;
    dot_2x2(patches, filter, g.groups, g.run, a00, a01, a10, a11);  // [pixel][channel]
    out0[0] = dsp::requantize<mode, full_range>(a00, q[0], clamp);
    out1[0] = dsp::requantize<mode, full_range>(a10, q[0], clamp);
    out0[1] = dsp::requantize<mode, full_range>(a01, q[1], clamp);
    out1[1] = dsp::requantize<mode, full_range>(a11, q[1], clamp);
  }
  if (g.out_c & 1) {  // odd channel count: the row's second channel is all zeros
    int32_t a00 = q[0].bias, a10 = q[0].bias, unused0 = 0, unused1 = 0;
    dot_2x2(patches, filter, g.groups, g.run, a00, unused0, a10, unused1);
    out0[0] = dsp::requantize<mode, full_range>(a00, q[0], clamp);
    out1[0] = dsp::requantize<mode, full_range>(a10, q[0], clamp);
  }
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
