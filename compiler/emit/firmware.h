// `tinyforge firmware`: a bare-metal Cortex-M ELF that runs one inference of a plan blob
// and follows the measurement protocol of ../shared/tools/m4sim/README.md (see
// targets/firmware/bench_main.cc). Generated: DIR/src/model_data.cc holding the blob as
// a 16-byte aligned const array in section .tinyforge.model, the arena (.bss) and the
// input/output buffers (.noinit, symbol sizes = bytes of all inputs/outputs in model
// order). Built with cross_build.h into DIR/firmware.elf (+ firmware.map, link.ld); a plan
// image also gets DIR/device.json, its device profile (device_profile.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "emit/cortex_m_targets.h"
#include "emit/cross_build.h"
#include "emit/memory_map.h"
#include "emit/model_ops.h"
#include "plan/shared_arena.h"
#include "tinyforge/ops.h"

namespace tinyforge::emit {

struct FirmwareOptions {
  std::string target = "cortex-m4";
  std::string board;          // empty: the generic memory map (boots on QEMU mps2-an386)
  uint32_t min_stack = 8192;  // the link fails when less RAM than this is left for the stack
  bool aot = false;           // the plan as direct kernel calls (emit/aot_cpp.h), no blob
  // The kernels compiled in (device_profile.h resolve_kernels): "model", "all" or a list of
  // op names. Plan images only: an AOT image has no executor to run another plan.
  std::string kernels = "model";
  // After every op, call the non-inlined `tinyforge_op_end(op_index)` (per-op cycles and
  // tensors in the emulator, sim::OpMark). Adds a few instructions per op; blob only.
  bool op_markers = false;
  // --memory: the arena of each of the plan's regions goes to that region (linker section
  // .tinyforge.region.NAME unless it is the main RAM). Required for a plan with regions.
  std::vector<plan::MemoryRegionSpec> memory;
};

// Where one of the plan's arenas goes: `section` empty for .bss (the main RAM).
struct ArenaPlacement {
  std::string section;
  uint32_t bytes = 0;
};

struct FirmwareImage {
  std::string elf_path;
  CortexMTarget target;
  Board board;              // the named board, or the target's default board (figures)
  bool generic_map = true;  // linked for the generic map rather than `board`'s
  uint32_t input_bytes = 0, output_bytes = 0;
  uint32_t arena_bytes = 0;          // the plan's arena; the buffer is this rounded up to 16
  std::set<OpCode> kernels;          // compiled in (plan images; an AOT image: the plan's ops)
  std::string profile_path;          // device.json beside the ELF (plan images), else empty
  std::vector<PlacedRegion> memory;  // options.memory placed on the board (emulator waits)
  bool memory_regions = false;       // the runtime reads plans with memory regions (format 1.2)
  // The kernel paths of the runtime (int16, exact output stage, float): those the plan needs, or
  // all for `--kernels all` (runtime/src/enabled_ops.h).
  KernelPaths paths;
};

// Validates the blob with the runtime first (tinyforge::Error naming the status if it fails).
FirmwareImage build_firmware(const std::vector<uint8_t>& blob, const FirmwareOptions& options,
                             const std::string& out_dir, const Logger& log);

// Several plans in one image over one arena buffer of layout.total_bytes, model i's Runtime
// bound to [arena + offsets[i], + regions[i]) (plan/shared_arena.h). Its main
// (targets/firmware/multi_main.cc) runs the models in turn, kSharedArenaRounds times over,
// between the measurement markers: tinyforge_input holds every model's inputs in model
// order; tinyforge_output gets every model's outputs, in model order, once per round. The
// kernel set covers every model. FirmwareImage's sizes are the totals.
constexpr uint32_t kSharedArenaRounds = 2;
constexpr size_t kMaxSharedArenaModels = 8;  // multi_main.cc's Runtime objects
FirmwareImage build_shared_arena_firmware(const std::vector<std::vector<uint8_t>>& blobs,
                                          const plan::SharedArena& layout,
                                          const FirmwareOptions& options,
                                          const std::string& out_dir, const Logger& log);

// Keyword spotting from samples (targets/firmware/listen_main.cc): the blob must carry an
// audio front-end section and have one int8 input and one output. tinyforge_input holds
// `pcm_samples` 16-bit samples, every frame of which goes through the front-end into the
// model input, then one inference; stage markers (sim::OpMark) after every frame and after
// the inference. tinyforge_output = the model's output, then the window of features.
FirmwareImage build_listen_firmware(const std::vector<uint8_t>& blob, uint32_t pcm_samples,
                                    const FirmwareOptions& options, const std::string& out_dir,
                                    const Logger& log);

// The generated source for a blob (exposed for tests).
// `regions` empty: one arena in .bss (arena_bytes); else one arena per plan region.
std::string model_data_source(const std::vector<uint8_t>& blob, uint32_t input_bytes,
                              uint32_t output_bytes, uint32_t arena_bytes,
                              const std::vector<ArenaPlacement>& regions = {});

}  // namespace tinyforge::emit
