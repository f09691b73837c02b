#include "sim/emulator.h"

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <utility>

#include "sim/cycle_model.h"
#include "sim/error.h"

namespace tinyforge::sim {
namespace {

constexpr uint8_t kStackPaint = 0xA5;
constexpr uint64_t kPage = 0x1000;
constexpr uint64_t kRamBase = 0x20000000;  // protocol: RAM at or above, flash below
constexpr uint64_t kScsBase = 0xE0000000, kScsEnd = 0xE0100000;  // system control space
constexpr uint64_t kStackWindow = 0x400000;                      // mapped below the initial SP
constexpr const char* kModelSection = ".tinyforge.model";

std::string hex32(uint64_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(v));
  return buf;
}

struct UcCloser {
  void operator()(uc_engine* uc) const { uc_close(uc); }
};
using UcPtr = std::unique_ptr<uc_engine, UcCloser>;

class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_ARM, static_cast<cs_mode>(CS_MODE_THUMB | CS_MODE_MCLASS), &handle_) !=
        CS_ERR_OK)
      throw Error("capstone: cannot open a Thumb disassembler");
  }
  ~Disassembler() { cs_close(&handle_); }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;
  csh handle() const { return handle_; }

 private:
  csh handle_ = 0;
};

struct BlockCost {
  uint32_t instructions, cycles;
};

// Everything the hooks share. Unicorn calls C callbacks: errors are stored and the run
// stopped, then thrown by run_firmware.
struct State {
  Disassembler cs;
  std::unordered_map<uint64_t, BlockCost> block_cache;  // key: address << 32 | size
  TimingModel timing = TimingModel::cortex_m4;
  uint32_t begin = 0, end = 0, done = 0, op_end = 0;
  bool on = false, seen_begin = false, seen_end = false, stopped_at_done = false, exited = false;
  uint64_t instructions = 0, cycles = 0, taken = 0, total = 0, max_total = 0;
  std::optional<uint64_t> prev_end;
  std::string console, error;
  std::function<void(uint64_t)> progress;
  std::function<void(uint32_t, Memory&)> on_op;
  std::vector<OpMark> op_marks;
  std::vector<WaitStateRange> waits;
  std::vector<RegionAccesses> accesses;  // by waits index
};

// Both hooks of one wait-state range carry its index.
struct WaitHookArg {
  State* state;
  size_t range;
};

void on_wait_access(uc_engine*, uc_mem_type, uint64_t, int, int64_t, void* user) {
  const WaitHookArg& arg = *static_cast<WaitHookArg*>(user);
  State& st = *arg.state;
  if (!st.on) return;
  RegionAccesses& a = st.accesses[arg.range];
  ++a.accesses;
  a.wait_cycles += st.waits[arg.range].wait_states;
  st.cycles += st.waits[arg.range].wait_states;
}

class UcMemory : public Memory {
 public:
  explicit UcMemory(uc_engine* uc) : uc_(uc) {}
  std::vector<uint8_t> read(uint32_t address, uint32_t size) override {
    std::vector<uint8_t> b(size);
    if (size && uc_mem_read(uc_, address, b.data(), size) != UC_ERR_OK)
      throw Error("cannot read " + std::to_string(size) + " bytes at " + hex32(address));
    return b;
  }
  void write(uint32_t address, const std::vector<uint8_t>& bytes) override {
    if (!bytes.empty() && uc_mem_write(uc_, address, bytes.data(), bytes.size()) != UC_ERR_OK)
      throw Error("cannot write " + std::to_string(bytes.size()) + " bytes at " + hex32(address));
  }

 private:
  uc_engine* uc_;
};

uint32_t read_u32(uc_engine* uc, uint64_t address) {
  uint8_t b[4];
  if (uc_mem_read(uc, address, b, 4) != UC_ERR_OK)
    throw Error("cannot read memory at " + hex32(address));
  return b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24;
}

BlockCost block_cost(State& st, uc_engine* uc, uint64_t address, uint32_t size) {
  const uint64_t key = address << 32 | size;
  auto it = st.block_cache.find(key);
  if (it != st.block_cache.end()) return it->second;
  std::vector<uint8_t> code(size);
  BlockCost cost{0, 0};
  if (size > 0 && uc_mem_read(uc, address, code.data(), size) == UC_ERR_OK) {
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(st.cs.handle(), code.data(), size, address, 0, &insn);
    std::vector<Insn> seq(n);
    for (size_t i = 0; i < n; ++i) seq[i] = {insn[i].mnemonic, insn[i].op_str, insn[i].size};
    cost.cycles = static_cast<uint32_t>(block_cycles(st.timing, seq.data(), n));
    cost.instructions = static_cast<uint32_t>(n);
    if (insn) cs_free(insn, n);
  }
  st.block_cache.emplace(key, cost);
  return cost;
}

