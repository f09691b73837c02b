// Offline arena planner: buffers with a size and a lifetime (first and last op that
// touches them) in, arena offsets out, such that buffers alive at the same time never
// overlap. Independent of models: testable on plain lists of buffers.
//
// It runs on the host, so it can afford a search TFLM's on-device greedy planner cannot:
// several greedy orders are tried and the smallest arena kept. Buffers of an op that runs
// in place may overlap by the op's rule (Overlap).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinyforge::plan {

struct Buffer {
  uint32_t size = 0;
  int first = 0;  // first op index that uses it (-1: before the first op, e.g. model input)
  int last = 0;   // last op index that uses it (inclusive)
};

// Buffers `input` and `output` (indices) may overlap provided
// offset(input) - offset(output) >= min_gap: an op that runs in place (plan/overlap.h).
struct Overlap {
  size_t input = 0, output = 0;
  int64_t min_gap = 0;
};

struct MemoryPlan {
  std::vector<uint32_t> offsets;  // one per buffer
  uint32_t arena_size = 0;
};

// Every offset is a multiple of `alignment` (a power of two).
// `search` false: only the first greedy order (largest first), no search.
MemoryPlan plan_memory(const std::vector<Buffer>& buffers, uint32_t alignment = 4,
                       const std::vector<Overlap>& overlaps = {}, bool search = true);

// True when no two buffers with overlapping lifetimes overlap in memory (except as an
// `overlaps` rule allows) and every buffer fits in arena_size (tests and self-check).
bool memory_plan_is_valid(const std::vector<Buffer>& buffers, const MemoryPlan& plan,
                          const std::vector<Overlap>& overlaps = {});

}  // namespace tinyforge::plan
