// Places arena buffers in several memory regions (--memory): each buffer goes to the fastest
// region that still fits it, hottest buffers (most bytes accessed per byte of buffer) first,
// smaller first among equals; within a region the offsets come from plan_memory. Buffers
// marked `pinned` (op scratch: the plan format keeps it in region 0) stay in the fastest
// region. Independent of models like plan_memory; estimate_accesses gives a plan's heat.
#pragma once
#include <string>
#include <vector>

#include "plan/memory_planner.h"
#include "plan/plan.h"

namespace tinyforge::plan {

struct RegionCapacity {
  std::string name;
  uint32_t bytes = 0;
};

struct RegionBuffer {
  Buffer buffer;
  double heat = 0;  // bytes accessed per inference / buffer size
  bool pinned = false;
};

struct RegionPlan {
  std::vector<uint32_t> region;        // per buffer: index into the regions given
  std::vector<uint32_t> offsets;       // per buffer: offset in its region
  std::vector<uint32_t> region_bytes;  // per region: bytes used (aligned)
};

// `regions` fastest first. Throws tinyforge::Error naming the region and the bytes missing
// when a buffer fits nowhere (pinned ones: region 0; others: the last region).
RegionPlan plan_regions(const std::vector<RegionBuffer>& buffers,
                        const std::vector<RegionCapacity>& regions, uint32_t alignment,
                        const std::vector<Overlap>& overlaps = {}, bool search = true);

// Bytes each plan tensor is read or written in one inference, estimated from the ops:
// a conv / depthwise / fully-connected op reads its input and its filter once per
// multiply-accumulate (MACs = output elements x weights per output channel), its other
// constants once per output pixel; every other op reads each input and writes its output
// once. Constants shared by ops add up.
std::vector<uint64_t> estimate_accesses(const Plan& plan);

}  // namespace tinyforge::plan
