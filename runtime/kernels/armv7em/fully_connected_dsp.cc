// FullyConnectedDsp: int8 fully connected layer, 6 units (3 dual-channel pairs) at a time
// with the filter words of tinyforge/packed.h.
//
// The input offset is folded into each unit's bias offline (bias + input_offset * sum of
// the unit's weights), so input bytes are used as they are: per group of 4 inputs one load
// and 2 extends shared by the 6 units, then per pair of units one filter load and 4 SMLADs
// around 2 extends done in place: 24 instructions, 29 estimated M4 cycles for 24 MACs (the
// batch-1 bound and where the cycles go: docs/dsp-kernels.md).
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
  const int8_t* x;        // 0: the input row
  const uint32_t* w;      // 4: first filter row (rows are consecutive)
  const ChannelQuant* q;  // 8: its records (advanced by 6 per row)
  int8_t* out;            // 12: advanced by 6 per row
  int32_t rows;           // 16: filter rows left, >= 1
  int32_t groups;         // 20: groups of 4 inputs per row (x padded to whole groups), >= 1
  uint32_t min4, max4;    // 24, 28: the clamp's bounds in all 4 bytes
  int32_t run;            // 32: groups per run
  int32_t clamped;        // 36: 0 for a full-range output (no clamp)
};
static_assert(offsetof(RowJob, clamped) == 36, "offsets used by the assembly below");

// One pair of units with filter words a, b: t += x . (A + 256 B) with the raw words, then
// in place SXTB16 and s += x . A (input lanes xe r10, xo r11).
#define TF_FC_PAIR(s, t, a, b)  \
  "smlad " t ", r10, " a ", " t \
  "\n\t"                        \
  "smlad " t ", r11, " b ", " t \
  "\n\t"                        \
  "sxtb16 " a ", " a            \
  "\n\t"                        \
  "sxtb16 " b ", " b            \
  "\n\t"                        \
  "smlad " s ", r10, " a ", " s \
  "\n\t"                        \
  "smlad " s ", r11, " b ", " s "\n\t"
// A group of 4 inputs for the 6 units. Its 7 words load in two chains (a load directly
// after another costs one cycle less): the input word and pairs 0 and 1's filter words,
// then pair 2's while pairs 0 and 1 have freed their registers. END (the last group of a
// turn) reloads the run's end behind that second chain.
#define TF_FC_GROUP(END)                                                        \
  "ldr r11, [r1], #4\n\t"                                                       \
  "ldrd r12, lr, [r2], #8\n\t"                                                  \
  "ldrd r0, r3, [r2], #8\n\t"                                                   \
  "sxtb16 r10, r11\n\t"                                                         \
  "sxtb16 r11, r11, ror #8\n\t" TF_FC_PAIR("r4", "r5", "r12", "lr") TF_FC_PAIR( \
      "r6", "r7", "r0", "r3") "ldrd r12, lr, [r2], #8\n\t" END TF_FC_PAIR("r8", "r9", "r12", "lr")
#define TF_FC_END "ldr r0, [sp]\n\t"
#define TF_FC_NO_END
// RequantMode::fast (requantize.h) of accumulator `v` with record k of r3, into lr.
#define TF_FC_REQUANT(v, k)     \
  "ldr r10, [r3, #" #k          \
  "*16+4]\n\t"                  \
  "ldrd r11, r12, [r3, #" #k    \
  "*16+8]\n\t"                  \
  "qadd lr, " v ", " v          \
  "\n\t"                        \
  "smmlar lr, lr, r10, r12\n\t" \
  "add lr, lr, " v              \
  ", asr #31\n\t"               \
  "asr lr, lr, r11\n\t"
