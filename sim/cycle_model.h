// Static Cortex-M4 timing model: cycles of one instruction from its class, the same
// table as m4sim's `insn_cycles` (../shared/tools/m4sim), after the Cortex-M4 Technical
// Reference Manual (Arm DDI 0439), section 3.3 "Instruction set summary". The table and
// its approximations are documented in sim/README.md. It is a model for comparing code on
// one core, not a datasheet latency.
#pragma once
#include <cstdint>
#include <string_view>

namespace tinyforge::sim {

struct InsnCost {
  uint32_t cycles;
  bool memory_access;  // a load/store: the next load may pipeline (1 cycle instead of 2)
};

// `mnemonic` and `operands` as Capstone 4 prints them for Thumb/M-class code (e.g.
// "ldr.w", "r0, [r1, #4]"); `after_memory_access`: the previous instruction of the same
// translated block was a load/store.
InsnCost insn_cycles(std::string_view mnemonic, std::string_view operands, bool after_memory_access);

// Extra cycles for a taken branch (the pipeline refills): a block entered other than by
// falling through from the previous one.
constexpr uint32_t kTakenBranchCycles = 2;

}  // namespace tinyforge::sim
