// Element types the runtime understands. Values are part of the plan-blob format.
#pragma once
#include <cstdint>

namespace tinyforge {

enum class DType : uint8_t {
  f32 = 1,
  i8 = 2,
  i32 = 3,
  u8 = 4,
  i16 = 5,
  // The audio signal ops (TFLM signal library): energies, filter-bank sums.
  u32 = 6,
  u64 = 7,
};

// Bytes per element; 0 for an unknown value (the validator rejects those).
constexpr uint32_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
      return 4;
    case DType::i8:
      return 1;
    case DType::i32:
      return 4;
    case DType::u8:
      return 1;
    case DType::i16:
      return 2;
    case DType::u32:
      return 4;
    case DType::u64:
      return 8;
  }
  return 0;
}

const char* dtype_name(DType t);

}  // namespace tinyforge