// Full range: each output stored as it comes (the next record's load then follows a store).
#define TF_FC_OUT_FULL \
  TF_FC_REQUANT("r4", 0) "ssat lr, #8, lr\n\t"                     \
                         "strb lr, [r1], #1\n\t" TF_FC_REQUANT(    \
                             "r5", 1) "ssat lr, #8, lr\n\t"        \
                                      "strb lr, [r1], #1\n\t"      \
      TF_FC_REQUANT("r6", 2) "ssat lr, #8, lr\n\t"                 \
                             "strb lr, [r1], #1\n\t" TF_FC_REQUANT( \
                                 "r7", 3) "ssat lr, #8, lr\n\t"    \
                                          "strb lr, [r1], #1\n\t"  \
      TF_FC_REQUANT("r8", 4) "ssat lr, #8, lr\n\t"                 \
                             "strb lr, [r1], #1\n\t" TF_FC_REQUANT( \
                                 "r9", 5) "ssat lr, #8, lr\n\t"    \
                                          "strb lr, [r1], #1\n\t"
// Clamped: units 0-3 packed into r4 and units 4-5 into r8 (BFI), each word clamped 4 bytes
// at a time (SSUB8 sets a GE flag per byte, SEL picks by them; bounds in r0 and r2), then
// one STR and one STRH (the M4 stores at any alignment).
#define TF_FC_OUT_CLAMPED \
  TF_FC_REQUANT("r4", 0) "ssat r4, #8, lr\n\t" TF_FC_REQUANT("r5", 1) "ssat lr, #8, lr\n\t" \
                                                                      "bfi r4, lr, #8, #8\n\t" \
      TF_FC_REQUANT("r6", 2) "ssat lr, #8, lr\n\t"                                      \
                             "bfi r4, lr, #16, #8\n\t" TF_FC_REQUANT("r7", 3)           \
                                 "ssat lr, #8, lr\n\t"                                  \
                                 "bfi r4, lr, #24, #8\n\t" TF_FC_REQUANT("r8", 4)       \
                                     "ssat r8, #8, lr\n\t" TF_FC_REQUANT("r9", 5)       \
                                         "ssat lr, #8, lr\n\t"                          \
                                         "bfi r8, lr, #8, #8\n\t"                       \
                                         "ldr r10, [sp, #4]\n\t"                        \
                                         "ldrd r0, r2, [r10, #24]\n\t"                  \
                                         "ssub8 r11, r4, r0\n\t"                        \
                                         "sel r4, r4, r0\n\t"                           \
                                         "ssub8 r11, r2, r4\n\t"                        \
                                         "sel r4, r4, r2\n\t"                           \
                                         "ssub8 r11, r8, r0\n\t"                        \
                                         "sel r8, r8, r0\n\t"                           \
                                         "ssub8 r11, r2, r8\n\t"                        \
                                         "sel r8, r8, r2\n\t"                           \
                                         "str r4, [r1], #4\n\t"                         \
                                         "strh r8, [r1], #2\n\t"

