// Offline arena planner: buffers with a size and a lifetime (first and last op that
// touches them) in, arena offsets out, such that buffers alive at the same time never
// overlap. Independent of models: testable on plain lists of buffers.
//
// It runs on the host, so it can afford a search TFLM's on-device greedy planner cannot:
// several greedy orders are tried and the smallest arena kept.
#pragma once
#include <cstdint>
#include <vector>

namespace tinyforge::plan {

struct Buffer {
  uint32_t size = 0;
  int first = 0;  // first op index that uses it (-1: before the first op, e.g. model input)
  int last = 0;   // last op index that uses it (inclusive)
};

struct MemoryPlan {
  std::vector<uint32_t> offsets;  // one per buffer
  uint32_t arena_size = 0;
};

// Every offset is a multiple of `alignment` (a power of two).
MemoryPlan plan_memory(const std::vector<Buffer>& buffers, uint32_t alignment = 4);

// True when no two buffers with overlapping lifetimes overlap in memory and every buffer
// fits in arena_size (used by tests and as a self-check).
bool memory_plan_is_valid(const std::vector<Buffer>& buffers, const MemoryPlan& plan);

}  // namespace tinyforge::plan