void on_block(uc_engine* uc, uint64_t address, uint32_t size, void* user) {
  State& st = *static_cast<State*>(user);
  const BlockCost c = block_cost(st, uc, address, size);
  constexpr int kProgressShift = 24;
  if (st.progress && (st.total + c.instructions) >> kProgressShift != st.total >> kProgressShift)
    st.progress(st.total + c.instructions);
  st.total += c.instructions;
  if (st.on) {
    st.instructions += c.instructions;
    st.cycles += c.cycles;
    if (st.prev_end && address != *st.prev_end) {
      st.cycles += taken_branch_cycles(st.timing);
      ++st.taken;
    }
  }
  st.prev_end = address + size;
  if (st.total > st.max_total) {
    st.error = "the firmware ran more than " + std::to_string(st.max_total) +
               " instructions (raise the cap with --max-instructions)";
    uc_emu_stop(uc);
  }
}

void on_marker(uc_engine* uc, uint64_t address, uint32_t, void* user) {
  State& st = *static_cast<State*>(user);
  if (address == st.begin && !st.seen_begin) {
    st.seen_begin = st.on = true;
  } else if (address == st.end && st.seen_begin && !st.seen_end) {
    st.seen_end = true;
    st.on = false;
  } else if (address == st.op_end && st.on) {
    uint32_t op = 0;
    uc_reg_read(uc, UC_ARM_REG_R0, &op);
    st.op_marks.push_back({op, st.instructions, st.cycles});
    if (st.on_op) {
      try {
        UcMemory memory(uc);
        st.on_op(op, memory);
      } catch (const std::exception& e) {
        st.error = "after op " + std::to_string(op) + ": " + e.what();
        uc_emu_stop(uc);
      }
    }
  } else if (address == st.done) {
    st.stopped_at_done = true;
    uc_emu_stop(uc);
  }
}

void return_from_bkpt(uc_engine* uc, uint32_t pc) {
  uint32_t zero = 0, next = (pc + 2) | 1;
  uc_reg_write(uc, UC_ARM_REG_R0, &zero);
  uc_reg_write(uc, UC_ARM_REG_PC, &next);
}

// Semihosting operations: Arm "Semihosting for AArch32 and AArch64", SYS_WRITEC 0x03,
// SYS_WRITE0 0x04, SYS_WRITE 0x05 (r1 -> handle, buffer, length), SYS_EXIT 0x18,
// SYS_EXIT_EXTENDED 0x20. Other operations return 0.
void on_interrupt(uc_engine* uc, uint32_t intno, void* user) {
  State& st = *static_cast<State*>(user);
  try {
    uint32_t pc = 0, op = 0, arg = 0;
    uc_reg_read(uc, UC_ARM_REG_PC, &pc);
    pc &= ~1u;
    uint8_t hw[2] = {0, 0};
    if (uc_mem_read(uc, pc, hw, 2) != UC_ERR_OK || (hw[0] | hw[1] << 8) != 0xBEAB) {
      st.error = "exception " + std::to_string(intno) + " at pc=" + hex32(pc) +
                 " (not a semihosting call)";
      uc_emu_stop(uc);
      return;
    }
    uc_reg_read(uc, UC_ARM_REG_R0, &op);
    uc_reg_read(uc, UC_ARM_REG_R1, &arg);
    switch (op) {
      case 0x03: {
        uint8_t c = 0;
        if (uc_mem_read(uc, arg, &c, 1) != UC_ERR_OK)
          throw Error("SYS_WRITEC: bad pointer " + hex32(arg));
        st.console.push_back(static_cast<char>(c));
        break;
      }
      case 0x04: {
        for (uint32_t i = 0; i < 4096; ++i) {
          uint8_t c = 0;
          if (uc_mem_read(uc, uint64_t{arg} + i, &c, 1) != UC_ERR_OK || c == 0) break;
          st.console.push_back(static_cast<char>(c));
        }
        break;
      }
      case 0x05: {
        const uint32_t handle = read_u32(uc, arg), buffer = read_u32(uc, uint64_t{arg} + 4);
        const uint32_t length = std::min<uint32_t>(read_u32(uc, uint64_t{arg} + 8), 1u << 16);
        if (handle == 1 || handle == 2) {
          std::string text(length, '\0');
          if (length && uc_mem_read(uc, buffer, text.data(), length) != UC_ERR_OK)
            throw Error("SYS_WRITE: bad buffer " + hex32(buffer));
          st.console += text;
        }
        break;
      }
      case 0x18:
      case 0x20:
        st.exited = true;
        uc_emu_stop(uc);
        return;
      default:
        break;
    }
    return_from_bkpt(uc, pc);
  } catch (const Error& e) {
    st.error = e.what();
    uc_emu_stop(uc);
  }
}

