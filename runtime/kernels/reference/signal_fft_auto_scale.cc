// SignalFftAutoScale (TFLM signal library, custom op "SignalFftAutoScale"): the frame shifted
// left as far as its largest magnitude allows, before the int16 FFT, as
// signal/src/fft_auto_scale.cc FftAutoScale and signal/src/max_abs.cc MaxAbs16 define it:
// max = MaxAbs16(input) (in int16: a -32768 stores -32768 as the running maximum, which any
// later value replaces), scale_bits = 15 - MSB32(uint32(max)), at least 0, and each output is
// input * 2^scale_bits stored in int16 (wrapping). Output 1 is scale_bits (int32, rank 0).
#include <cstdint>

#include "audio/audio_math.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalFftAutoScale(const SignalFftAutoScaleParams&, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 2) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::i16) || !view::is_valid(out, DType::i16) ||
      !view::is_valid(io.out[1], DType::i32))
    return Status::bad_enum;
  if (in.rank != 1 || !view::same_dims(in, out) || io.out[1].elements() != 1)
    return Status::bad_shape;
  return Status::ok;
}

void eval_SignalFftAutoScale(const SignalFftAutoScaleParams&, const KernelIO& io) {
  const int16_t* in = io.in[0].as<const int16_t>();
  int16_t* out = io.out[0].as<int16_t>();
  const int32_t n = io.in[0].dims[0];
  int16_t max = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (in[i] > max)
      max = in[i];
    else if (-int32_t{in[i]} > max)
      max = static_cast<int16_t>(-int32_t{in[i]});
  }
  int32_t scale_bits = 15 - audio::msb32(static_cast<uint32_t>(int32_t{max}));
  if (scale_bits < 0) scale_bits = 0;
  for (int32_t i = 0; i < n; ++i)
    out[i] = static_cast<int16_t>(static_cast<uint32_t>(int32_t{in[i]}) << scale_bits);
  *io.out[1].as<int32_t>() = scale_bits;
}

}  // namespace tinyforge
