// Where the --memory regions are on a device: base addresses and wait states for the
// firmware's linker script and the emulator. A region's base is its `at=`, else the board's
// region of that name (boards.json: `flash`, `ram` as `sram`, and the board's `regions`),
// else the generic map's default for a few common names (docs/cli.md). Wait states: the
// spec's ws=, else the board's figure, else the spec's default (0, or slow's).
#pragma once
#include <string>
#include <vector>

#include "emit/cortex_m_targets.h"
#include "plan/memory_spec.h"

namespace tinyforge::emit {

struct PlacedRegion {
  plan::MemoryRegionSpec spec;  // wait states resolved, origin set
  bool main_ram = false;        // the linker's RAM (stack, .data, .bss) starts here
};

// `board` nullptr: the generic map. Throws tinyforge::Error for a region without a known base
// address (give it at=0x...), or regions that overlap each other or the main RAM.
std::vector<PlacedRegion> place_memory(const std::vector<plan::MemoryRegionSpec>& spec,
                                       const Board* board);

// The spec with the placed regions' wait states (what the planner should rank by).
std::vector<plan::MemoryRegionSpec> resolved_spec(const std::vector<PlacedRegion>& placed);

}  // namespace tinyforge::emit
