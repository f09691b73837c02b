// kissfft 1.3.0's real FFT with FIXED_POINT=16 (kiss_fft.c, kiss_fftr.c, _kiss_fft_guts.h),
// forward, on power-of-two lengths: shared by the micro front-end (audio/frontend.cc) and the
// signal library's Rfft kernel (kernels/reference/signal_rfft.cc), which both run TFLM's
// kiss_fftr with int16 scalars. Every shift, rounding and wrap is kissfft's. The FFT works on
// complex values packed in one word (real in the low half) with the Armv7E-M DSP
// instructions of kernels/armv7em/dsp.h, which are exact portable C on other cores and the
// host. The twiddle tables are computed by the compiler (compiler/audio/kiss_twiddles.h).
// Freestanding.
#pragma once
#include <cstdint>

#include "kernels/armv7em/dsp.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge::audio {

// _kiss_fft_guts.h, FIXED_POINT 16: sround(x) = (x + 2^14) >> 15 into int16; C_FIXDIV(c, k)
// multiplies by SAMP_MAX / k (32767 / k) and srounds. On packed complex values (real in
// lane 0): C_MUL is SMLSD / SMLADX with sround's 2^14 as the accumulator;
// C_ADD / C_SUB wrap in int16 lanes as kissfft's stores into int16 do (SADD16 / SSUB16);
// C_FIXDIV multiplies each lane by 32767 / k (SMLABB / SMLATT).
inline uint32_t load(const Complex16* p) { return dsp::load32(p); }
inline void store(Complex16* p, uint32_t v) { dsp::store32(p, v); }
inline uint32_t cmul(uint32_t a, uint32_t b) {
  return dsp::pair(dsp::smlsd(a, b, 1 << 14) >> 15, dsp::smladx(a, b, 1 << 14) >> 15);
}
inline uint32_t fixdiv(uint32_t c, int32_t k) {
  const uint32_t kk = dsp::pair(32767 / k, 32767 / k);
  return dsp::pair(dsp::smlabb(c, kk, 1 << 14) >> 15, dsp::smlatt(c, kk, 1 << 14) >> 15);
}

// kiss_fft.c kf_factor for a power of two: radix 4 while it divides, then 2. `out` holds
// (radix, remaining length) pairs: 2 x 12 entries cover every length up to 2^12.
constexpr uint32_t kMaxFactors = 2 * 12;
inline uint32_t factor(uint32_t n, uint16_t* out) {
  uint32_t count = 0;
  while (n > 1) {
    const uint32_t p = n % 4 == 0 ? 4 : 2;
    n /= p;
    out[count++] = static_cast<uint16_t>(p);
    out[count++] = static_cast<uint16_t>(n);
  }
  return count;
}

// kiss_fft.c kf_work: decimation in time, recursing over the radix plan, then the stage's
// butterflies (kf_bfly4 / kf_bfly2, forward, with their C_FIXDIV scaling).
inline void fft_stage(Complex16* out, const Complex16* in, uint32_t stride, const uint16_t* factors,
                      const Complex16* tw) {
  const uint32_t p = factors[0], m = factors[1];
  if (m == 1) {
    for (uint32_t k = 0; k < p; ++k) out[k] = in[k * stride];
  } else {
    for (uint32_t k = 0; k < p; ++k)
      fft_stage(out + k * m, in + k * stride, stride * p, factors + 2, tw);
  }
  Complex16* f = out;
  if (p == 2) {
    for (uint32_t k = 0; k < m; ++k) {
      const uint32_t a = fixdiv(load(f + k), 2), b = fixdiv(load(f + k + m), 2);
      const uint32_t t = cmul(b, load(tw + k * stride));
      store(f + k + m, dsp::ssub16(a, t));
      store(f + k, dsp::sadd16(a, t));
    }
    return;
  }
  const Complex16 *tw1 = tw, *tw2 = tw, *tw3 = tw;
  for (uint32_t k = 0; k < m; ++k, tw1 += stride, tw2 += 2 * stride, tw3 += 3 * stride) {
    const uint32_t f0 = fixdiv(load(f + k), 4), f1 = fixdiv(load(f + k + m), 4),
                   f2 = fixdiv(load(f + k + 2 * m), 4), f3 = fixdiv(load(f + k + 3 * m), 4);
    const uint32_t s0 = cmul(f1, load(tw1)), s1 = cmul(f2, load(tw2)), s2 = cmul(f3, load(tw3));
    const uint32_t s5 = dsp::ssub16(f0, s1), sum01 = dsp::sadd16(f0, s1);
    const uint32_t s3 = dsp::sadd16(s0, s2), s4 = dsp::ssub16(s0, s2);
    store(f + k + 2 * m, dsp::ssub16(sum01, s3));
    store(f + k, dsp::sadd16(sum01, s3));
    store(f + k + m, dsp::ssax(s5, s4));      // (s5.r + s4.i, s5.i - s4.r)
    store(f + k + 3 * m, dsp::sasx(s5, s4));  // (s5.r - s4.i, s5.i + s4.r)
  }
}

// kiss_fftr.c kiss_fftr: a complex FFT of half the length over the samples taken in pairs
// (`pairs`, fft_size / 2 values), into `packed` (as many), then the split into the real
// signal's spectrum (fft_size / 2 + 1 bins). `factors`: factor(fft_size / 2); `twiddles`:
// fft_size / 2 values, `super_twiddles`: fft_size / 4.
inline void real_fft(const Complex16* pairs, Complex16* packed, Complex16* spectrum,
                     uint32_t fft_size, const uint16_t* factors, const Complex16* twiddles,
                     const Complex16* super_twiddles) {
  const uint32_t ncfft = fft_size / 2;
  fft_stage(packed, pairs, 1, factors, twiddles);
  const uint32_t dc = fixdiv(load(packed), 2);
  const int32_t dc_r = dsp::lane0(dc), dc_i = dsp::lane1(dc);
  spectrum[0] = {static_cast<int16_t>(dc_r + dc_i), 0};
  spectrum[ncfft] = {static_cast<int16_t>(dc_r - dc_i), 0};
  for (uint32_t k = 1; k <= ncfft / 2; ++k) {
    const uint32_t fpk = fixdiv(load(packed + k), 2);
    const uint32_t nk = load(packed + ncfft - k);
    const uint32_t fpnk = fixdiv(dsp::pair(dsp::lane0(nk), -dsp::lane1(nk)), 2);  // conjugate
    const uint32_t f1k = dsp::sadd16(fpk, fpnk), f2k = dsp::ssub16(fpk, fpnk);
    const uint32_t tw = cmul(f2k, load(super_twiddles + k - 1));
    const int32_t f1r = dsp::lane0(f1k), f1i = dsp::lane1(f1k);
    const int32_t twr = dsp::lane0(tw), twi = dsp::lane1(tw);
    store(spectrum + k, dsp::pair((f1r + twr) >> 1, (f1i + twi) >> 1));
    store(spectrum + ncfft - k, dsp::pair((f1r - twr) >> 1, (twi - f1i) >> 1));
  }
}

}  // namespace tinyforge::audio
