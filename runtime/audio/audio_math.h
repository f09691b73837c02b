// Integer helpers shared by the micro front-end (audio/frontend.cc) and the signal-library
// kernels (kernels/reference/signal_*.cc): TFLM defines them once for both
// (microfrontend/lib/bits.h, filterbank.c Sqrt32/Sqrt64, log_lut.c, log_scale.c; the signal
// library's msb_32.cc, msb_64.cc, square_root_32.cc, square_root_64.cc, log.cc carry the
// same arithmetic), so one copy here keeps both bit for bit with them. Freestanding.
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

}  // namespace tinyforge::audio
