// Static timing models: cycles of one instruction from its class.
//   cortex_m4: the same table as m4sim's `insn_cycles` (../shared/tools/m4sim), after the
//              Cortex-M4 Technical Reference Manual (Arm DDI 0439), section 3.3
//              "Instruction set summary"; also used for the M7 and M33 (see sim/README.md).
//   cortex_m0plus: after the Cortex-M0+ Technical Reference Manual (Arm DDI 0484), section
//              3.3 "Instruction set summary": loads and stores 2 cycles, LDM/STM/PUSH/POP
//              1+N, BL 3, a taken branch 2 (a 2-stage pipeline refills in 1 cycle),
//              single-cycle multiplier.
// The tables and their approximations are documented in sim/README.md. A model for
// comparing code on one core, not a datasheet latency.
#pragma once
#include <cstdint>
#include <string_view>

namespace tinyforge::sim {

enum class TimingModel { cortex_m4, cortex_m0plus };

struct InsnCost {
  uint32_t cycles;
  bool memory_access;  // a load/store: the next load may pipeline (1 cycle instead of 2)
};

// `mnemonic` and `operands` as Capstone 4 prints them for Thumb/M-class code (e.g.
// "ldr.w", "r0, [r1, #4]"); `after_memory_access`: the previous instruction of the same
// translated block was a load/store.
InsnCost insn_cycles(std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access);
InsnCost insn_cycles(TimingModel model, std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access);

// Extra cycles for a taken branch (the pipeline refills): a block entered other than by
// falling through from the previous one. 2 on the Cortex-M4 (m4sim), 1 on the M0+.
constexpr uint32_t kTakenBranchCycles = 2;
uint32_t taken_branch_cycles(TimingModel model);

const char* timing_model_name(TimingModel model);  // "cortex-m4", "cortex-m0plus"

}  // namespace tinyforge::sim
