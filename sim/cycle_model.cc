#include "sim/cycle_model.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

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

namespace {

// ---- Sequence models (Cortex-M7, Cortex-M33) ----
//
// Each instruction issues in order at the earliest cycle its source registers are ready
// (a producer's latency, counted from the issue cycle; an operand needed one stage early,
// such as an address or a shifted register, one cycle later), either beside the
// instruction issued in the current cycle (dual issue: both allowed to pair) or in a new
// cycle once the previous group has left the issue stage.

struct Traits {
  uint32_t issue = 1;    // cycles the instruction holds the issue stage
  uint32_t latency = 1;  // cycles from issue until a dependent ALU operation may issue
  bool load = false, store = false, mac = false, shifted = false, branch = false;
  bool slot0 = false;   // may only be the older instruction of a pair
  bool single = false;  // never paired
  bool fp = false;
};

// Register bits: r0..r15 = 0..15, s0..s31 = 16..47 (d<n> = s<2n>, s<2n+1>).
uint64_t register_bits(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kAliases[] = {
      {"sb", 9}, {"sl", 10}, {"fp", 11}, {"ip", 12}, {"sp", 13}, {"lr", 14}, {"pc", 15}};
  for (const auto& [alias, bit] : kAliases)
    if (name == alias) return uint64_t{1} << bit;
  if (name.size() < 2 || name.size() > 3) return 0;
  int n = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  if (name[0] == 'r' && n < 16) return uint64_t{1} << n;
  if (name[0] == 's' && n < 32) return uint64_t{1} << (16 + n);
  if (name[0] == 'd' && n < 16) return uint64_t{3} << (16 + 2 * n);
  return 0;
}

// The registers an instruction writes and reads, from Capstone's operand text: the first
// register is written unless the instruction only reads (stores, compares, branches);
// `early` gets the registers read one stage early (addresses, shifted operands).
struct Operands {
  uint64_t writes = 0, reads = 0, early = 0, accumulator = 0;
};

// B, BL, BX, BLX, CBZ/CBNZ, TBB/TBH and the conditional branches (BEQ, BNE, ...).
bool branches(std::string_view m) {
  return one_of(m, {"b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh"}) ||
         (m.size() == 3 && m[0] == 'b' && !one_of(m, {"bic", "bfi", "bfc"}));
}

bool only_reads(std::string_view m) {
  return starts_with(m, "str") || starts_with(m, "vstr") || starts_with(m, "stm") ||
         starts_with(m, "push") || starts_with(m, "vpush") || starts_with(m, "vstm") ||
         starts_with(m, "it") || branches(m) ||
         one_of(m, {"cmp", "cmn", "tst", "teq", "vcmp", "vcmpe", "nop"});
}

Operands parse_operands(std::string_view m, std::string_view ops, const Traits& t) {
  Operands o;
  const bool reads_only = only_reads(m);
  const bool list_writes = starts_with(m, "ldm") || starts_with(m, "pop") ||
                           starts_with(m, "vpop") || starts_with(m, "vldm");
  const bool two_writes =
      starts_with(m, "ldrd") || one_of(m, {"umull", "smull", "umlal", "smlal", "vmov"});
  const bool accumulates = one_of(m, {"mla", "mls", "smlad", "smladx", "smlsd", "smlabb", "smlabt",
                                      "smlatb", "smlatt", "smlawb", "smlawt"});
  int index = 0;
  bool in_brackets = false, in_braces = false, shift_seen = false;
  size_t i = 0;
  while (i < ops.size()) {
    const char c = ops[i];
    if (c == '[') in_brackets = true;
    if (c == ']') in_brackets = false;
    if (c == '{') in_braces = true;
    if (c == '}') in_braces = false;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < ops.size() && ((ops[j] >= 'a' && ops[j] <= 'z') || (ops[j] >= '0' && ops[j] <= '9')))
      ++j;
    const std::string_view word = ops.substr(i, j - i);
    i = j;
    if (one_of(word, {"lsl", "lsr", "asr", "ror", "rrx"})) shift_seen = true;
    const uint64_t bits = register_bits(word);
    if (!bits) continue;
    const bool written = !reads_only && !in_brackets &&
                         (list_writes ? in_braces : index == 0 || (two_writes && index == 1));
    if (written) {
      o.writes |= bits;
      if (two_writes && one_of(m, {"umlal", "smlal"})) o.accumulator |= bits;
    } else {
      o.reads |= bits;
      if (in_brackets || (t.shifted && index > 0)) o.early |= bits;
      if (accumulates && index == 3) o.accumulator |= bits;
    }
    if (!in_brackets) ++index;
  }
  if (shift_seen && !in_brackets) o.early |= o.reads & ~o.accumulator;
  if (ops.find('!') != std::string_view::npos) o.writes |= o.early & 0xFFFF;  // writeback
  return o;
}

uint32_t list_registers(std::string_view ops) {
  const size_t open = ops.find('{');
  if (open == std::string_view::npos) return 1;
  return static_cast<uint32_t>(std::count(ops.begin() + open, ops.end(), ',') + 1);
}

