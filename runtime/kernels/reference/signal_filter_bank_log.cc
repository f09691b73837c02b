// SignalFilterBankLog (TFLM signal library, custom op "SignalFilterBankLog"): the natural log
// of each channel, scaled, as signal/src/filter_bank_log.cc FilterbankLog defines it:
// x = in << input_correction_bits (uint32, wrapping); for x > 1, Log32(x, output_scale) of
// signal/src/log.cc, (output_scale * ln_q16(x) + 2^15) >> 16 in uint32 arithmetic, capped at
// 32767; else 0. ln_q16 is the micro front-end's own (audio/audio_math.h).
#include <cstdint>

#include "audio/audio_math.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalFilterBankLog(const SignalFilterBankLogParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::u32) || !view::is_valid(out, DType::i16)) return Status::bad_enum;
  if (in.rank != 1 || out.rank != 1 || in.dims[0] != out.dims[0]) return Status::bad_shape;
  if (p.input_correction_bits < 0 || p.input_correction_bits > 31) return Status::bad_params;
  return Status::ok;
}

void eval_SignalFilterBankLog(const SignalFilterBankLogParams& p, const KernelIO& io) {
  const uint32_t* in = io.in[0].as<const uint32_t>();
  int16_t* out = io.out[0].as<int16_t>();
  const uint32_t scale = static_cast<uint32_t>(p.output_scale);
  const uint32_t round = 1u << (audio::kLogScaleLog2 - 1);
  for (int32_t i = 0; i < io.out[0].dims[0]; ++i) {
    const uint32_t x = in[i] << p.input_correction_bits;
    if (x <= 1) {
      out[i] = 0;
      continue;
    }
    const uint32_t value = (scale * audio::ln_q16(x) + round) >> audio::kLogScaleLog2;
    out[i] = static_cast<int16_t>(value < 32767u ? value : 32767u);
  }
}

}  // namespace tinyforge
