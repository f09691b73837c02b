// FullyConnectedDsp: int8 fully connected layer, 6 units (3 dual-channel pairs) at a time
// with the filter words of tinyforge/packed.h.
//
// The input offset is folded into each unit's bias offline (bias + input_offset * sum of
// the unit's weights), so input bytes are used as they are: per group of 4 inputs one load
// and 2 extends shared by the 6 units, then per pair of units one filter load and 4 SMLADs
// around 2 extends done in place: 24 instructions for 24 MACs.
//
// Bit-exact with the reference FullyConnected: sum(w * (x + offset)) + bias equals
// sum(w * x) + (bias + offset * sum(w)) modulo 2^32, then the same output stage.
// In-place safety: none claimed (every output reads the whole input row).
#include <cstddef>

#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/armv7em/requantize.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

using dsp_checks::ceil_div;
constexpr int32_t kPairs = kFcUnitsPerRow / 2;

struct Shape {
  int32_t rows, depth, units;
};

// Element counts of a checked int8 view fit its uint32 byte count: 32-bit divisions (UDIV)
// instead of a 64-bit library call in every image.
uint32_t count32(const TensorView& v) { return static_cast<uint32_t>(view::element_count(v)); }

Shape shape(const KernelIO& io) {
  const TensorView& out = io.out[0];
  const int32_t units = out.dims[out.rank - 1];
  const uint32_t rows = count32(out) / static_cast<uint32_t>(units);
  return {static_cast<int32_t>(rows), static_cast<int32_t>(count32(io.in[0]) / rows), units};
}

// The word of 4 inputs of a group; a partial last group reads only the bytes that exist
// (the rest are 0 and meet 0 weights).
inline uint32_t input_word(const int8_t* x, int32_t remaining) {
  if (remaining >= 4) return dsp::load32(x);
  uint32_t v = 0;
  for (int32_t b = 0; b < remaining; ++b)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(x[b])) << (8 * b);
  return v;
}

inline int32_t b_share(int32_t t, int32_t s) {
  return static_cast<int32_t>(static_cast<uint32_t>(t) - static_cast<uint32_t>(s)) >> 8;
}

// acc[u] = bias[u] + row . unit u for the kFcUnitsPerRow units of one filter row.
void dot_row(const int8_t* x, int32_t depth, int32_t run, const uint32_t* w,
             int32_t acc[kFcUnitsPerRow]) {
  const int32_t groups = ceil_div(depth, 4);
  for (int32_t g = 0; g < groups;) {
    const int32_t n = groups - g < run ? groups - g : run;
    int32_t s[kPairs], t[kPairs];
    for (int32_t k = 0; k < kPairs; ++k) s[k] = t[k] = acc[2 * k];
    for (const int32_t end = g + n; g < end; ++g, x += 4, w += 2 * kPairs) {
      const uint32_t raw = input_word(x, depth - 4 * g);
      const uint32_t xe = dsp::sxtb16(raw), xo = dsp::sxtb16_ror8(raw);
      for (int32_t k = 0; k < kPairs; ++k) {
        t[k] = dsp::smlad(xo, w[2 * k + 1], dsp::smlad(xe, w[2 * k], t[k]));
        s[k] =
            dsp::smlad(xo, dsp::sxtb16(w[2 * k + 1]), dsp::smlad(xe, dsp::sxtb16(w[2 * k]), s[k]));
      }
    }
    for (int32_t k = 0; k < kPairs; ++k) {
      acc[2 * k] = s[k];
      acc[2 * k + 1] = dsp::wrap_add(acc[2 * k + 1], b_share(t[k], s[k]));
    }
  }
}