// Whole filter rows, RequantMode::fast. Registers in the inner loop: r1 input, r2 filter,
// r4-r9 the sums (s, t of pairs 0..2), r10/r11 the input lanes, r0/r3/r12/lr filter words.
// The stack frame holds [sp] the run's filter end (in the clamped output stage the next
// row's filter: r2 holds a bound there), [sp+4] the job, [sp+8] the groups left,
// [sp+12..20] the sums of units 1, 3, 5, [sp+24] the run length and [sp+28] the clamp flag. The
// loop runs 4 groups per turn; a run of n groups enters it at group (-n) & 3 (TBB), so no group is
// handled outside it. One function for both output stages (the clamped one out of line): one copy
// of the loop in the image.
TINYFORGE_ASM_FUNCTION void rows_fast(RowJob* job) {
  register RowJob* j asm("r0") = job;
  asm volatile(
        "sub sp, sp, #32\n\t"
        "str r0, [sp, #4]\n\t"
        "ldr r1, [r0, #32]\n\t"
        "str r1, [sp, #24]\n\t"
        "ldr r1, [r0, #36]\n\t"
        "str r1, [sp, #28]\n\t"
        "ldr r2, [r0, #4]\n\t"
        "1:\n\t"  // r0: the job
        "ldr r3, [r0, #8]\n\t"
        "ldr r4, [r3]\n\t"
        "ldr r6, [r3, #32]\n\t"
        "ldr r8, [r3, #64]\n\t"
        "ldr r10, [r3, #16]\n\t"
        "ldr r11, [r3, #48]\n\t"
        "ldr r12, [r3, #80]\n\t"
        "str r10, [sp, #12]\n\t"
        "str r11, [sp, #16]\n\t"
        "str r12, [sp, #20]\n\t"
        "ldr r1, [r0]\n\t"
        "ldr r10, [r0, #20]\n\t"
        "2:\n\t"
        "ldr r3, [sp, #24]\n\t"
        "cmp r10, r3\n\t"
        "it lt\n\t"
        "movlt r3, r10\n\t"
        "sub r10, r10, r3\n\t"
        "str r10, [sp, #8]\n\t"
        "add r10, r3, r3, lsl #1\n\t"
        "add r10, r2, r10, lsl #3\n\t"
        "str r10, [sp]\n\t"
        "mov r5, r4\n\t"
        "mov r7, r6\n\t"
        "mov r9, r8\n\t"
        "rsb r3, r3, #0\n\t"
        "and r3, r3, #3\n\t"
        "tbb [pc, r3]\n\t"
        "3:\n\t"
        ".byte (4f - 3b) / 2, (5f - 3b) / 2, (6f - 3b) / 2, (7f - 3b) / 2\n\t"
        "4:\n\t" TF_FC_GROUP(TF_FC_NO_END) "5:\n\t" TF_FC_GROUP(TF_FC_NO_END) "6:\n\t" TF_FC_GROUP(
            TF_FC_NO_END) "7:\n\t" TF_FC_GROUP(TF_FC_END)
        "cmp r2, r0\n\t"
        "bne 4b\n\t"  // B sums of units 1, 3, 5 into r5, r7, r9 (t is reset per run)
        "ldr r10, [sp, #8]\n\t"
        "ldrd r11, r12, [sp, #12]\n\t"
        "sub lr, r5, r4\n\t"
        "add r5, r11, lr, asr #8\n\t"
        "sub lr, r7, r6\n\t"
        "add r7, r12, lr, asr #8\n\t"
        "ldr r11, [sp, #20]\n\t"
        "sub lr, r9, r8\n\t"
        "add r9, r11, lr, asr #8\n\t"
        "cmp r10, #0\n\t"
        "bne 11f\n\t"
        "ldr r0, [sp, #4]\n\t"
        "ldr r3, [r0, #8]\n\t"
        "ldr r1, [r0, #12]\n\t"
        "ldr r10, [sp, #28]\n\t"
        "cmp r10, #0\n\t"
        "bne 8f\n\t" TF_FC_OUT_FULL
        "9:\n\t"  // r0 the job, r2 the next row's filter
        "str r1, [r0, #12]\n\t"
        "add r3, r3, #96\n\t"
        "str r3, [r0, #8]\n\t"
        "ldr r10, [r0, #16]\n\t"
        "subs r10, r10, #1\n\t"
        "str r10, [r0, #16]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #32\n\t"
        "b 10f\n\t"
        "8:\n\t"
        "str r2, [sp]\n\t" TF_FC_OUT_CLAMPED
        "ldr r2, [sp]\n\t"
        "ldr r0, [sp, #4]\n\t"
        "b 9b\n\t"
        "11:\n\t"  // more runs: the B sums back to the frame
        "strd r5, r7, [sp, #12]\n\t"
        "str r9, [sp, #20]\n\t"
        "b 2b\n\t"
        "10:"
        : "+r"(j)
        :
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc",
          "memory");
}
#undef TF_FC_PAIR
#undef TF_FC_GROUP
#undef TF_FC_END
#undef TF_FC_NO_END
#undef TF_FC_REQUANT
#undef TF_FC_OUT_FULL
#undef TF_FC_OUT_CLAMPED
#endif

