// One arena for several models in one firmware (`tinyforge compile A B ... --shared-arena`).
// The plans are unchanged: each model gets a region of the shared buffer, at an offset that
// its Runtime is given as its arena (`init(blob, size, arena + offset, region_bytes)`).
// Models that never run at the same time share memory; models that may run concurrently
// (declared in groups) get disjoint regions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinyforge::plan {

struct SharedArena {
  std::vector<uint32_t> offsets;  // per model, multiples of 16
  std::vector<uint32_t> regions;  // per model: its arena rounded up to 16 (the firmware's buffer)
  uint32_t total_bytes = 0;       // the shared buffer: max of offset + region
  uint32_t separate_bytes = 0;    // one buffer per model: sum of regions
};

// `arena_bytes`: each model's planned arena. `concurrent`: groups of model indices whose
// members may run at the same time (pairwise disjoint regions); every other pair may
// overlap. First fit, largest region first: a model goes to the lowest offset that
// overlaps none of the already placed models it may run with. Throws tinyforge::Error for
// an index out of range.
SharedArena plan_shared_arena(const std::vector<uint32_t>& arena_bytes,
                              const std::vector<std::vector<size_t>>& concurrent);

}  // namespace tinyforge::plan
