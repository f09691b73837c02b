// Integer helpers shared by the micro front-end (audio/frontend.cc) and the signal-library
// kernels (kernels/reference/signal_*.cc): TFLM defines them once for both
// (microfrontend/lib/bits.h, filterbank.c Sqrt32/Sqrt64, log_lut.c, log_scale.c,
// noise_reduction.c, pcan_gain_control.c; the signal library's msb_32.cc, msb_64.cc,
// square_root_32.cc, square_root_64.cc, log.cc, filter_bank_spectral_subtraction.cc,
// pcan_argc_fixed.cc carry the same arithmetic), so one copy here keeps both bit for bit
// with them. Freestanding.
#pragma once
#include <cstdint>

namespace tinyforge::audio {

constexpr int kLogScaleLog2 = 16;      // log_lut.h: kLogScaleLog2 (kLogScale = 65536)
constexpr int kLogSegmentsLog2 = 7;    // log_lut.h: kLogSegmentsLog2
constexpr uint32_t kLogCoeff = 45426;  // log_lut.h: kLogCoeff, ln(2) in Q16

// log_lut.c: kLogLut, log2(1 + x) - x on 128 segments of [0, 1), Q16.
inline constexpr uint16_t kLogLut[] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646,
    2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460,
    4549, 4633, 4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408,
    5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633,
    5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249,
    5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341,
    4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981,
    2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224,
    1094, 963,  830,  695,  559,  421,  282,  142,  0,    0};

// bits.h: MostSignificantBit32/64 (0 for 0).
inline int msb32(uint32_t n) { return n == 0 ? 0 : 32 - __builtin_clz(n); }
inline int msb64(uint64_t n) { return n == 0 ? 0 : 64 - __builtin_clzll(n); }

// filterbank.c Sqrt32 / Sqrt64: bit-by-bit integer square root of a 32- or 64-bit value,
// rounded up when the remainder exceeds the root (unless the root is the type's largest).
template <typename U>
inline uint32_t sqrt_rounded(U num) {
  constexpr int kBits = 8 * static_cast<int>(sizeof(U));
  if (num == 0) return 0;
  U res = 0;
  int msb = 0;
  if constexpr (kBits == 32)
    msb = msb32(num);
  else
    msb = msb64(num);
  const int max_bit_number = (kBits - msb) | 1;
  U bit = U{1} << (kBits - 1 - max_bit_number);
  for (int it = (kBits - 1 - max_bit_number) / 2 + 1; it > 0; --it) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != (U{1} << (kBits / 2)) - 1) ++res;
  return static_cast<uint32_t>(res);
}
inline uint32_t sqrt32(uint32_t num) { return sqrt_rounded(num); }
inline uint32_t sqrt64(uint64_t num) {
  if ((num >> 32) == 0) return sqrt32(static_cast<uint32_t>(num));  // TFLM's shortcut
  return sqrt_rounded(num);
}

// log_scale.c Log2FractionPart: the fraction of log2(x) in Q16 by the segment table.
inline uint32_t log2_fraction(uint32_t x, uint32_t log2x) {
  int32_t frac = static_cast<int32_t>(x - (1u << log2x));
  if (log2x < kLogScaleLog2)
    frac = static_cast<int32_t>(static_cast<uint32_t>(frac) << (kLogScaleLog2 - log2x));
  else
    frac >>= log2x - kLogScaleLog2;
  const uint32_t base_seg = static_cast<uint32_t>(frac) >> (kLogScaleLog2 - kLogSegmentsLog2);
  const uint32_t seg_unit = (1u << kLogScaleLog2) >> kLogSegmentsLog2;
  const int32_t c0 = kLogLut[base_seg], c1 = kLogLut[base_seg + 1];
  const int32_t seg_base = static_cast<int32_t>(seg_unit * base_seg);
  const int32_t rel_pos = ((c1 - c0) * (frac - seg_base)) >> kLogScaleLog2;
  return static_cast<uint32_t>(frac + c0 + rel_pos);
}

