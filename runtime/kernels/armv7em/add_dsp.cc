// AddDsp: same-shape int8 Add by table lookup.
//
// TFLite's int8 Add rescales each input value v to (v + offset) << left_shift times a
// multiplier before summing; an int8 input has only 256 values, so the compiler tabulates
// both rescalings (tinyforge/packed.h, kAddTableWords) and the kernel does two loads, an
// add and the output stage per element instead of three MultiplyByQuantizedMultiplier.
// Bit-exact with the reference Add (the tables hold its exact intermediate values).
// In-place safety: element i is written after both inputs' element i were read.
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/armv7em/requantize.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

#if TINYFORGE_HAVE_DSP
// Elements [0, n & ~3) with RequantMode::fast and the full int8 range, 4 per turn, in
// hand-allocated registers: r0 a, r1 b, r2 out, r3 end of a, r4 / r5 the tables indexed
// by the signed value, r6 multiplier, r7 shift, r8 rounding, r9-r12 and lr temporaries.
TINYFORGE_ASM_FUNCTION void add_fast_full(const int8_t* a, const int8_t* b, int8_t* out, int32_t n4,
                                          const int32_t* table) {
  const ChannelQuant& q = *reinterpret_cast<const ChannelQuant*>(table + kAddTableStage);
  register const int8_t* ra asm("r0") = a;
  register const int8_t* rb asm("r1") = b;
  register int8_t* ro asm("r2") = out;
  register const int8_t* end asm("r3") = a + n4;
  register const int32_t* ta asm("r4") = table + 128;
  register const int32_t* tb asm("r5") = table + 256 + 128;
  register int32_t m asm("r6") = q.multiplier;
  register int32_t e asm("r7") = q.shift;
  register int32_t r asm("r8") = q.rounding;
#define TF_ADD_ONE(rot)            \
  "sxtb r11, r9" rot               \
  "\n\t"                           \
  "sxtb r12, r10" rot              \
  "\n\t"                           \
  "ldr r11, [r4, r11, lsl #2]\n\t" \
  "ldr r12, [r5, r12, lsl #2]\n\t" \
  "add r11, r11, r12\n\t"          \
  "qadd lr, r11, r11\n\t"          \
  "smmlar lr, lr, r6, r8\n\t"      \
  "add lr, lr, r11, asr #31\n\t"   \
  "asr lr, lr, r7\n\t"             \
  "ssat lr, #8, lr\n\t"            \
  "strb lr, [r2], #1\n\t"
  asm volatile(
      "1:\n\t"
      "ldr r9, [r0], #4\n\t"
      "ldr r10, [r1], #4\n\t"
      TF_ADD_ONE("") TF_ADD_ONE(", ror #8") TF_ADD_ONE(", ror #16") TF_ADD_ONE(", ror #24")
      "cmp r0, r3\n\t"
      "bne 1b"
      : "+r"(ra), "+r"(rb), "+r"(ro)
      : "r"(end), "r"(ta), "r"(tb), "r"(m), "r"(e), "r"(r)
      : "r9", "r10", "r11", "r12", "lr", "cc", "memory");
#undef TF_ADD_ONE
}
#endif

template <RequantMode mode, bool full_range>
void run(const int8_t* a, const int8_t* b, int8_t* out, int32_t n, const int32_t* table,
         const dsp::OutputClamp& clamp) {
  const int32_t* rescaled_a = table + 128;  // indexed by the signed value
  const int32_t* rescaled_b = table + 256 + 128;
  const ChannelQuant& q = *reinterpret_cast<const ChannelQuant*>(table + kAddTableStage);
  int32_t i = 0;
#if TINYFORGE_HAVE_DSP
  if (mode == RequantMode::fast && dsp::is_full_range(clamp.act_min, clamp.act_max) && n >= 4) {
    i = n & ~3;
    add_fast_full(a, b, out, i, table);
  }
#endif
  for (; i < n; ++i) {
    const int32_t sum = dsp::wrap_add(rescaled_a[a[i]], rescaled_b[b[i]]);
    out[i] = dsp::requantize<mode, full_range>(sum, q, clamp);
  }
}

}  // namespace

Status check_AddDsp(const AddDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  const TensorView& a = io.in[0];
  const TensorView& b = io.in[1];
  const TensorView& out = io.out[0];
  if (!view::is_valid(a, DType::i8) || !view::is_valid(b, DType::i8) ||
      !view::is_valid(out, DType::i8))
    return Status::bad_shape;
  if (!view::same_dims(a, out) || !view::same_dims(b, out)) return Status::bad_shape;
  const TensorView& table = io.in[2];
  if (!view::is_valid(table, DType::i32) || table.rank != 1 || table.dims[0] != kAddTableWords)
    return Status::bad_shape;
  if (!dsp_checks::stage_ok(p.requant, 0, p.output_offset, p.act_min, p.act_max))
    return Status::bad_params;
  return Status::ok;
}

void eval_AddDsp(const AddDspParams& p, const KernelIO& io) {
  const int32_t n = static_cast<int32_t>(view::element_count(io.out[0]));
  const dsp::OutputClamp clamp{p.output_offset, p.act_min, p.act_max};
  dsp::dispatch_stage(p.requant, p.act_min, p.act_max, [&](auto mode, auto full_range) {
    run<decltype(mode)::value, decltype(full_range)::value>(
        io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(), io.out[0].as<int8_t>(), n,
        io.in[2].as<const int32_t>(), clamp);
  });
}

}  // namespace tinyforge
