// FullyConnectedDsp: int8 fully connected layer, 4 units at a time with the dual-channel
// filter words of tinyforge/packed.h.
//
// The input offset is folded into each unit's bias offline (bias + input_offset * sum of
// the unit's weights), so input bytes are used as they are: per group of 4 inputs one load
// and 2 extends shared by the 4 units, then per pair of units one filter load, 2 extends and
// 4 SMLADs: 19 instructions for 16 MACs with the loop.
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

struct Shape {
  int32_t rows, depth, units;
};

Shape shape(const KernelIO& io) {
  const int32_t units = io.in[2].dims[0];
  return {static_cast<int32_t>(view::element_count(io.out[0]) / units),
          static_cast<int32_t>(view::element_count(io.in[0]) / (view::element_count(io.out[0]) / units)), units};
}

// The word of 4 inputs of group g of a row of `depth`; a partial last group reads only the
// bytes that exist (the rest are 0 and meet 0 weights).
inline uint32_t input_word(const int8_t* x, int32_t depth) {
  if (depth >= 4) return dsp::load32(x);
  uint32_t v = 0;
  for (int32_t b = 0; b < depth; ++b) v |= static_cast<uint32_t>(static_cast<uint8_t>(x[b])) << (8 * b);
  return v;
}

struct Sums {
  int32_t s0, t0, s1, t1;  // s = x . A, t = x . A + 256 * x . B for pairs 0 and 1
};

// One run of at most `run` whole groups (4 readable input bytes each).
inline void dual_run_4u(const int8_t*& x, const uint32_t*& w, int32_t groups, Sums& a) {
#if TINYFORGE_HAVE_DSP
  const uint32_t* const w_end = w + 4 * groups;
  uint32_t xe, xo, wa, wb, ea, eb;
  asm volatile(
      "1:\n\t"
      "ldr %[xo], [%[x]], #4\n\t"
      "ldrd %[wa], %[wb], [%[w]], #8\n\t"
      "sxtb16 %[xe], %[xo]\n\t"
      "sxtb16 %[xo], %[xo], ror #8\n\t"
      "sxtb16 %[ea], %[wa]\n\t"
      "sxtb16 %[eb], %[wb]\n\t"
      "smlad %[t0], %[xe], %[wa], %[t0]\n\t"
      "smlad %[t0], %[xo], %[wb], %[t0]\n\t"
      "smlad %[s0], %[xe], %[ea], %[s0]\n\t"
      "smlad %[s0], %[xo], %[eb], %[s0]\n\t"
      "ldrd %[wa], %[wb], [%[w]], #8\n\t"
      "sxtb16 %[ea], %[wa]\n\t"
      "sxtb16 %[eb], %[wb]\n\t"
      "smlad %[t1], %[xe], %[wa], %[t1]\n\t"
      "smlad %[t1], %[xo], %[wb], %[t1]\n\t"
      "smlad %[s1], %[xe], %[ea], %[s1]\n\t"
      "smlad %[s1], %[xo], %[eb], %[s1]\n\t"
      "cmp %[w], %[end]\n\t"
      "bne 1b"
      : [s0] "+r"(a.s0), [t0] "+r"(a.t0), [s1] "+r"(a.s1), [t1] "+r"(a.t1), [x] "+r"(x), [w] "+r"(w),
        [xe] "=&r"(xe), [xo] "=&r"(xo), [wa] "=&r"(wa), [wb] "=&r"(wb), [ea] "=&r"(ea), [eb] "=&r"(eb)
      : [end] "r"(w_end)
      : "cc", "memory");
#else
  for (int32_t n = 0; n < groups; ++n, x += 4, w += 4) {
    const uint32_t raw = dsp::load32(x);
    const uint32_t xe = dsp::sxtb16(raw), xo = dsp::sxtb16_ror8(raw);
    a.t0 = dsp::smlad(xo, w[1], dsp::smlad(xe, w[0], a.t0));
    a.s0 = dsp::smlad(xo, dsp::sxtb16(w[1]), dsp::smlad(xe, dsp::sxtb16(w[0]), a.s0));
    a.t1 = dsp::smlad(xo, w[3], dsp::smlad(xe, w[2], a.t1));
    a.s1 = dsp::smlad(xo, dsp::sxtb16(w[3]), dsp::smlad(xe, dsp::sxtb16(w[2]), a.s1));
  }
#endif
}

