// Memory regions of a device for `--memory`, e.g. "sram=128K,ccm=64K,psram=8M:slow,flash=2M:xip":
//   spec   := region (',' region)*
//   region := name '=' size (':' attr)*
//   name   := a lower-case letter, then lower-case letters, digits or '_' (at most 11)
//   size   := a whole number of bytes with an optional suffix K (1024) or M (1024^2)
//   attr   := slow          wait states default to kSlowWaitStates (unless ws= is given)
//           | xip           read-only memory the plan blob is read from in place (flash);
//                           at most one; never holds activations
//           | ws=N          wait states per data access, 0..kMaxWaitStates
//           | at=0xHEX      base address (firmware and emulator); default from the board
//                           or the generic map (docs/cli.md)
// Writable regions hold activations (kMaxMemoryRegions at most); their order by wait states
// (then as listed) is the order of speed the planner fills them in.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/error.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::plan {

constexpr uint32_t kSlowWaitStates = 4;  // a guess for external PSRAM, not a datasheet figure
constexpr uint32_t kMaxWaitStates = 64;
constexpr uint32_t kMaxMemoryRegions = kMaxRegions;  // writable regions

struct MemorySpecError : tinyforge::Error {
  using tinyforge::Error::Error;
};

struct MemoryRegionSpec {
  std::string name;
  uint32_t bytes = 0;
  uint32_t wait_states = 0;
  bool wait_states_given = false;  // ws= (else a board's figure may replace the default)
  bool slow = false;
  bool xip = false;
  std::optional<uint32_t> origin;  // at=
};

// Throws MemorySpecError naming the part that is wrong and what was expected.
std::vector<MemoryRegionSpec> parse_memory_spec(const std::string& text);

// The writable regions, fastest first (fewest wait states, then in the order given).
std::vector<MemoryRegionSpec> writable_regions_by_speed(const std::vector<MemoryRegionSpec>& spec);

// The xip region, if any.
std::optional<MemoryRegionSpec> xip_region(const std::vector<MemoryRegionSpec>& spec);

}  // namespace tinyforge::plan
