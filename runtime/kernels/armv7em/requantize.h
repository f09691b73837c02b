// The int8 output stage of the DSP kernels: accumulator (bias included) -> output byte,
// in the two forms of RequantMode (see tinyforge/packed.h for why `fast` gives the
// reference's bytes wherever the compiler selects it).
#pragma once
#include <cstdint>
#include <type_traits>

#include "kernels/armv7em/dsp.h"
#include "kernels/reference/fixed_point.h"
#include "kernels/reference/output_stage.h"
#include "src/enabled_ops.h"
#include "tinyforge/packed.h"

namespace tinyforge::dsp {

// The output stage's constants for one op, read once from its params.
struct OutputClamp {
  int32_t output_offset;  // used by the exact form only
  int32_t act_min, act_max;
};

inline bool is_full_range(int32_t act_min, int32_t act_max) {
  return act_min == -128 && act_max == 127;
}

// Clamp to [act_min, act_max]; with full_range that is [-128, 127] and SSAT alone does it.
template <bool full_range>
inline int32_t clamp_int8(int32_t v, const OutputClamp& c) {
  v = ssat<8>(v);
  if (full_range) return v;
  v = v < c.act_min ? c.act_min : v;
  return v > c.act_max ? c.act_max : v;
}

// z + output zero point, unclamped.
// (y < 0) equals (acc < 0) except when y is 0, where both give the same result (packed.h).
inline int32_t rescale_fast(int32_t acc, const ChannelQuant& q) {
  const int32_t y = smmlar(qadd(acc, acc), q.multiplier, q.rounding);  // + rounding
  const int32_t t = wrap_add(y, acc >> 31);
  return asr(t, q.shift);  // fast records hold e = -shift
}

inline int32_t rescale_exact(int32_t acc, const ChannelQuant& q, int32_t output_offset) {
  return stage::wrapping_add(
      fixed::multiply_by_quantized_multiplier(acc, q.multiplier, stage::safe_shift(q.shift)),
      output_offset);
}

template <RequantMode mode, bool full_range>
inline int8_t requantize(int32_t acc, const ChannelQuant& q, const OutputClamp& c) {
  const int32_t z =
      mode == RequantMode::fast ? rescale_fast(acc, q) : rescale_exact(acc, q, c.output_offset);
  return static_cast<int8_t>(clamp_int8<full_range>(z, c));
}

// Calls f(std::integral_constant<RequantMode, m>, std::false_type) for the op's output
// stage: one C instantiation per form (the mode costs no branch per output). The clamp is
// always applied in C (the full-range shortcut is taken by the assembly paths, chosen at
// run time with is_full_range), which keeps the number of instantiations, and code, small.
template <typename F>
inline void dispatch_stage(int32_t requant, int32_t, int32_t, F&& f) {
  using Fast = std::integral_constant<RequantMode, RequantMode::fast>;
  using Exact = std::integral_constant<RequantMode, RequantMode::exact>;
  // Without the exact form in the image, its check refused every other mode.
  if (!kImageExactRequant || requant == static_cast<int32_t>(RequantMode::fast))
    f(Fast{}, std::false_type{});
  else
    f(Exact{}, std::false_type{});
}

}  // namespace tinyforge::dsp