bool is_mac(std::string_view m) {
  return one_of(m, {"mul",    "mla",    "mls",    "umull",  "smull",  "umlal",  "smlal",  "smmul",
                    "smmla",  "smmls",  "smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt",
                    "smuad",  "smuadx", "smusd",  "smlad",  "smladx", "smlsd",  "smlabb", "smlabt",
                    "smlatb", "smlatt", "smlawb", "smlawt", "smlald", "smlsld"});
}

// DSP/SIMD and bit-field instructions: one per cycle, the older of a pair (ARMScheduleM7.td:
// BeginGroup on the SIMD writes, Slot0Only on BFI/BFC/CLZ).
bool is_simd(std::string_view m) {
  return one_of(
      m,
      {"sadd16", "sadd8",  "uadd16", "uadd8",   "ssub16",  "ssub8",   "usub16",  "usub8",   "sasx",
       "ssax",   "uasx",   "usax",   "shadd16", "shadd8",  "uhadd16", "uhadd8",  "qadd",    "qsub",
       "qadd16", "qadd8",  "qsub16", "qsub8",   "uqadd16", "uqadd8",  "uqsub16", "uqsub8",  "qdadd",
       "qdsub",  "ssat",   "usat",   "ssat16",  "usat16",  "sxtb",    "sxth",    "uxtb",    "uxth",
       "sxtb16", "uxtb16", "sxtab",  "sxtah",   "uxtab",   "uxtah",   "sxtab16", "uxtab16", "rev",
       "rev16",  "revsh",  "rbit",   "pkhbt",   "pkhtb",   "sbfx",    "ubfx",    "bfi",     "bfc",
       "clz",    "sel",    "usad8",  "usada8"});
}

// Cortex-M7 (ARMScheduleM7.td unless marked estimate).
Traits m7_traits(std::string_view m, std::string_view ops) {
  Traits t;
  t.mac = is_mac(m);
  t.branch = branches(m);
  t.fp = m[0] == 'v';
  if (is_multiple(m)) {  // "Load/store multiples cannot be dual-issued"
    t.single = true;
    t.load = starts_with(m, "ldm") || starts_with(m, "pop") || starts_with(m, "vldm") ||
             starts_with(m, "vpop");
    t.store = !t.load;
    t.issue = (list_registers(ops) + 1) / 2;  // estimate: 64-bit data path, 2 per cycle
    if (t.issue == 0) t.issue = 1;
    return t;
  }
  if (starts_with(m, "ldr") || starts_with(m, "vldr")) {
    t.load = true;
    // Word loads have data in EX2 (latency 1); byte, halfword ("M7SlowLoad") in EX3.
    const bool narrow = starts_with(m, "ldrb") || starts_with(m, "ldrh") ||
                        starts_with(m, "ldrsb") || starts_with(m, "ldrsh");
    t.latency = narrow ? 2 : 1;
    t.single = starts_with(m, "ldrd") || (m == "vldr" && ops[0] == 'd');  // LDRD, VLDR.64
    if (m == "vldr") t.fp = true;
    return t;
  }
  if (starts_with(m, "str") || starts_with(m, "vstr")) {
    t.store = true;
    t.single = starts_with(m, "strd") || (m == "vstr" && ops[0] == 'd');
    return t;
  }
  if (one_of(m, {"sdiv", "udiv"})) {  // "stall for their latency" of 7, single issue
    t.issue = 7;
    t.single = true;
    return t;
  }
  if (one_of(m, {"tbb", "tbh"})) {  // "single-issue only; takes two cycles to issue"
    t.issue = 2;
    t.single = true;
    return t;
  }
  if (one_of(m, {"mrs", "msr", "dmb", "dsb", "isb", "svc", "bkpt", "udf", "wfi", "wfe"})) {
    t.single = true;  // "Non general purpose instructions may not be dual issued", latency 3
    t.latency = 3;
    return t;
  }
  if (t.mac) {
    t.latency = 2;  // multiplies and multiply-accumulates: latency 2, one MAC pipe
    return t;
  }
  if (one_of(m, {"vdiv", "vsqrt"})) {
    t.issue = 16;  // latency 16 (single precision); estimate: nothing overlaps it
    t.latency = 16;
    return t;
  }
  if (t.fp) {  // the FP pipe: latency 3, VMLA/VFMA family 6 (ARMScheduleM7.td)
    t.latency =
        one_of(m, {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}) ? 6 : 3;
    return t;
  }
  if (is_simd(m)) {
    t.slot0 = true;
    t.shifted = one_of(
        m, {"sxtb",  "sxth", "uxtb",  "uxth",  "sbfx",  "ubfx",  "bfi",   "bfc",   "rev",  "rev16",
            "revsh", "rbit", "pkhbt", "pkhtb", "sxtab", "sxtah", "uxtab", "uxtah", "ssat", "usat"});
    t.latency =
        one_of(m, {"qadd", "qsub", "qadd16", "qadd8", "qsub16", "qsub8", "uqadd16", "uqadd8",
                   "uqsub16", "uqsub8", "qdadd", "qdsub", "ssat", "usat", "usad8", "usada8"})
            ? 2
            : 1;
    return t;
  }
  // ALU with an immediate or register shift of its last operand: the EX1 shifter (one per
  // cycle), compares with a shift latency 2.
  const bool shift_operand =
      ops.find("lsl #") != std::string_view::npos || ops.find("lsr #") != std::string_view::npos ||
      ops.find("asr #") != std::string_view::npos || ops.find("ror #") != std::string_view::npos ||
      ops.find("rrx") != std::string_view::npos;
  t.shifted =
      shift_operand && !one_of(m, {"lsl", "lsr", "asr", "ror", "lsls", "lsrs", "asrs", "rors"});
  return t;
}