#if TINYFORGE_HAVE_DSP
// State of rows_fast in memory (its registers are all taken by the inner loop).
struct RowJob {
  const int8_t* x;           // 0: the input row
  const uint32_t* w;         // 4: first filter row (rows are consecutive)
  const ChannelQuant* q;     // 8: its records (advanced by 6 per row)
  int8_t* out;               // 12: advanced by 6 per row
  int32_t rows;              // 16: filter rows left, >= 1
  int32_t groups;            // 20: groups of 4 inputs per row (depth / 4), >= 1
  int32_t b[3];              // 24, 28, 32: sums of units 1, 3, 5
  int32_t left;              // 36: groups of the row not yet run
  int32_t act_min, act_max;  // 40, 44
  int32_t run;               // 48: groups per run
};
static_assert(offsetof(RowJob, run) == 48, "offsets used by the assembly below");

// One pair of units: t += x . (A + 256 B) with the raw words (loaded by LOAD), then in
// place SXTB16 and s += x . A (xe r10, xo r11).
#define TF_FC_LOAD "ldrd r12, lr, [r2], #8\n\t"
#define TF_FC_PAIR(s, t, LOAD)     \
  LOAD "smlad " t ", r10, r12, " t \
       "\n\t"                      \
       "smlad " t ", r11, lr, " t  \
       "\n\t"                      \
       "sxtb16 r12, r12\n\t"       \
       "sxtb16 lr, lr\n\t"         \
       "smlad " s ", r10, r12, " s \
       "\n\t"                      \
       "smlad " s ", r11, lr, " s "\n\t"
// The first pair's filter words load right behind the input word (a load directly after
// another costs one cycle less on the M4).
#define TF_FC_GROUP                                                                         \
  "ldr r11, [r1], #4\n\t" TF_FC_LOAD                                                        \
  "sxtb16 r10, r11\n\t"                                                                     \
  "sxtb16 r11, r11, ror #8\n\t" TF_FC_PAIR("r4", "r5", ) TF_FC_PAIR("r6", "r7", TF_FC_LOAD) \
      TF_FC_PAIR("r8", "r9", TF_FC_LOAD)
// B's share of pair k: b[k] += (t - s) / 256.
#define TF_FC_SHARE(s, t, off)   \
  "ldr r12, [r0, #" #off         \
  "]\n\t"                        \
  "sub lr, " t ", " s            \
  "\n\t"                         \
  "add r12, r12, lr, asr #8\n\t" \
  "str r12, [r0, #" #off "]\n\t"
// RequantMode::fast of accumulator `v` with record k of r3 (requantize.h), stored at r1.
#define TF_FC_OUT(v, k, CLAMP)  \
  "ldr r10, [r3, #" #k          \
  "*16+4]\n\t"                  \
  "ldrd r11, r12, [r3, #" #k    \
  "*16+8]\n\t"                  \
  "qadd lr, " v ", " v          \
  "\n\t"                        \
  "smmlar lr, lr, r10, r12\n\t" \
  "add lr, lr, " v              \
  ", asr #31\n\t"               \
  "asr lr, lr, r11\n\t"         \
  "ssat lr, #8, lr\n\t" CLAMP "strb lr, [r1], #1\n\t"
#define TF_FC_CLAMP              \
  "ldrd r10, r11, [r0, #40]\n\t" \
  "cmp lr, r10\n\t"              \
  "it lt\n\t"                    \
  "movlt lr, r10\n\t"            \
  "cmp lr, r11\n\t"              \
  "it gt\n\t"                    \
  "movgt lr, r11\n\t"
#define TF_FC_NO_CLAMP