// The last group when depth % 4 != 0 (the bytes past the row are not read).
inline void dual_tail_4u(const int8_t* x, int32_t remaining, const uint32_t* w, Sums& a) {
  const uint32_t raw = input_word(x, remaining);
  const uint32_t xe = dsp::sxtb16(raw), xo = dsp::sxtb16_ror8(raw);
  a.t0 = dsp::smlad(xo, w[1], dsp::smlad(xe, w[0], a.t0));
  a.s0 = dsp::smlad(xo, dsp::sxtb16(w[1]), dsp::smlad(xe, dsp::sxtb16(w[0]), a.s0));
  a.t1 = dsp::smlad(xo, w[3], dsp::smlad(xe, w[2], a.t1));
  a.s1 = dsp::smlad(xo, dsp::sxtb16(w[3]), dsp::smlad(xe, dsp::sxtb16(w[2]), a.s1));
}

inline int32_t b_share(int32_t t, int32_t s) {
  return static_cast<int32_t>(static_cast<uint32_t>(t) - static_cast<uint32_t>(s)) >> 8;
}

// acc[u] = bias[u] + row . unit u for the 4 units of one filter row (quad).
inline void dot_4u(const int8_t* x, int32_t depth, int32_t run, const uint32_t* w, int32_t acc[4]) {
  int32_t whole = depth / 4;
  while (whole > 0) {
    const int32_t n = whole < run ? whole : run;
    whole -= n;
    Sums a{acc[0], acc[0], acc[2], acc[2]};
    dual_run_4u(x, w, n, a);
    acc[0] = a.s0;
    acc[2] = a.s1;
    acc[1] = dsp::wrap_add(acc[1], b_share(a.t0, a.s0));
    acc[3] = dsp::wrap_add(acc[3], b_share(a.t1, a.s1));
  }
  if (depth % 4 != 0) {
    Sums a{acc[0], acc[0], acc[2], acc[2]};
    dual_tail_4u(x, depth % 4, w, a);
    acc[0] = a.s0;
    acc[2] = a.s1;
    acc[1] = dsp::wrap_add(acc[1], b_share(a.t0, a.s0));
    acc[3] = dsp::wrap_add(acc[3], b_share(a.t1, a.s1));
  }
}

#if TINYFORGE_HAVE_DSP
// State of quads_fast in memory (its registers are all taken by the inner loop).
struct QuadJob {
  const int8_t* x;          // 0: the input row
  const uint32_t* w;        // 4: filter row of the first quad (rows are consecutive)
  const ChannelQuant* q;    // 8: its records (advanced by 4 per quad)
  int8_t* out;              // 12: advanced by 4 per quad
  int32_t quads;            // 16: quads left, >= 1
  int32_t groups;           // 20: groups of 4 inputs per row (depth / 4), >= 1
  int32_t b0, b1;           // 24, 28: sums of units 1 and 3
  int32_t left;             // 32: groups of the row not yet run
  int32_t act_min, act_max; // 36, 40
  int32_t run;              // 44: groups per run
};
static_assert(offsetof(QuadJob, run) == 44, "offsets used by the assembly below");

// One group of 4 inputs for the quad: t += x . (A + 256 B), s += x . A for both pairs.
#define TF_FC_GROUP                  \
  "ldr lr, [r1], #4\n\t"             \
  "sxtb16 r12, lr\n\t"               \
  "sxtb16 lr, lr, ror #8\n\t"        \
  "ldrd r8, r9, [r2], #8\n\t"        \
  "sxtb16 r10, r8\n\t"               \
  "sxtb16 r11, r9\n\t"               \
  "smlad r5, r12, r8, r5\n\t"        \
  "smlad r5, lr, r9, r5\n\t"         \
  "smlad r4, r12, r10, r4\n\t"       \
  "smlad r4, lr, r11, r4\n\t"        \
  "ldrd r8, r9, [r2], #8\n\t"        \
  "sxtb16 r10, r8\n\t"               \
  "sxtb16 r11, r9\n\t"               \
  "smlad r7, r12, r8, r7\n\t"        \
  "smlad r7, lr, r9, r7\n\t"         \
  "smlad r6, r12, r10, r6\n\t"       \
  "smlad r6, lr, r11, r6\n\t"
