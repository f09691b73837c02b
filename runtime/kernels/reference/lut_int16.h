// TFLite's int16 lookup tables (kernels/internal/common.h: LUTPopulate<int16_t> makes them,
// LUTLookup reads them): 512 intervals over the int16 input range plus the end point
// (kInt16LUTArraySize in tflite-micro). The compiler makes them (compiler/plan/lut_int16.h);
// the int16 Softmax and UnaryMath kernels read them.
#pragma once
#include <cstdint>

namespace tinyforge {

inline constexpr int32_t kInt16LutSize = 513;

// LUTLookup for int16: entry 256 + (v >> 7), linearly interpolated on the low 7 bits with
// rounding; the slope and the sum wrap to int16 as there. v in [-32768, 32767] reads
// entries 0..512.
inline int32_t lut_lookup_int16(int32_t v, const int16_t* lut) {
  const int32_t index = 256 + (v >> 7);
  const int32_t offset = v & 0x7f;
  const int16_t base = lut[index];
  const auto slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
  return static_cast<int16_t>(base + ((slope * offset + 64) >> 7));
}

}  // namespace tinyforge