#if TINYFORGE_HAVE_DSP
// One input row through the assembly (RequantMode::fast): whole filter rows into the
// output, a last partial row (its records are padded, packed.h) into a buffer of which only
// its units are kept. x holds whole groups (depth rounded up to 4). Inlined, with one job,
// so that the call adds no frame to the stack.
[[gnu::always_inline]] inline void fast_row(const Shape& s, int32_t run, const int8_t* x,
                                            const uint32_t* w, const ChannelQuant* q,
                                            const dsp::OutputClamp& clamp, int8_t* output) {
  const int32_t groups = ceil_div(s.depth, 4);
  const int32_t rows = s.units / kFcUnitsPerRow, u = rows * kFcUnitsPerRow;
  RowJob job{x,
             w,
             q,
             output,
             rows,
             groups,
             dsp::bytes4(clamp.act_min),
             dsp::bytes4(clamp.act_max),
             run,
             dsp::is_full_range(clamp.act_min, clamp.act_max) ? 0 : 1};
  if (rows > 0) rows_fast(&job);  // advances job.q and job.out past the rows
  if (u == s.units) return;
  int8_t last[kFcUnitsPerRow];
  job.w = w + u * groups;
  job.out = last;
  job.rows = 1;
  rows_fast(&job);
  for (int32_t k = 0; k < s.units - u; ++k) output[u + k] = last[k];
}

// Depths that are not a multiple of 4, up to kPaddedDepth: the input row is copied into a
// buffer zero-padded to whole groups (the filter's padding weights are 0 too), so the
// assembly never reads past the input. A frame of its own: other layers' stack stays as it is.
constexpr int32_t kPaddedDepth = 256;
[[gnu::noinline]] void fast_row_padded(const Shape& s, int32_t run, const int8_t* x,
                                       const uint32_t* w, const ChannelQuant* q,
                                       const dsp::OutputClamp& clamp, int8_t* output) {
  alignas(4) int8_t row[kPaddedDepth];
  __builtin_memcpy(row, x, static_cast<uint32_t>(s.depth));  // builtin: -ffreestanding
  for (int32_t i = s.depth; i % 4 != 0; ++i) row[i] = 0;
  fast_row(s, run, row, w, q, clamp, output);
}
#endif

// One input row in C (the exact output stage, and depths the assembly does not take). A frame
// of its own: its sums stay off the stack of the assembly path (AD01's deepest).
template <RequantMode mode, bool full_range>
[[gnu::noinline]] void row_in_c(const Shape& s, int32_t run, const int8_t* input,
                                const uint32_t* filter, const ChannelQuant* q,
                                const dsp::OutputClamp& clamp, int8_t* output) {
  const int32_t row_words = kFcUnitsPerRow * ceil_div(s.depth, 4);
  int8_t* out = output;
  const uint32_t* w = filter;
  for (int32_t u = 0; u < s.units; u += kFcUnitsPerRow, w += row_words) {
    const int32_t valid = s.units - u < kFcUnitsPerRow ? s.units - u : kFcUnitsPerRow;
    int32_t acc[kFcUnitsPerRow];
    for (int32_t k = 0; k < kFcUnitsPerRow; ++k) acc[k] = k < valid ? q[u + k].bias : 0;
    dot_row(input, s.depth, run, w, acc);
    for (int32_t k = 0; k < valid; ++k)
      *out++ = dsp::requantize<mode, full_range>(acc[k], q[u + k], clamp);
  }
}

template <RequantMode mode, bool full_range>
void run(const Shape& s, int32_t run, const int8_t* input, const uint32_t* filter,
         const ChannelQuant* q, const dsp::OutputClamp& clamp, int8_t* output) {
  for (int32_t r = 0; r < s.rows; ++r, input += s.depth, output += s.units) {
#if TINYFORGE_HAVE_DSP
    if (mode == RequantMode::fast && s.depth % 4 == 0) {
      fast_row(s, run, input, filter, q, clamp, output);
      continue;
    }
    if (mode == RequantMode::fast && s.depth <= kPaddedDepth) {
      fast_row_padded(s, run, input, filter, q, clamp, output);
      continue;
    }
#endif
    row_in_c<mode, full_range>(s, run, input, filter, q, clamp, output);
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