// RequantMode::fast of accumulator `v` with record k of r3 (requantize.h), into r8 and out.
#define TF_FC_OUT(v, k, CLAMP)                  \
  "ldr r10, [r3, #" #k "*16+4]\n\t"             \
  "ldrd r11, r12, [r3, #" #k "*16+8]\n\t"       \
  "qadd r8, " v ", " v "\n\t"                   \
  "smmlar r8, r8, r10, r12\n\t"               \
  "add r8, r8, " v ", asr #31\n\t"            \
  "asr r8, r8, r11\n\t"                       \
  "ssat r8, #8, r8\n\t" CLAMP                 \
  "strb r8, [r1], #1\n\t"
#define TF_FC_CLAMP                    \
  "cmp r8, r5\n\t"                     \
  "it lt\n\t"                          \
  "movlt r8, r5\n\t"                   \
  "cmp r8, r7\n\t"                     \
  "it gt\n\t"                          \
  "movgt r8, r7\n\t"
#define TF_FC_NO_CLAMP

// Whole quads of a row, RequantMode::fast, in hand-allocated registers: r0 job, r1 input,
// r2 filter, r3 run end, r4-r7 sums (s0, t0, s1, t1), r8-r12 and lr temporaries; two
// groups per turn of the inner loop.
#define TF_QUADS_FAST(name, CLAMP)                                                                 \
  void name(QuadJob* job) {                                                                        \
    register QuadJob* j asm("r0") = job;                                                           \
    asm volatile(                                                                                  \
        "ldr r2, [r0, #4]\n\t"                                                                     \
        "1:\n\t"                                                                                   \
        "ldr r3, [r0, #8]\n\t"                                                                     \
        "ldr r4, [r3]\n\t"                                                                         \
        "ldr r6, [r3, #32]\n\t"                                                                    \
        "ldr r8, [r3, #16]\n\t"                                                                    \
        "str r8, [r0, #24]\n\t"                                                                    \
        "ldr r8, [r3, #48]\n\t"                                                                    \
        "str r8, [r0, #28]\n\t"                                                                    \
        "ldr r1, [r0]\n\t"                                                                         \
        "ldr r8, [r0, #20]\n\t"                                                                    \
        "2:\n\t"                                                                                   \
        "mov r5, r4\n\t"                                                                           \
        "mov r7, r6\n\t"                                                                           \
        "ldr r9, [r0, #44]\n\t"                                                                    \
        "cmp r8, r9\n\t"                                                                           \
        "it le\n\t"                                                                                \
        "movle r9, r8\n\t"                                                                         \
        "sub r8, r8, r9\n\t"                                                                       \
        "str r8, [r0, #32]\n\t"                                                                    \
        "add r3, r2, r9, lsl #4\n\t"                                                               \
        "tst r9, #1\n\t"                                                                           \
        "beq 3f\n\t" TF_FC_GROUP                                                                   \
        "3:\n\t"                                                                                   \
        "cmp r2, r3\n\t"                                                                           \
        "beq 5f\n\t"                                                                               \
        "4:\n\t" TF_FC_GROUP TF_FC_GROUP                                                           \
        "cmp r2, r3\n\t"                                                                           \
        "bne 4b\n\t"                                                                               \
        "5:\n\t"                                                                                   \
        "ldrd r8, r9, [r0, #24]\n\t"                                                               \
        "sub r10, r5, r4\n\t"                                                                      \
        "add r8, r8, r10, asr #8\n\t"                                                              \
        "sub r10, r7, r6\n\t"                                                                      \
        "add r9, r9, r10, asr #8\n\t"                                                              \
        "strd r8, r9, [r0, #24]\n\t"                                                               \
        "ldr r8, [r0, #32]\n\t"                                                                    \
        "cmp r8, #0\n\t"                                                                           \
        "bne 2b\n\t"                                                                               \
        "ldr r3, [r0, #8]\n\t"                                                                     \
        "ldr r1, [r0, #12]\n\t"                                                                    \
        "mov lr, r6\n\t"                                                                           \
        "ldrd r5, r7, [r0, #36]\n\t" TF_FC_OUT("r4", 0, CLAMP)                                      \
        "ldr r4, [r0, #24]\n\t" TF_FC_OUT("r4", 1, CLAMP) TF_FC_OUT("lr", 2, CLAMP)                 \
        "ldr r4, [r0, #28]\n\t" TF_FC_OUT("r4", 3, CLAMP)                                           \
        "str r1, [r0, #12]\n\t"                                                                    \
        "add r3, r3, #64\n\t"                                                                      \
        "str r3, [r0, #8]\n\t"                                                                     \
        "ldr r8, [r0, #16]\n\t"                                                                    \
        "subs r8, r8, #1\n\t"                                                                      \
        "str r8, [r0, #16]\n\t"                                                                    \
        "bne 1b"                                                                                   \
        :                                                                                          \
        : "r"(j)                                                                                   \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc",    \
          "memory");                                                                               \
  }
TF_QUADS_FAST(quads_fast_full, TF_FC_NO_CLAMP)
TF_QUADS_FAST(quads_fast_clamped, TF_FC_CLAMP)
#undef TF_QUADS_FAST
#undef TF_FC_GROUP
#undef TF_FC_OUT
#undef TF_FC_CLAMP
#undef TF_FC_NO_CLAMP
#endif

template <RequantMode mode, bool full_range>
void run(const Shape& s, int32_t run, const int8_t* input, const uint32_t* filter, const ChannelQuant* q,
         const dsp::OutputClamp& clamp, int8_t* output) {
  const int32_t quad_words = 4 * ceil_div(s.depth, 4);
  for (int32_t r = 0; r < s.rows; ++r, input += s.depth) {
    const uint32_t* w = filter;
    int32_t u = 0;
#if TINYFORGE_HAVE_DSP
    // Whole quads of a row of whole groups in assembly; the rest below.
    if (mode == RequantMode::fast && s.depth % 4 == 0 && s.units >= 4) {
      QuadJob job{input, w, q, output, s.units / 4, s.depth / 4, 0, 0, 0, clamp.act_min, clamp.act_max, run};
      if (dsp::is_full_range(clamp.act_min, clamp.act_max))
        quads_fast_full(&job);
      else
        quads_fast_clamped(&job);
      u = s.units & ~3;
      w += (u / 4) * quad_words;
      output += u;
    }
#endif
    for (; u < s.units; u += 4, w += quad_words) {
      const int32_t valid = s.units - u < 4 ? s.units - u : 4;
      int32_t acc[4] = {q[u].bias, valid > 1 ? q[u + 1].bias : 0, valid > 2 ? q[u + 2].bias : 0,
                        valid > 3 ? q[u + 3].bias : 0};
      dot_4u(input, s.depth, run, w, acc);
      for (int32_t k = 0; k < valid; ++k) *output++ = dsp::requantize<mode, full_range>(acc[k], q[u + k], clamp);
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
  const TensorView& records = io.in[2];
  if (records.rank != 2) return Status::bad_shape;
  const int32_t units = records.dims[0];
  if (units < 1 || out.dims[out.rank - 1] != units || !dsp_checks::is_channel_records(records, units))
    return Status::bad_shape;
  const int64_t rows = view::element_count(out) / units;
  const int64_t elements = view::element_count(in);
  if (rows < 1 || elements % rows != 0) return Status::bad_shape;
  const int64_t depth = elements / rows;
  if (!dsp_checks::is_words(io.in[1], ceil_div(units, 4), 4 * ((depth + 3) / 4))) return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, 0, p.output_offset, p.act_min, p.act_max) || p.run_groups < kDualChunkGroups)
    return Status::bad_params;
  return Status::ok;
}

void eval_FullyConnectedDsp(const FullyConnectedDspParams& p, const KernelIO& io) {
  const Shape s = shape(io);
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    run<decltype(mode)::value, decltype(full_range)::value>(s, p.run_groups, io.in[0].as<const int8_t>(),
                                                            io.in[1].as<const uint32_t>(),
                                                            io.in[2].as<const ChannelQuant>(), clamp,
                                                            io.out[0].as<int8_t>());
  });
}

}  // namespace tinyforge
