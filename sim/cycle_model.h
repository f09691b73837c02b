// Static timing models: cycles of one instruction from its class, or of a straight-line
// sequence (a translated block) for the cores whose cost depends on the neighbours.
//   cortex_m4: the same table as m4sim's `insn_cycles` (../shared/tools/m4sim), after the
//              Cortex-M4 Technical Reference Manual (Arm DDI 0439), section 3.3
//              "Instruction set summary".
//   cortex_m7: a dual-issue model after LLVM's Cortex-M7 scheduling model (Arm's own
//              contribution, llvm/lib/Target/ARM/ARMScheduleM7.td): pairs of independent
//              instructions issue together unless both need the one unit they share,
//              load-use and multiply-use stalls, single-issue classes.
//   cortex_m33: the M4 table with the M33 pipeline's differences (single-cycle loads and
//              MACs, 16-bit pairs dual-issued, a shorter refill); partly estimates.
//   cortex_m0plus: after the Cortex-M0+ Technical Reference Manual (Arm DDI 0484), section
//              3.3 "Instruction set summary": loads and stores 2 cycles, LDM/STM/PUSH/POP
//              1+N, BL 3, a taken branch 2 (a 2-stage pipeline refills in 1 cycle),
//              single-cycle multiplier.
// The tables and their approximations are documented in sim/README.md. A model for
// comparing code on one core, not a datasheet latency.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyforge::sim {

enum class TimingModel { cortex_m4, cortex_m0plus, cortex_m7, cortex_m33 };

struct InsnCost {
  uint32_t cycles;
  bool memory_access;  // a load/store: the next load may pipeline (1 cycle instead of 2)
};

// `mnemonic` and `operands` as Capstone 4 prints them for Thumb/M-class code (e.g.
// "ldr.w", "r0, [r1, #4]"); `after_memory_access`: the previous instruction of the same
// translated block was a load/store. The per-instruction tables of the M4 and the M0+ (the
// M7 and M33 depend on their neighbours: block_cycles; asked alone, they answer the M4's).
InsnCost insn_cycles(std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access);
InsnCost insn_cycles(TimingModel model, std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access);

// One instruction of a sequence, as Capstone 4 prints it; `size` in bytes (2 or 4).
struct Insn {
  std::string_view mnemonic, operands;
  uint32_t size;
};

// Cycles of `n` instructions run in order from the first (one translated block), without
// the taken-branch refill. The M4 and M0+ sum insn_cycles(); the M7 and M33 pair and stall.
uint64_t block_cycles(TimingModel model, const Insn* insns, size_t n);

// Extra cycles for a taken branch (the pipeline refills): a block entered other than by
// falling through from the previous one. 2 on the Cortex-M4 (m4sim), 1 on the M0+, M7
// (predicted) and M33.
constexpr uint32_t kTakenBranchCycles = 2;
uint32_t taken_branch_cycles(TimingModel model);

// "cortex-m4", "cortex-m0plus", "cortex-m7", "cortex-m33"
const char* timing_model_name(TimingModel model);

}  // namespace tinyforge::sim
