// SignalPcan (TFLM signal library, custom op "SignalPCAN"): per-channel amplitude
// normalization, as signal/src/pcan_argc_fixed.cc ApplyPcanAutoGainControlFixed defines it
// (audio::pcan, shared with the micro front-end's pcan_gain_control.c): each channel times
// WideDynamicFunction(noise estimate) from the int16 gain curve, shifted right by snr_shift,
// then PcanShrink. The curve (input 2) is a constant of the plan; TFLM's op generator
// computes it offline (wide_dynamic_func_lut), so the device only reads it.
#include <cstdint>

#include "audio/audio_math.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

enum { kSignal, kEstimate, kGainLut };

Status check_SignalPcan(const SignalPcanParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& out = io.out[0];
  if (!view::is_valid(io.in[kSignal], DType::u32) ||
      !view::is_valid(io.in[kEstimate], DType::u32) ||
      !view::is_valid(io.in[kGainLut], DType::i16) || !view::is_valid(out, DType::u32))
    return Status::bad_enum;
  if (p.snr_shift < 0 || p.snr_shift > 31) return Status::bad_params;
  // WideDynamicFunction reads at most entry 4 * 32 - 6 + 2 of the curve.
  if (io.in[kSignal].rank != 1 || io.in[kSignal].dims[0] < 1 ||
      !view::same_dims(io.in[kSignal], io.in[kEstimate]) || !view::same_dims(io.in[kSignal], out) ||
      io.in[kGainLut].rank != 1 || io.in[kGainLut].dims[0] != static_cast<int32_t>(kPcanLutSize))
    return Status::bad_shape;
  return Status::ok;
}

void eval_SignalPcan(const SignalPcanParams& p, const KernelIO& io) {
  const uint32_t* in = io.in[kSignal].as<const uint32_t>();
  const uint32_t* estimate = io.in[kEstimate].as<const uint32_t>();
  const int16_t* lut = io.in[kGainLut].as<const int16_t>();
  uint32_t* out = io.out[0].as<uint32_t>();
  for (int32_t i = 0; i < io.out[0].dims[0]; ++i)
    out[i] = audio::pcan(in[i], estimate[i], lut, p.snr_shift);
}

}  // namespace tinyforge
