// Checks shared by the DSP kernels' check_<Op> functions: the packed constant operands
// have exactly the shape their layout (tinyforge/packed.h) gives, the enums are known and
// the output stage is sane. Like the reference checks they read only types and dims.
#pragma once
#include <cstdint>

#include "kernels/reference/conv_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"
#include "tinyforge/packed.h"

namespace tinyforge::dsp_checks {

inline int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

// An int32 tensor of exactly [rows, cols].
inline bool is_words(const TensorView& v, int64_t rows, int64_t cols) {
  return view::is_valid(v, DType::i32) && v.rank == 2 && v.dims[0] == rows && v.dims[1] == cols;
}

// Channel records i32 [channels, 4].
inline bool is_channel_records(const TensorView& v, int32_t channels) {
  return is_words(v, channels, 4);
}

// An image without the exact form (TINYFORGE_IMAGE_EXACT_REQUANT 0) refuses it.
inline bool requant_mode_ok(int32_t mode) {
  return (kImageExactRequant && mode == static_cast<int32_t>(RequantMode::exact)) ||
         mode == static_cast<int32_t>(RequantMode::fast);
}

// Output clamp and offsets inside int8 (the same bounds the reference stage accepts).
inline bool stage_ok(int32_t requant, int32_t input_offset, int32_t output_offset, int32_t act_min,
                     int32_t act_max) {
  return requant_mode_ok(requant) &&
         stage::int8_stage_ok(input_offset, output_offset, act_min, act_max);
}

// An int8 activation view of exactly `rank` positive dims.
inline bool is_int8_activation(const TensorView& v, uint8_t rank) {
  return view::is_valid(v, DType::i8) && checks::has_positive_dims(v, rank);
}

}  // namespace tinyforge::dsp_checks
