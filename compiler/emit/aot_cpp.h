// Ahead-of-time C++ for a plan (`tinyforge compile --emit cpp`, `tinyforge firmware --aot`):
// the plan's ops become direct calls of their kernels with tensor views fixed at compile
// time, the constants (weights, packed operands, params structs) a const array in section
// .tinyforge.model, with the ops' tensor views (the model's tensor records, as in a plan
// blob), the arena a static buffer. No blob, no validator, no dispatch switch, no
// executor on the device: the compiler validated the plan (validate_plan) before emitting it.
//
// The generated file defines, in namespace tinyforge_aot:
//   constexpr uint32_t kArenaBytes, kNumInputs, kNumOutputs;
//   uint8_t* input(uint32_t i);  uint32_t input_bytes(uint32_t i);   (arena addresses)
//   const uint8_t* output(uint32_t i);  uint32_t output_bytes(uint32_t i);
//   void invoke();
// and, with `with_main`, a main() following ../shared/tools/m4sim/README.md's protocol
// (tinyforge_input / _output in .noinit, tinyforge_bench_begin / _end around one invoke,
// tinyforge_done, tinyforge_arena_used), for firmware images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::emit {

struct AotOptions {
  bool with_main = false;
  // Constants in section .tinyforge.model (our linker script's); false: plain .rodata, for
  // packages built with someone else's linker script.
  bool model_section = true;
};

// Throws tinyforge::Error when the blob does not validate.
std::string emit_aot_cpp(const std::vector<uint8_t>& blob, const AotOptions& options = {});

}  // namespace tinyforge::emit
