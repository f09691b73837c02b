// Runs a bare-metal Cortex-M firmware ELF from reset in Unicorn and measures exactly one
// inference, following the protocol of ../shared/tools/m4sim/README.md and counting the
// same way m4sim does, so both report the same instruction count for the same ELF:
//   - every instruction of every translated block executed between the markers counts
//     (so an IT-block instruction whose condition fails counts, as the core executes it);
//     the block of tinyforge_bench_begin is not counted, the block of _end is;
//   - cycles by a static model of cycle_model.h (m4sim's Cortex-M4 table, or the Cortex-M0+
//     table for that core), + a refill per taken branch (a block entered other than by
//     falling through), + the wait states of RunOptions::wait_states per data access;
//   - stack high-water by painting RAM with 0xA5 before reset and finding, after the run,
//     the lowest overwritten byte between __stack_limit and the initial SP;
//   - flash/RAM/model/code bytes from the ELF's sections.
// Semihosting (BKPT 0xAB: SYS_WRITEC, SYS_WRITE0, SYS_WRITE, SYS_EXIT) is answered; the
// text is collected in RunResult::console. Throws sim::Error for a firmware that breaks the
// protocol, faults, or runs past the instruction limit.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/cycle_model.h"
#include "sim/elf_reader.h"

namespace tinyforge::sim {

enum class Cpu { cortex_m0, cortex_m4, cortex_m7, cortex_m33 };

// "cortex-m0", "cortex-m4", "cortex-m7", "cortex-m33" (also "cortex-m0plus": Unicorn's
// M0 model runs the same Armv6-M instruction set). Throws sim::Error for other names.
Cpu cpu_from_name(const std::string& name);

// The timing table of a core: Cortex-M0+ for cortex_m0, else m4sim's Cortex-M4 table.
TimingModel timing_model(Cpu cpu);

// Memory of the emulated device, for RunOptions::on_op (reads throw sim::Error when the
// range is not mapped).
class Memory {
 public:
  virtual ~Memory() = default;
  virtual std::vector<uint8_t> read(uint32_t address, uint32_t size) = 0;
  virtual void write(uint32_t address, const std::vector<uint8_t>& bytes) = 0;
};

// Counters at the end of one op: a firmware built with op markers (`emit::FirmwareOptions::
// op_markers`) calls the non-inlined `tinyforge_op_end(op_index)` after every op; the
// emulator records the counters when that function is entered. The op's cost is the
// difference to the previous mark (or to tinyforge_bench_begin for the first op); it
// includes the few instructions of the marker call itself.
struct OpMark {
  uint32_t op_index = 0;
  uint64_t instructions = 0, cycles = 0;
};

// Memory that costs extra cycles per data access (--memory: PSRAM, flash wait states):
// every load or store the core makes in [begin, end) while the inference runs adds
// `wait_states` cycles. Instruction fetches are not charged.
struct WaitStateRange {
  std::string name;
  uint32_t begin = 0;
  uint64_t end = 0;
  uint32_t wait_states = 0;
};

struct RunOptions {
  Cpu cpu = Cpu::cortex_m4;
  std::optional<std::vector<uint8_t>> input;  // written to tinyforge_input before reset
  uint64_t max_instructions = 2'000'000'000;  // over the whole run, not only the inference
  // Called every 2^24 instructions with the count so far (progress of long runs).
  std::function<void(uint64_t instructions)> progress;
  // Called at every op mark while the inference runs: read the op's outputs, or (tests)
  // patch them. An exception it throws stops the run and is rethrown as sim::Error.
  std::function<void(uint32_t op_index, Memory& memory)> on_op;
  std::vector<WaitStateRange> wait_states;  // empty: memory costs what the timing table says
};

// Data accesses in one WaitStateRange during the inference, and the cycles they added.
struct RegionAccesses {
  std::string name;
  uint64_t accesses = 0, wait_cycles = 0;
};

struct RunResult {
  uint64_t instructions = 0;  // between the markers
  uint64_t cycles_estimate = 0;
  TimingModel timing = TimingModel::cortex_m4;
  uint64_t taken_branches = 0;
  uint64_t total_instructions = 0;  // from reset to tinyforge_done
  uint32_t stack_bytes = 0;         // high-water mark
  uint32_t stack_region_bytes = 0;  // [stack floor, initial SP): stack_bytes == this means overflow
  uint64_t flash_bytes = 0;         // loaded sections + .data initial values
  uint64_t ram_static_bytes = 0;    // allocated sections in RAM (.data, .bss, .noinit, ...)
  std::optional<uint64_t> model_bytes, code_bytes;  // when .tinyforge.model exists
  std::optional<uint32_t> arena_used;               // tinyforge_arena_used, when defined
  std::vector<uint8_t> output;                      // tinyforge_output after the run
  std::string console;                              // semihosting output
  std::vector<OpMark> op_marks;                     // one per op when the firmware has op markers
  std::vector<RegionAccesses> region_accesses;      // one per RunOptions::wait_states range
};

RunResult run_firmware(const ElfImage& elf, const RunOptions& options);

}  // namespace tinyforge::sim
