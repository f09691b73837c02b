// Known-answer self-test of an OTA payload: the package carries, under its signature, an
// input for every model input and the output the host runtime computed for it; the
// device runs the plan once on that input and compares before it confirms the update.
//
// Block layout (little-endian, 4-byte aligned, right after the plan in the payload):
//   magic "TFKT" u32 | num_inputs u16 | num_outputs u16 | int_tolerance u32 |
//   float_tolerance f32 | then for each input, then each output: size u32 | bytes | zero
//   padding to 4 bytes. Sizes must equal the plan's tensor sizes. Integer outputs may differ
//   by int_tolerance units per element, float32 outputs by float_tolerance (NaN never
//   matches).
#pragma once
#include <cstdint>

#include "tinyforge/status.h"

namespace tinyforge::ota {

constexpr uint32_t kSelfTestMagic = 0x544b4654;  // bytes "TFKT"
constexpr uint32_t kSelfTestHeaderBytes = 16;

// Validates the plan with the runtime (the validator used at load, against this arena and
// the kernels compiled in), runs it on the block's inputs and compares its outputs.
// bad_manifest: the block is malformed or does not fit the plan; self_test_failed: the
// outputs differ; any validator status for a bad plan. Uses `arena` as the runtime would.
// Both `plan` and `block` must be 4-byte aligned.
Status run_self_test(const uint8_t* plan, uint32_t plan_size, const uint8_t* block,
                     uint32_t block_size, uint8_t* arena, uint32_t arena_size);

}  // namespace tinyforge::ota