// Cortex-M33 (estimates after the M4 table and the M33 pipeline description, sim/README.md).
Traits m33_traits(std::string_view m, std::string_view ops, uint32_t size) {
  Traits t;
  const InsnCost m4 = insn_cycles(m, ops, false);
  t.issue = m4.cycles;
  t.mac = is_mac(m);
  t.branch = branches(m);
  if (starts_with(m, "ldr") || starts_with(m, "vldr")) {
    t.load = true;
    t.issue = starts_with(m, "ldrd") ? 2 : 1;  // address generated in decode: one cycle
    t.latency = 2;                             // estimate: the data arrives a cycle later
  } else if (m4.memory_access) {               // stores, load/store multiples: the M4's cycles
    t.store = true;
    t.single = true;
  } else if (t.mac) {
    t.issue = 1;  // single-cycle MAC
    t.latency = 2;
  }
  // Only two 16-bit instructions without memory access or multiply pair (16-bit dual issue).
  t.single = t.single || size != 2 || t.load || t.store || t.mac || t.issue > 1;
  t.slot0 = t.branch;  // a branch ends the pair
  return t;
}

bool may_pair(const Traits& older, const Traits& younger) {
  if (older.single || younger.single || younger.slot0) return false;
  if (older.store && younger.store) return false;  // one store pipe
  if (older.mac && younger.mac) return false;      // one MAC pipe
  if (older.shifted && younger.shifted) return false;
  if (older.branch) return false;            // the branch ends the group
  if (older.fp && younger.fp) return false;  // one FP pipe
  return true;
}

uint64_t sequence_cycles(TimingModel model, const Insn* insns, size_t n) {
  uint64_t ready[48] = {};  // cycle each register may be read at the normal stage
  uint64_t produced = 0;    // registers written earlier in the sequence (else ready at 0)
  uint64_t now = 0, free_at = 0;
  bool group_open = false;
  Traits older;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view m = insns[i].mnemonic.substr(0, insns[i].mnemonic.find('.'));
    if (m.empty()) continue;
    const Traits t = model == TimingModel::cortex_m7
                         ? m7_traits(m, insns[i].operands)
                         : m33_traits(m, insns[i].operands, insns[i].size);
    const Operands o = parse_operands(m, insns[i].operands, t);
    uint64_t earliest = 0;
    for (int r = 0; r < 48; ++r) {
      const uint64_t bit = uint64_t{1} << r;
      if (!(o.reads & produced & bit)) continue;
      uint64_t need = ready[r];
      if (o.early & bit) need += 1;                      // read a stage early
      if ((o.accumulator & bit) && need > 0) need -= 1;  // accumulator read late
      earliest = std::max(earliest, need);
    }
    if (group_open && earliest <= now && may_pair(older, t)) {
      group_open = false;  // issued beside the older instruction
    } else {
      now = std::max({free_at, earliest, i == 0 ? uint64_t{0} : now + 1});
      group_open = !t.single;
      older = t;
    }
    free_at = std::max(free_at, now + t.issue);
    for (int r = 0; r < 48; ++r)
      if (o.writes & (uint64_t{1} << r)) ready[r] = now + t.latency;
    produced |= o.writes;
  }
  return free_at;
}

}  // namespace

uint64_t block_cycles(TimingModel model, const Insn* insns, size_t n) {
  if (model == TimingModel::cortex_m7 || model == TimingModel::cortex_m33)
    return sequence_cycles(model, insns, n);
  uint64_t cycles = 0;
  bool after_memory = false;
  for (size_t i = 0; i < n; ++i) {
    const InsnCost c = insn_cycles(model, insns[i].mnemonic, insns[i].operands, after_memory);
    after_memory = c.memory_access;
    cycles += c.cycles;
  }
  return cycles;
}

uint32_t taken_branch_cycles(TimingModel model) {
  return model == TimingModel::cortex_m4 ? kTakenBranchCycles : 1;
}

const char* timing_model_name(TimingModel model) {
  switch (model) {
    case TimingModel::cortex_m0plus:
      return "cortex-m0plus";
    case TimingModel::cortex_m7:
      return "cortex-m7";
    case TimingModel::cortex_m33:
      return "cortex-m33";
    case TimingModel::cortex_m4:
      break;
  }
  return "cortex-m4";
}

}  // namespace tinyforge::sim
