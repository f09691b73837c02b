// SignalRfft, int16 (TFLM signal library, custom op "SignalRfft"): each frame of the input,
// zero-padded to fft_length, through kissfft's real FFT with FIXED_POINT=16, as
// signal/micro/kernels/rfft.cc RfftEval and signal/src/rfft_int16.cc define it (kiss_fftr of
// kiss_fft_fixed16). The FFT is the micro front-end's own (audio/kiss_fft16.h); the twiddle
// tables are inputs 1 and 2, constants the compiler adds (TFLM computes them at init).
#include <cstdint>

#include "audio/kiss_fft16.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_SignalRfft(const SignalRfftParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!view::is_valid(in, DType::i16) || !view::is_valid(io.in[1], DType::i16) ||
      !view::is_valid(io.in[2], DType::i16) || !view::is_valid(out, DType::i16))
    return Status::bad_enum;
  const int32_t n = p.fft_length;
  if (n < 4 || n > static_cast<int32_t>(kMaxFrontendFft) || (n & (n - 1)) != 0)
    return Status::bad_params;
  if (in.rank < 1 || in.rank != out.rank || in.dims[in.rank - 1] > n ||
      out.dims[out.rank - 1] != n + 2)
    return Status::bad_shape;
  for (int d = 0; d + 1 < in.rank; ++d)
    if (in.dims[d] != out.dims[d]) return Status::bad_shape;
  if (io.in[1].elements() != n || io.in[2].elements() != n / 2) return Status::bad_shape;
  if (io.scratch_size < static_cast<uint32_t>(2 * n) * sizeof(int16_t)) return Status::bad_params;
  return Status::ok;
}

void eval_SignalRfft(const SignalRfftParams& p, const KernelIO& io) {
  const uint32_t n = static_cast<uint32_t>(p.fft_length);
  const int16_t* in = io.in[0].as<const int16_t>();
  const auto* twiddles = io.in[1].as<const Complex16>();
  const auto* super_twiddles = io.in[2].as<const Complex16>();
  int16_t* out = io.out[0].as<int16_t>();
  auto* pairs = reinterpret_cast<Complex16*>(io.scratch);  // the frame, zero-padded
  Complex16* packed = pairs + n / 2;
  uint16_t factors[audio::kMaxFactors];
  audio::factor(n / 2, factors);
  const uint32_t length = static_cast<uint32_t>(io.in[0].dims[io.in[0].rank - 1]);
  const uint32_t frames = static_cast<uint32_t>(io.in[0].elements()) / length;
  for (uint32_t f = 0; f < frames; ++f) {
    auto* samples = reinterpret_cast<int16_t*>(pairs);
    for (uint32_t i = 0; i < n; ++i) samples[i] = i < length ? in[f * length + i] : int16_t{0};
    audio::real_fft(pairs, packed, reinterpret_cast<Complex16*>(out + f * (n + 2)), n, factors,
                    twiddles, super_twiddles);
  }
}

}  // namespace tinyforge