uc_cpu_arm unicorn_cpu(Cpu cpu) {
  switch (cpu) {
    case Cpu::cortex_m0:
      return UC_CPU_ARM_CORTEX_M0;
    case Cpu::cortex_m4:
      return UC_CPU_ARM_CORTEX_M4;
    case Cpu::cortex_m7:
      return UC_CPU_ARM_CORTEX_M7;
    case Cpu::cortex_m33:
      return UC_CPU_ARM_CORTEX_M33;
  }
  return UC_CPU_ARM_CORTEX_M4;
}

void check(uc_err err, const std::string& what) {
  if (err != UC_ERR_OK) throw Error(what + ": " + uc_strerror(err));
}

struct Symbol {
  uint32_t address, size;
};

Symbol required_symbol(const ElfImage& elf, const std::string& name) {
  auto s = elf.symbol(name);
  if (!s)
    throw Error("the ELF does not define `" + name +
                "` (see the measurement protocol in sim/README.md)");
  return {s->value & ~1u, s->size};
}

// Memory map: every loaded range (at its load and run address, page aligned), the stack
// window below the initial SP and the system control space, overlapping ranges merged.
std::vector<std::pair<uint64_t, uint64_t>> memory_ranges(const ElfImage& elf, uint32_t sp0) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const ElfSegment& s : elf.segments) {
    const uint64_t span = std::max<uint64_t>(s.memsz, s.data.size());
    for (uint64_t a : {uint64_t{s.paddr}, uint64_t{s.vaddr}})
      ranges.emplace_back(a & ~(kPage - 1), (a + span + kPage - 1) & ~(kPage - 1));
  }
  const uint64_t stack_top = (uint64_t{sp0} + kPage - 1) & ~(kPage - 1);
  ranges.emplace_back(
      std::max<uint64_t>(kRamBase, stack_top > kStackWindow ? stack_top - kStackWindow : 0),
      stack_top);
  ranges.emplace_back(kScsBase, kScsEnd);
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : ranges) {
    if (r.first >= r.second) continue;
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  for (const auto& r : merged)
    if (r.second > (uint64_t{1} << 32))
      throw Error("the ELF's memory map runs past the 4 GiB address space");
  return merged;
}

void measure_sizes(const ElfImage& elf, RunResult& res) {
  // Sections by name, a later duplicate replacing an earlier one (as m4sim's table does).
  std::unordered_map<std::string, const ElfSection*> by_name;
  for (const ElfSection& s : elf.sections) by_name[s.name] = &s;
  for (const auto& [name, s] : by_name) {
    if (!(s->flags & kShfAlloc) || s->size == 0) continue;
    const bool has_bytes = s->type != kShtNobits;
    if (has_bytes && s->addr < kRamBase) res.flash_bytes += s->size;
    if (s->addr >= kRamBase) {
      res.ram_static_bytes += s->size;
      if (has_bytes) res.flash_bytes += s->size;  // .data initial values live in flash too
    }
  }
  if (auto it = by_name.find(kModelSection); it != by_name.end()) {
    res.model_bytes = it->second->size;
    res.code_bytes = res.flash_bytes - it->second->size;
  }
}

// Default stack floor: the end of the highest allocated RAM section below the initial SP.
std::optional<uint64_t> static_ram_end(const ElfImage& elf, uint32_t sp0) {
  std::optional<uint64_t> end;
  for (const ElfSection& s : elf.sections)
    if ((s.flags & kShfAlloc) && s.size && s.addr >= kRamBase && s.addr < sp0)
      end = std::max<uint64_t>(end.value_or(0), uint64_t{s.addr} + s.size);
  return end;
}

}  // namespace

