#include "sim/cycle_model.h"

#include <algorithm>
#include <initializer_list>

namespace tinyforge::sim {
namespace {

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Load/store multiple: 1 + N registers (Cortex-M4 TRM table 3-1: LDM/STM/PUSH/POP "1+N").
bool is_multiple(std::string_view m) {
  return one_of(m, {"ldm", "ldmia", "ldmdb", "stm", "stmia", "stmdb", "push", "pop", "vldm", "vstm",
                    "vpush", "vpop"});
}

}  // namespace

InsnCost insn_cycles(std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access) {
  // The class is named by the mnemonic without its size/type suffix (".w", ".f32").
  const std::string_view m = mnemonic.substr(0, mnemonic.find('.'));
  // A trailing flag-setting "s" does not change the class ("pops" is "pop"); a few
  // mnemonics end in "s" by name. Like m4sim, every trailing "s" is removed.
  std::string_view base = m;
  if (!one_of(m, {"vabs", "vmls", "vnmls", "vfms", "mls"})) {
    while (!base.empty() && base.back() == 's') base.remove_suffix(1);
  }
  if (is_multiple(m) || is_multiple(base)) {
    // Registers in the list: its commas + 1; LDM/STM also name the base register.
    const bool list_only = one_of(m, {"push", "pop", "vpush", "vpop"});
    const int64_t commas = std::count(operands.begin(), operands.end(), ',');
    const int64_t regs = std::max<int64_t>(1, commas + 1 - (list_only ? 0 : 1));
    // Loading PC is a branch: +3 cycles for the refill (TRM: "LDM/POP ... +P").
    const bool loads_pc = operands.find("pc") != std::string_view::npos &&
                          (starts_with(m, "pop") || starts_with(m, "ldm"));
    return {static_cast<uint32_t>(1 + regs + (loads_pc ? 3 : 0)), true};
  }
  if (starts_with(m, "ldr") || starts_with(m, "vldr")) {
    // 2 cycles; 1 when pipelined behind another load/store; LDRD one more (TRM 3.3.2).
    const uint32_t extra = starts_with(m, "ldrd") ? 1 : 0;
    return {(after_memory_access ? 1u : 2u) + extra, true};
  }
  if (starts_with(m, "str") || starts_with(m, "vstr")) {
    return {starts_with(m, "strd") ? 2u : 1u, true};
  }
  if (one_of(m, {"sdiv", "udiv"})) return {7, false};  // 2..12 cycles, early termination
  if (one_of(m, {"mla", "mls"})) return {2, false};
  if (one_of(m, {"vdiv", "vsqrt"})) return {14, false};  // FPU TRM: VDIV/VSQRT 14
  if (one_of(m, {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms"})) return {3, false};
  return {1, false};
}

namespace {

// Cortex-M0+ (DDI 0484C table 3-1). Costs exclude the pipeline refill of a taken branch,
// which taken_branch_cycles() adds per block entered other than by falling through.
InsnCost m0plus_cycles(std::string_view mnemonic, std::string_view operands) {
  const std::string_view m = mnemonic.substr(0, mnemonic.find('.'));
  if (one_of(m, {"ldm", "ldmia", "stm", "stmia", "push", "pop"})) {
    const bool list_only = one_of(m, {"push", "pop"});
    const int64_t commas = std::count(operands.begin(), operands.end(), ',');
    const int64_t regs = std::max<int64_t>(1, commas + 1 - (list_only ? 0 : 1));
    const bool loads_pc = m == "pop" && operands.find("pc") != std::string_view::npos;
    return {static_cast<uint32_t>(1 + regs + (loads_pc ? 1 : 0)),
            true};  // POP {..,PC}: 3+N with the refill
  }
  if (starts_with(m, "ldr") || starts_with(m, "str")) return {2, true};
  if (m == "bl") return {2, false};  // 3 with the refill
  return {1, false};  // data processing, MULS (fast multiplier), B, BX (2 with the refill)
}

}  // namespace

InsnCost insn_cycles(TimingModel model, std::string_view mnemonic, std::string_view operands,
                     bool after_memory_access) {
  if (model == TimingModel::cortex_m0plus) return m0plus_cycles(mnemonic, operands);
  return insn_cycles(mnemonic, operands, after_memory_access);
}

uint32_t taken_branch_cycles(TimingModel model) {
  return model == TimingModel::cortex_m0plus ? 1 : kTakenBranchCycles;
}

const char* timing_model_name(TimingModel model) {
  return model == TimingModel::cortex_m0plus ? "cortex-m0plus" : "cortex-m4";
}

}  // namespace tinyforge::sim
