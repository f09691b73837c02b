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

// The output stage of one channel in C. The C paths (the exact form, channel tails,
// filters of more than kMaxJobTaps taps) call it through a pointer chosen once per op, so
// that they exist once rather than once per form: the fast form's whole groups run in
// assembly on the core.
using Requantize = int8_t (*)(int32_t acc, const ChannelQuant& q, const dsp::OutputClamp& clamp);
template <RequantMode mode>
int8_t requantize_channel(int32_t acc, const ChannelQuant& q, const dsp::OutputClamp& clamp) {
  return dsp::requantize<mode, false>(acc, q, clamp);
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
  Requantize requantize;
};

void store_group(const Op& op, const Acc4& a, const ChannelQuant* q, int8_t* out, int32_t valid) {
  const int32_t sums[4] = {a.c0, a.c1, a.c2, a.c3};
  for (int32_t k = 0; k < valid && k < 4; ++k) out[k] = op.requantize(sums[k], q[k], op.clamp);
}

// One output pixel, any filter: taps [ky0, ky1) x [kx0, kx1) are inside the input.
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
    store_group(op, a, q, out + c, valid);
  }
}

// What the assembly kernels read: a run of `pixels` output pixels along a row. The taps are
// the first channel of each filter tap of the run's first pixel, row-major, or the
// zero-point pixel for a tap outside the input: its value plus the input offset is 0,
// exactly what skipping the tap adds. A run is one border pixel, or the pixels whose windows
// lie inside the input: they share the taps, each `step` bytes further on, so the taps are
// only rebuilt at the borders.
constexpr int32_t kMaxJobTaps = 25;  // up to 5x5 runs in assembly, larger filters in C
struct TapJob {
  uintptr_t out;                    // 0: the output pixel's address minus start
  int32_t start, end;               // 4, 8: channel byte offsets of the whole groups
  uint32_t act_min4, act_max4;      // 12, 16: the clamp, one byte per channel of a group
  const int8_t* const* taps_end;    // 20: one past the last tap (tap loop only)
  const uint32_t* filter;           // 24
  const ChannelQuant* records;      // 28
  uint32_t offset_pair;             // 32
  int32_t pixels;                   // 36: pixels left in the run, > 0
  int32_t step;                     // 40: input bytes from one pixel to the next
  int32_t out_step;                 // 44: channels - step (out moves by channels)
  const int8_t* taps[kMaxJobTaps];  // 48
};

#if TINYFORGE_HAVE_DSP
static_assert(offsetof(TapJob, taps) == 48, "offsets used by the assembly below");
// One tap of 4 channels: r9 = the tap's first channel, r1 = channel offset, r2 = filter pairs.
// The three loads come first so that they pipeline (sim/README.md: a load directly after a
// load costs 1 cycle, not 2).
#define TF_TAP_BODY                 \
  "ldr r9, [r9, r1]\n\t"            \
  "ldrd r12, lr, [r2], #8\n\t"      \
  "sxtab16 r10, r8, r9\n\t"         \
  "sxtab16 r11, r8, r9, ror #8\n\t" \
  "smlabb r4, r10, r12, r4\n\t"     \
  "smlatt r6, r10, r12, r6\n\t"     \
  "smlabb r5, r11, lr, r5\n\t"      \
  "smlatt r7, r11, lr, r7\n\t"
#define TF_TAP(t) "ldr r9, [r0, #48+" #t "*4]\n\t" TF_TAP_BODY
// The 9 taps of a 3x3 filter, unrolled.
#define TF_TAPS_3X3 \
  TF_TAP(0) TF_TAP(1) TF_TAP(2) TF_TAP(3) TF_TAP(4) TF_TAP(5) TF_TAP(6) TF_TAP(7) TF_TAP(8)
// Any number of taps: r3 (the records, saved on the stack meanwhile) walks the taps.
#define TF_TAPS_LOOP                 \
  "str r3, [sp, #-4]!\n\t"           \
  "add r3, r0, #48\n\t"              \
  "2:\n\t"                           \
  "ldr r9, [r3], #4\n\t" TF_TAP_BODY \
  "ldr r9, [r0, #20]\n\t"            \
  "cmp r3, r9\n\t"                   \
  "bne 2b\n\t"                       \
  "ldr r3, [sp], #4\n\t"