// log_scale.c Log (and the signal library's Log32) up to its final scaling: ln(x) in Q16,
// rounded. x must be nonzero.
inline uint32_t ln_q16(uint32_t x) {
  const uint32_t integer = static_cast<uint32_t>(msb32(x) - 1);
  const uint32_t log2 = (integer << kLogScaleLog2) + log2_fraction(x, integer);
  const uint32_t round = (1u << kLogScaleLog2) / 2;
  return static_cast<uint32_t>((uint64_t{kLogCoeff} * log2 + round) >> kLogScaleLog2);
}

// Noise reduction of one channel: noise_reduction.c NoiseReductionApply (micro front-end)
// and the signal library's filter_bank_spectral_subtraction.cc FilterbankSpectralSubtraction
// define the same step. The estimate (smoothing_bits more fraction bits than the signal)
// follows the signal low-passed by smoothing / one_minus (Q of `bits`, products in 64 bits,
// the sum wrapping there as in TFLM); the signal less the estimate is returned, at least
// min_remaining (Q of `bits`) of it. clamping (signal library only): an estimate above the
// scaled signal is lowered to it. Shifts must be below 32.
inline uint32_t spectral_subtract(uint32_t signal, uint32_t& estimate, uint32_t smoothing,
                                  uint32_t one_minus, uint32_t min_remaining, int smoothing_bits,
                                  int bits, bool clamping) {
  const uint32_t scaled_up = signal << smoothing_bits;
  estimate = static_cast<uint32_t>(
      (uint64_t{scaled_up} * smoothing + uint64_t{estimate} * one_minus) >> bits);
  uint32_t subtracted_estimate = estimate;
  if (subtracted_estimate > scaled_up) {
    subtracted_estimate = scaled_up;
    if (clamping) estimate = scaled_up;
  }
  const uint32_t floor = static_cast<uint32_t>((uint64_t{signal} * min_remaining) >> bits);
  const uint32_t subtracted = (scaled_up - subtracted_estimate) >> smoothing_bits;
  return subtracted > floor ? subtracted : floor;
}

constexpr int kPcanSnrBits = 12;    // pcan_gain_control.h / pcan_argc_fixed.h: kPcanSnrBits
constexpr int kPcanOutputBits = 6;  // pcan_gain_control.h / pcan_argc_fixed.h: kPcanOutputBits

// pcan_gain_control.c WideDynamicFunction (the signal library's pcan_argc_fixed.cc has the
// same): the gain of noise level x, piecewise quadratic per octave from the 125-entry curve
// (kPcanLutSize).
inline int16_t wide_dynamic_function(uint32_t x, const int16_t* lut) {
  if (x <= 2) return lut[x];
  const int interval = msb32(x);
  lut += 4 * interval - 6;
  const int32_t frac =
      static_cast<int16_t>((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FF);
  int32_t result = (int32_t{lut[2]} * frac) >> 5;
  result += static_cast<int32_t>(static_cast<uint32_t>(lut[1]) << 5);
  result *= frac;
  result = (result + (1 << 14)) >> 15;
  result += lut[0];
  return static_cast<int16_t>(result);
}

// pcan_gain_control.c PcanShrink: x^2 / 4 below 2, x - 1 above (x in Q12, result in Q6).
inline uint32_t pcan_shrink(uint32_t x) {
  if (x < (2u << kPcanSnrBits)) return (x * x) >> (2 + 2 * kPcanSnrBits - kPcanOutputBits);
  return (x >> (kPcanSnrBits - kPcanOutputBits)) - (1u << kPcanOutputBits);
}

// pcan_gain_control.c PcanGainControlApply / pcan_argc_fixed.cc ApplyPcanAutoGainControlFixed
// for one channel: the signal times the gain of its noise estimate, shifted to Q12, shrunk.
// snr_shift must be below 64.
inline uint32_t pcan(uint32_t signal, uint32_t estimate, const int16_t* lut, int snr_shift) {
  const uint32_t gain = static_cast<uint32_t>(int32_t{wide_dynamic_function(estimate, lut)});
  return pcan_shrink(static_cast<uint32_t>((uint64_t{signal} * gain) >> snr_shift));
}

}  // namespace tinyforge::audio