TimingModel timing_model(Cpu cpu) {
  switch (cpu) {
    case Cpu::cortex_m0:
      return TimingModel::cortex_m0plus;
    case Cpu::cortex_m7:
      return TimingModel::cortex_m7;
    case Cpu::cortex_m33:
      return TimingModel::cortex_m33;
    case Cpu::cortex_m4:
      break;
  }
  return TimingModel::cortex_m4;
}

Cpu cpu_from_name(const std::string& name) {
  if (name == "cortex-m0" || name == "cortex-m0plus") return Cpu::cortex_m0;
  if (name == "cortex-m4") return Cpu::cortex_m4;
  if (name == "cortex-m7") return Cpu::cortex_m7;
  if (name == "cortex-m33") return Cpu::cortex_m33;
  throw Error("unknown emulated CPU `" + name + "` (cortex-m0, cortex-m4, cortex-m7, cortex-m33)");
}

RunResult run_firmware(const ElfImage& elf, const RunOptions& options) {
  if (elf.segments.empty()) throw Error("the ELF has no loadable segment");
  if (!elf.has_symtab) throw Error("the ELF has no symbol table (do not strip it)");
  const ElfSegment& low =
      *std::min_element(elf.segments.begin(), elf.segments.end(),
                        [](const ElfSegment& a, const ElfSegment& b) { return a.paddr < b.paddr; });
  if (low.data.size() < 8) throw Error("no vector table at the lowest loaded address");
  const uint32_t sp0 =
      low.data[0] | low.data[1] << 8 | low.data[2] << 16 | static_cast<uint32_t>(low.data[3]) << 24;
  const uint32_t reset =
      low.data[4] | low.data[5] << 8 | low.data[6] << 16 | static_cast<uint32_t>(low.data[7]) << 24;

  const Symbol in = required_symbol(elf, "tinyforge_input");
  const Symbol out = required_symbol(elf, "tinyforge_output");
  auto state = std::make_unique<State>();
  State& st = *state;
  st.begin = required_symbol(elf, "tinyforge_bench_begin").address;
  st.end = required_symbol(elf, "tinyforge_bench_end").address;
  st.done = required_symbol(elf, "tinyforge_done").address;
  if (auto op_end = elf.symbol("tinyforge_op_end")) st.op_end = op_end->value & ~1u;
  st.max_total = options.max_instructions;
  st.progress = options.progress;
  st.on_op = options.on_op;
  st.timing = timing_model(options.cpu);
  if (options.input && options.input->size() != in.size)
    throw Error("input is " + std::to_string(options.input->size()) +
                " bytes, tinyforge_input holds " + std::to_string(in.size));

  uc_engine* raw = nullptr;
  check(uc_open(UC_ARCH_ARM, static_cast<uc_mode>(UC_MODE_THUMB | UC_MODE_MCLASS), &raw),
        "unicorn: open");
  UcPtr uc(raw);
  check(uc_ctl_set_cpu_model(uc.get(), unicorn_cpu(options.cpu)), "unicorn: CPU model");

  const auto ranges = memory_ranges(elf, sp0);
  uint64_t ram_lo = 0;
  for (const auto& [lo, hi] : ranges) {
    check(uc_mem_map(uc.get(), lo, hi - lo, UC_PROT_ALL),
          "unicorn: map " + hex32(lo) + ".." + hex32(hi));
    if (lo < kScsBase) ram_lo = std::max(ram_lo, lo);
  }
  // Paint RAM so the stack high-water mark can be found after the run.
  for (const auto& [lo, hi] : ranges) {
    if (lo < kRamBase || lo >= kScsBase) continue;
    const std::vector<uint8_t> paint(hi - lo, kStackPaint);
    check(uc_mem_write(uc.get(), lo, paint.data(), paint.size()), "unicorn: paint RAM");
    ram_lo = lo;
  }
  for (const ElfSegment& s : elf.segments)
    if (!s.data.empty())
      check(uc_mem_write(uc.get(), s.paddr, s.data.data(), s.data.size()),
            "loading segment at " + hex32(s.paddr));
  if (options.input && !options.input->empty())
    check(uc_mem_write(uc.get(), in.address, options.input->data(), options.input->size()),
          "writing tinyforge_input");

  uc_hook hook;
  check(
      uc_hook_add(uc.get(), &hook, UC_HOOK_INTR, reinterpret_cast<void*>(on_interrupt), &st, 1, 0),
      "unicorn: hook");
  check(uc_hook_add(uc.get(), &hook, UC_HOOK_BLOCK, reinterpret_cast<void*>(on_block), &st, 1, 0),
        "unicorn: hook");
  for (uint32_t a : {st.begin, st.end, st.done})
    check(uc_hook_add(uc.get(), &hook, UC_HOOK_CODE, reinterpret_cast<void*>(on_marker), &st, a, a),
          "unicorn: hook");
  if (st.op_end)
    check(uc_hook_add(uc.get(), &hook, UC_HOOK_CODE, reinterpret_cast<void*>(on_marker), &st,
                      st.op_end, st.op_end),
          "unicorn: hook");
  // Registered last, only when ranges are given: a run without them is hooked as before.
  st.waits = options.wait_states;
  st.accesses.resize(st.waits.size());
  std::vector<WaitHookArg> wait_args(st.waits.size());
  for (size_t i = 0; i < st.waits.size(); ++i) {
    const WaitStateRange& w = st.waits[i];
    st.accesses[i].name = w.name;
    wait_args[i] = {&st, i};
    if (w.end <= w.begin || w.end > (uint64_t{1} << 32))
      throw Error("wait-state range " + w.name + " is empty or past the address space");
    check(uc_hook_add(uc.get(), &hook, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
                      reinterpret_cast<void*>(on_wait_access), &wait_args[i], w.begin, w.end - 1),
          "unicorn: hook");
  }
  uint32_t sp = sp0;
  check(uc_reg_write(uc.get(), UC_ARM_REG_SP, &sp), "unicorn: set SP");
  const uc_err err = uc_emu_start(uc.get(), reset | 1u, 0xFFFFFFFFu, 0, 0);
  if (!st.error.empty()) throw Error(st.error);
  if (err != UC_ERR_OK) {
    uint32_t pc = 0;
    uc_reg_read(uc.get(), UC_ARM_REG_PC, &pc);
    // Unicorn 2.0's M-profile models have no double-precision VFP (measured: vcvt.f64.f32
    // is refused on its Cortex-M4 and M7), which newlib's fpv5-d16 expf uses.
    const std::string hint = err == UC_ERR_INSN_INVALID
                                 ? " (an instruction the emulated core does not implement, "
                                   "e.g. double-precision VFP)"
                                 : "";
    throw Error("emulation fault at pc=" + hex32(pc) + ": " + uc_strerror(err) + hint);
  }
  if (!(st.seen_begin && st.seen_end))
    throw Error("the firmware never passed both tinyforge_bench_begin and tinyforge_bench_end" +
                std::string(st.exited ? " (it exited first)" : "") +
                (st.console.empty() ? "" : "; it printed: " + st.console));

  RunResult res;
  res.instructions = st.instructions;
  res.cycles_estimate = st.cycles;
  res.timing = st.timing;
  res.taken_branches = st.taken;
  res.total_instructions = st.total;
  res.console = std::move(st.console);
  res.op_marks = std::move(st.op_marks);
  res.region_accesses = std::move(st.accesses);

  uint64_t stack_lo = ram_lo;
  if (auto limit = elf.symbol("__stack_limit"))
    stack_lo = limit->value;
  else if (auto end = static_ram_end(elf, sp0))
    stack_lo = *end;
  if (stack_lo > sp0)
    throw Error("__stack_limit " + hex32(stack_lo) + " lies above the initial SP " + hex32(sp0));
  std::vector<uint8_t> region(sp0 - stack_lo);
  if (!region.empty())
    check(uc_mem_read(uc.get(), stack_lo, region.data(), region.size()), "reading the stack");
  const size_t untouched =
      std::find_if(region.begin(), region.end(), [](uint8_t b) { return b != kStackPaint; }) -
      region.begin();
  res.stack_bytes = static_cast<uint32_t>(region.size() - untouched);
  res.stack_region_bytes = static_cast<uint32_t>(region.size());

  measure_sizes(elf, res);
  res.output.resize(out.size);
  if (out.size)
    check(uc_mem_read(uc.get(), out.address, res.output.data(), out.size),
          "reading tinyforge_output");
  if (auto used = elf.symbol("tinyforge_arena_used"))
    res.arena_used = read_u32(uc.get(), used->value & ~1u);
  return res;
}

}  // namespace tinyforge::sim
