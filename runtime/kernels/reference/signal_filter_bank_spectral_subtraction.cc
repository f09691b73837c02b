// SignalFilterBankSpectralSubtraction (TFLM signal library, custom op
// "SignalFilterBankSpectralSubtraction"): noise reduction of the filter-bank channels, as
// signal/src/filter_bank_spectral_subtraction.cc FilterbankSpectralSubtraction defines it
// (audio::spectral_subtract, shared with the micro front-end's noise_reduction.c). The noise
// estimate is input 1, a Storage::state tensor the plan zeroes at init and on reset_state (TFLM
// keeps it in a persistent buffer its Prepare and Reset zero); output 1 is a copy of the
// updated estimate, as signal/micro/kernels/filter_bank_spectral_subtraction.cc writes it.
#include <cstdint>

#include "audio/audio_math.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalFilterBankSpectralSubtraction(const SignalFilterBankSpectralSubtractionParams& p,
                                                 const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 2) return Status::bad_shape;
  for (int i = 0; i < 2; ++i)
    if (!view::is_valid(io.in[i], DType::u32) || !view::is_valid(io.out[i], DType::u32))
      return Status::bad_enum;
  if (p.smoothing_bits < 0 || p.smoothing_bits > 31 || p.spectral_subtraction_bits < 0 ||
      p.spectral_subtraction_bits > 31 || (p.clamping != 0 && p.clamping != 1))
    return Status::bad_params;
  if (io.in[0].rank != 1 || p.num_channels < 1 || io.in[0].dims[0] != p.num_channels)
    return Status::bad_shape;
  for (int i = 0; i < 2; ++i)
    if (!view::same_dims(io.in[0], io.in[i]) || !view::same_dims(io.in[0], io.out[i]))
      return Status::bad_shape;
  return Status::ok;
}

void eval_SignalFilterBankSpectralSubtraction(const SignalFilterBankSpectralSubtractionParams& p,
                                              const KernelIO& io) {
  const uint32_t* in = io.in[0].as<const uint32_t>();
  uint32_t* estimate = io.in[1].as<uint32_t>();
  uint32_t* out = io.out[0].as<uint32_t>();
  uint32_t* estimate_out = io.out[1].as<uint32_t>();
  for (int32_t i = 0; i < p.num_channels; ++i) {
    const bool odd = (i & 1) != 0;  // odd channels use the alternate coefficients
    out[i] = audio::spectral_subtract(in[i], estimate[i], odd ? p.alternate_smoothing : p.smoothing,
                                      odd ? p.alternate_one_minus_smoothing : p.one_minus_smoothing,
                                      p.min_signal_remaining, p.smoothing_bits,
                                      p.spectral_subtraction_bits, p.clamping != 0);
    estimate_out[i] = estimate[i];
  }
}

}  // namespace tinyforge
