// SignalWindow (TFLM signal library, custom op "SignalWindow"): each frame of N int16 samples
// times the int16 window, shifted right and saturated to int16, as signal/src/window.cc
// ApplyWindow defines it: (int32(in) * w) >> shift, clamped to [-32768, 32767]; the kernel
// (signal/micro/kernels/window.cc) applies it to every N-sample row of the input.
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalWindow(const SignalWindowParams& p, const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& weights = io.in[1];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::i16) || !view::is_valid(weights, DType::i16) ||
      !view::is_valid(out, DType::i16))
    return Status::bad_enum;
  if (weights.rank != 1 || weights.dims[0] < 1 || !view::same_dims(in, out))
    return Status::bad_shape;
  if (in.rank < 1 || in.dims[in.rank - 1] != weights.dims[0]) return Status::bad_shape;
  if (p.shift < 0 || p.shift > 31) return Status::bad_params;
  return Status::ok;
}

void eval_SignalWindow(const SignalWindowParams& p, const KernelIO& io) {
  const int16_t* in = io.in[0].as<const int16_t>();
  const int16_t* w = io.in[1].as<const int16_t>();
  int16_t* out = io.out[0].as<int16_t>();
  const int32_t n = io.in[1].dims[0];
  const int32_t total = io.in[0].elements();
  for (int32_t row = 0; row < total; row += n)
    for (int32_t i = 0; i < n; ++i) {
      const int32_t raw = (int32_t{in[row + i]} * w[i]) >> p.shift;
      out[row + i] = static_cast<int16_t>(raw < INT16_MIN   ? INT16_MIN
                                          : raw > INT16_MAX ? INT16_MAX
                                                            : raw);
    }
}

}  // namespace tinyforge
