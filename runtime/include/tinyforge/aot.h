// The API of an ahead-of-time compiled model (`tinyforge compile MODEL --emit cpp`): the
// generated .cc defines these in namespace tinyforge_aot, with the plan's ops as direct
// kernel calls, the constants in flash and its own statically allocated arena. One model
// per firmware image this way; for several, use the plan-blob Runtime (docs/device-api.md).
#pragma once
#include <cstdint>

namespace tinyforge_aot {

uint8_t* input(uint32_t i);  // precondition: i < number of model inputs
uint32_t input_bytes(uint32_t i);
const uint8_t* output(uint32_t i);  // precondition: i < number of model outputs
uint32_t output_bytes(uint32_t i);
void invoke();  // runs every op once; cannot fail (validated offline)
// Sets the memory of stateful ops (SVDF, LSTM) back to its start, each tensor's zero point: the
// next invoke() starts a new sequence. Defined only for a model with such ops.
void reset_state();

}  // namespace tinyforge_aot