// Channel k of the group (sum in acc): RequantMode::fast, saturated to int8 into acc.
#define TF_OUT(acc, k)          \
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
  "ssat " acc ", #8, lr\n\t"

// The 4 packed outputs in r4 clamped to the job's bounds: SSUB8 sets a GE flag per byte
// where the first operand is not below the second, SEL then picks per byte (Armv7-M ARM,
// A7.7.151 / A7.7.116). The 3x3 kernel also comes without it for full-range ops (SSAT
// already clamps them), the common case of a ReLU whose output zero point is -128.
#define TF_CLAMP4                \
  "ldrd r10, r11, [r0, #12]\n\t" \
  "ssub8 r12, r4, r10\n\t"       \
  "sel r4, r4, r10\n\t"          \
  "ssub8 r12, r11, r4\n\t"       \
  "sel r4, r4, r11\n\t"
#define TF_NO_CLAMP

// Whole groups of 4 channels of the job's pixels, RequantMode::fast, in hand-allocated
// registers: r0 job, r1 channel offset, r2 filter, r3 records, r4-r7 sums of channels
// c..c+3, r8 input offset pair, r9-r12 and lr temporaries. The 4 output bytes are packed
// into one word (BFI) and clamped together (CLAMP: 4 instructions for 4 outputs), and one STR
// stores them.
#define TF_PIXELS(name, TAPS, CLAMP)                                                        \
  TINYFORGE_ASM_FUNCTION void name(TapJob* job) {                                           \
    register TapJob* j asm("r0") = job;                                                     \
    asm volatile(                                                                         \
        "ldr r8, [r0, #32]\n\t"                                                           \
        "3:\n\t"                                                                          \
        "ldr r1, [r0, #4]\n\t"                                                            \
        "ldrd r2, r3, [r0, #24]\n\t"                                                      \
        "1:\n\t"                                                                          \
        "ldr r4, [r3]\n\t"                                                                \
        "ldr r5, [r3, #16]\n\t"                                                           \
        "ldr r6, [r3, #32]\n\t"                                                           \
        "ldr r7, [r3, #48]\n\t" TAPS TF_OUT("r4", 0) TF_OUT("r5", 1) TF_OUT("r6", 2)     \
            TF_OUT("r7", 3)                                                               \
        "bfi r4, r5, #8, #8\n\t"                                                          \
        "bfi r4, r6, #16, #8\n\t"                                                         \
        "bfi r4, r7, #24, #8\n\t"                                                         \
        "ldr r9, [r0]\n\t" CLAMP "str r4, [r9, r1]\n\t"                                 \
        "ldr r9, [r0, #8]\n\t"                                                            \
        "adds r3, r3, #64\n\t"                                                            \
        "adds r1, r1, #4\n\t"                                                             \
        "cmp r1, r9\n\t"                                                                  \
        "bne 1b\n\t"                                                                      \
        "ldrd r9, r10, [r0, #40]\n\t"                                                     \
        "ldrd r11, r12, [r0, #4]\n\t"                                                     \
        "ldr lr, [r0]\n\t"                                                                \
        "add r11, r11, r9\n\t"                                                            \
        "add r12, r12, r9\n\t"                                                            \
        "add lr, lr, r10\n\t"                                                             \
        "strd r11, r12, [r0, #4]\n\t"                                                     \
        "str lr, [r0]\n\t"                                                                \
        "ldr r9, [r0, #36]\n\t"                                                           \
        "subs r9, r9, #1\n\t"                                                             \
        "str r9, [r0, #36]\n\t"                                                           \
        "bne 3b"                                                                          \
        :                                                                                 \
        : "r"(j)                                                                          \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", \
          "cc", "memory"); \
  }
TF_PIXELS(pixels_3x3_fast_full, TF_TAPS_3X3, TF_NO_CLAMP)
TF_PIXELS(pixels_3x3_fast_clamped, TF_TAPS_3X3, TF_CLAMP4)
TF_PIXELS(pixels_taps_fast, TF_TAPS_LOOP, TF_CLAMP4)
#undef TF_PIXELS
#undef TF_CLAMP4
#undef TF_NO_CLAMP
#undef TF_OUT
#undef TF_TAPS_LOOP
#undef TF_TAPS_3X3
#undef TF_TAP
#undef TF_TAP_BODY
#endif

// The last 1..3 channels [c, channels) of an output pixel, one at a time: scalar MACs read
// the filter lane by lane (channel k of a group sits in pair k & 1, lane k >> 1), which
// keeps the registers free that 4 lanes of packed sums would need. Same products and
// wrapping sums as mac_tap.
[[gnu::noinline]] void pixel_tail(const Op& op, const int8_t* const* taps, int32_t taps_n,
                                  int32_t start, int32_t c, int8_t* out) {
  const uint32_t* w = op.filter + (c / 4) * taps_n * 2;
  const int32_t offset = op.p.input_offset;
  for (int32_t k = 0; c + k < op.g.channels; ++k) {
    const ChannelQuant& q = op.q[c + k];
    int32_t acc = q.bias;
    for (int32_t t = 0; t < taps_n; ++t) {
      const uint32_t pair = w[2 * t + (k & 1)];
      const int32_t weight = k < 2 ? dsp::lane0(pair) : dsp::lane1(pair);
      acc = dsp::wrap_add(acc, (taps[t][start + c + k] + offset) * weight);
    }
    out[c + k] = op.requantize(acc, q, op.clamp);
  }
}

// The job's `n` pixels from `out` on. Whole groups of 4
// channels take the assembly kernels in fast mode, else C; the last channels of a count
// that is not a multiple of 4, pixel_tail.
void run_pixels(const Op& op, TapJob& job, int8_t* out, int32_t n) {
  const int32_t taps = op.g.taps;
  const int32_t channels = op.g.channels;
  const int32_t groups_end = channels & ~3;
  int32_t assembly_end = 0;  // channels done by the assembly
#if TINYFORGE_HAVE_DSP
  if ((!kImageExactRequant || op.p.requant == static_cast<int32_t>(RequantMode::fast)) &&
      groups_end > 0) {
    // The assembly stores at out - start + channel offset; start moves on by step per pixel.
    job.out = reinterpret_cast<uintptr_t>(out);
    job.start = 0;
    job.end = groups_end;
    job.pixels = n;
    if (taps == 9 && dsp::is_full_range(op.clamp.act_min, op.clamp.act_max))
      pixels_3x3_fast_full(&job);
    else if (taps == 9)
      pixels_3x3_fast_clamped(&job);
    else
      pixels_taps_fast(&job);
    assembly_end = groups_end;
    if (assembly_end == channels) return;
  }
#endif
  for (int32_t i = 0, start = 0; i < n; ++i, start += job.step, out += channels) {
    int32_t c = assembly_end;
    for (; c < groups_end; c += 4) {
      const uint32_t* w = op.filter + 2 * taps * (c / 4);
      const ChannelQuant* q = op.q + c;
      Acc4 a = {q[0].bias, q[1].bias, q[2].bias, q[3].bias};
      for (int32_t t = 0; t < taps; ++t)
        mac_tap(a, dsp::load32(job.taps[t] + start + c), w + 2 * t, op.offset_pair);
      store_group(op, a, q, out + c, 4);
    }
    if (c < channels) pixel_tail(op, job.taps, taps, start, c, out);
  }
}

// Points job.taps at the taps of the output pixel whose window starts at column ix0 of the
// filter rows `row_of` (nullptr for a row outside the input); taps outside the input point
// at the zero-point pixel. Out of line: run()'s loops keep their registers (0.1 % fewer
// cycles on KWS).
[[gnu::noinline]] void point_taps(const Op& op, const int8_t* const* row_of, int32_t ix0,
                                  const int8_t* zero_pixel, TapJob& job) {
  const DepthwiseConv2DDspParams& p = op.p;
  for (int32_t kx = 0, ix = ix0; kx < p.filter_w; ++kx, ix += p.dilation_w) {
    const bool column_inside = ix >= 0 && ix < op.g.in_w;
    const int32_t at = ix * op.g.channels;
    const int8_t** tap = job.taps + kx;
    for (int32_t ky = 0; ky < p.filter_h; ++ky, tap += p.filter_w)
      *tap = column_inside && row_of[ky] ? row_of[ky] + at : zero_pixel;
  }
}

// Whether a window of `filter` taps `dilation` apart starting at `i0` lies inside [0, n).
bool window_inside(int32_t i0, int32_t filter, int32_t dilation, int32_t n) {
  return i0 >= 0 && i0 + (filter - 1) * dilation < n;
}

void run(const Op& op, int8_t* rows, const int8_t* zero_pixel) {
  const DepthwiseConv2DDspParams& p = op.p;
  const Geometry& g = op.g;
  const bool by_taps = g.taps <= kMaxJobTaps;
  const int32_t out_row = g.out_w * g.channels;
  const int32_t in_row = g.in_w * g.channels;
  TapJob job;
  job.act_min4 = dsp::bytes4(op.clamp.act_min);
  job.act_max4 = dsp::bytes4(op.clamp.act_max);
  job.taps_end = job.taps + g.taps;
  job.filter = op.filter;
  job.records = op.q;
  job.offset_pair = op.offset_pair;
  job.step = p.stride_w * g.channels;
  job.out_step = g.channels - job.step;
  const auto columns_inside = [&](int32_t ox) {
    return window_inside(ox * p.stride_w - p.pad_left, p.filter_w, p.dilation_w, g.in_w);
  };
  int8_t* out = op.output;
  int32_t written = 0;  // a computed row waits in `rows` until the next one is computed
  for (int32_t b = 0; b < g.batches; ++b) {
    const int8_t* batch_in = op.input + b * g.in_h * in_row;
    for (int32_t oy = 0; oy < g.out_h; ++oy) {
      const int32_t r = b * g.out_h + oy;
      int8_t* row = rows + (r & 1) * out_row;
      const int32_t iy0 = oy * p.stride_h - p.pad_top;
      const bool rows_inside = window_inside(iy0, p.filter_h, p.dilation_h, g.in_h);
      const int8_t* row_of[kMaxJobTaps];  // the filter rows (by_taps: at most kMaxJobTaps)
      for (int32_t ky = 0, iy = iy0; by_taps && ky < p.filter_h; ++ky, iy += p.dilation_h)
        row_of[ky] = iy >= 0 && iy < g.in_h ? batch_in + iy * in_row : nullptr;
      for (int32_t ox = 0; ox < g.out_w;) {
        const int32_t ix0 = ox * p.stride_w - p.pad_left;
        int8_t* px = row + ox * g.channels;
        if (!by_taps) {
          pixel_generic(op, batch_in, iy0, ix0, px);
          ++ox;
          continue;
        }
        int32_t n = 1;  // a border pixel, or all the inside pixels from here on
        if (rows_inside && columns_inside(ox))
          while (ox + n < g.out_w && columns_inside(ox + n)) ++n;
        point_taps(op, row_of, ix0, zero_pixel, job);
        run_pixels(op, job, px, n);
        ox += n;
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
              dsp::pair(p.input_offset, p.input_offset),
              !kImageExactRequant || p.requant == static_cast<int32_t>(RequantMode::fast)
                  ? requantize_channel<RequantMode::fast>
                  : requantize_channel<RequantMode::exact>};
  int8_t* rows = reinterpret_cast<int8_t*>(io.scratch);
  int8_t* zero_pixel = rows + 2 * op.g.out_w * op.g.channels;
  for (int32_t c = 0; c < op.g.channels; ++c) zero_pixel[c] = static_cast<int8_t>(-p.input_offset);
  run(op, rows, zero_pixel);
}

}  // namespace tinyforge