// Whole filter rows, RequantMode::fast, in hand-allocated registers: r0 job, r1 input,
// r2 filter, r3 run end, r4-r9 sums (s, t of pairs 0..2), r10/r11 the input lanes,
// r12/lr filter words; two groups per turn of the inner loop.
#define TF_ROWS_FAST(name, CLAMP)                                                                     \
  TINYFORGE_ASM_FUNCTION void name(RowJob* job) {                                                     \
    register RowJob* j asm("r0") = job;                                                               \
    asm volatile(                                                                                   \
        "ldr r2, [r0, #4]\n\t"                                                                      \
        "1:\n\t"                                                                                    \
        "ldr r3, [r0, #8]\n\t"                                                                      \
        "ldr r4, [r3]\n\t"                                                                          \
        "ldr r6, [r3, #32]\n\t"                                                                     \
        "ldr r8, [r3, #64]\n\t"                                                                     \
        "ldr r10, [r3, #16]\n\t"                                                                    \
        "str r10, [r0, #24]\n\t"                                                                    \
        "ldr r10, [r3, #48]\n\t"                                                                    \
        "str r10, [r0, #28]\n\t"                                                                    \
        "ldr r10, [r3, #80]\n\t"                                                                    \
        "str r10, [r0, #32]\n\t"                                                                    \
        "ldr r1, [r0]\n\t"                                                                          \
        "ldr r10, [r0, #20]\n\t"                                                                    \
        "2:\n\t"                                                                                    \
        "mov r5, r4\n\t"                                                                            \
        "mov r7, r6\n\t"                                                                            \
        "mov r9, r8\n\t"                                                                            \
        "ldr r11, [r0, #48]\n\t"                                                                    \
        "cmp r10, r11\n\t"                                                                          \
        "it le\n\t"                                                                                 \
        "movle r11, r10\n\t"                                                                        \
        "sub r10, r10, r11\n\t"                                                                     \
        "str r10, [r0, #36]\n\t"                                                                    \
        "add r3, r11, r11, lsl #1\n\t"                                                              \
        "add r3, r2, r3, lsl #3\n\t"                                                                \
        "tst r11, #1\n\t"                                                                           \
        "beq 3f\n\t" TF_FC_GROUP                                                                    \
        "3:\n\t"                                                                                    \
        "cmp r2, r3\n\t"                                                                            \
        "beq 5f\n\t"                                                                                \
        "4:\n\t" TF_FC_GROUP TF_FC_GROUP                                                            \
        "cmp r2, r3\n\t"                                                                            \
        "bne 4b\n\t"                                                                                \
        "5:\n\t" TF_FC_SHARE("r4", "r5", 24) TF_FC_SHARE("r6", "r7", 28) TF_FC_SHARE("r8", "r9", 32)    \
        "ldr r10, [r0, #36]\n\t"                                                                    \
        "cmp r10, #0\n\t"                                                                           \
        "bne 2b\n\t"                                                                                \
        "ldr r3, [r0, #8]\n\t"                                                                      \
        "ldr r1, [r0, #12]\n\t"                                                                     \
        "ldrd r5, r7, [r0, #24]\n\t"                                                                \
        "ldr r9, [r0, #32]\n\t" TF_FC_OUT("r4", 0, CLAMP) TF_FC_OUT("r5", 1, CLAMP)                   \
            TF_FC_OUT("r6", 2, CLAMP) TF_FC_OUT("r7", 3, CLAMP) TF_FC_OUT("r8", 4, CLAMP)              \
                TF_FC_OUT("r9", 5, CLAMP)                                                           \
        "str r1, [r0, #12]\n\t"                                                                     \
        "add r3, r3, #96\n\t"                                                                       \
        "str r3, [r0, #8]\n\t"                                                                      \
        "ldr r10, [r0, #16]\n\t"                                                                    \
        "subs r10, r10, #1\n\t"                                                                     \
        "str r10, [r0, #16]\n\t"                                                                    \
        "bne 1b"                                                                                    \
        :                                                                                           \
        : "r"(j)                                                                                    \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc",     \
          "memory"); \
  }
TF_ROWS_FAST(rows_fast_full, TF_FC_NO_CLAMP)
TF_ROWS_FAST(rows_fast_clamped, TF_FC_CLAMP)
#undef TF_ROWS_FAST
#undef TF_FC_PAIR
#undef TF_FC_LOAD
#undef TF_FC_GROUP
#undef TF_FC_SHARE
#undef TF_FC_OUT
#undef TF_FC_CLAMP
#undef TF_FC_NO_CLAMP
#endif

template <RequantMode mode, bool full_range>
void run(const Shape& s, int32_t run, const int8_t* input, const uint32_t* filter,
         const ChannelQuant* q, const dsp::OutputClamp& clamp, int8_t* output) {
  const int32_t row_words = kFcUnitsPerRow * ceil_div(s.depth, 4);
  for (int32_t r = 0; r < s.rows; ++r, input += s.depth) {
    const uint32_t* w = filter;
    int32_t u = 0;
#if TINYFORGE_HAVE_DSP
    // Rows of whole groups in assembly: whole filter rows into the output, a last partial
    // row (its records are padded, packed.h) into a buffer of which only its units are kept.
    if (mode == RequantMode::fast && s.depth % 4 == 0) {
      void (*rows_fast)(RowJob*) =
          dsp::is_full_range(clamp.act_min, clamp.act_max) ? rows_fast_full : rows_fast_clamped;
      const int32_t rows = s.units / kFcUnitsPerRow;
      if (rows > 0) {
        RowJob job{input,         w,  q, output, rows, s.depth / 4, {0, 0, 0}, 0, clamp.act_min,
                   clamp.act_max, run};
        rows_fast(&job);
      }
      u = rows * kFcUnitsPerRow;
      w += rows * row_words;
      output += u;
      if (u < s.units) {
        int8_t last[kFcUnitsPerRow];
        RowJob job{input,     w, q + u,         last,          1,  s.depth / 4,
                   {0, 0, 0}, 0, clamp.act_min, clamp.act_max, run};
        rows_fast(&job);
        for (int32_t k = 0; k < s.units - u; ++k) *output++ = last[k];
      }
      continue;
    }
#endif
    for (; u < s.units; u += kFcUnitsPerRow, w += row_words) {
      const int32_t valid = s.units - u < kFcUnitsPerRow ? s.units - u : kFcUnitsPerRow;
      int32_t acc[kFcUnitsPerRow];
      for (int32_t k = 0; k < kFcUnitsPerRow; ++k) acc[k] = k < valid ? q[u + k].bias : 0;
      dot_row(input, s.depth, run, w, acc);
      for (int32_t k = 0; k < valid; ++k)
        *output++ = dsp::requantize<mode, full_range>(acc[k], q[u + k], clamp);
    }
  }
}

}  // namespace

Status check_FullyConnectedDsp(const FullyConnectedDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.rank < 1 || out.rank < 1 || !dsp_checks::is_int8_activation(in, in.rank) ||
      !dsp_checks::is_int8_activation(out, out.rank))
    return Status::bad_shape;
  const int32_t units = out.dims[out.rank - 1];
  const int32_t filter_rows = ceil_div(units, kFcUnitsPerRow);
  // Records of every unit of every filter row (the last row's padding included).
  if (!dsp_checks::is_channel_records(io.in[2], filter_rows * kFcUnitsPerRow))
    return Status::bad_shape;
  const uint32_t rows = count32(out) / static_cast<uint32_t>(units);
  const uint32_t elements = count32(in);
  if (rows < 1 || elements % rows != 0) return Status::bad_shape;
  const uint32_t depth = elements / rows;
  if (depth > checks::kMaxExtent ||
      !dsp_checks::is_words(io.in[1], filter_rows, kFcUnitsPerRow * ((int64_t{depth} + 3) / 4)))
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, 0, p.output_offset, p.act_min, p.act_max) ||
      p.run_groups < kDualChunkGroups)
    return Status::bad_params;
  return Status::ok;
}

void eval_FullyConnectedDsp(const FullyConnectedDspParams& p, const KernelIO& io) {
  const Shape s = shape(io);
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    run<decltype(mode)::value, decltype(full_range)::value>(
        s, p.run_groups, io.in[0].as<const int8_t>(), io.in[1].as<const uint32_t>(),
        io.in[2].as<const ChannelQuant>(), clamp, io.out[0].as<int8_t>());
  });
}

}  // namespace tinyforge
