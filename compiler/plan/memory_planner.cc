#include "plan/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace tinyforge::plan {
namespace {

bool lifetimes_overlap(const Buffer& a, const Buffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

// Places buffers in the given order, each at the lowest aligned offset where it does not
// collide with an already placed buffer whose lifetime overlaps its own.
MemoryPlan place_in_order(const std::vector<Buffer>& buffers, const std::vector<size_t>& order,
                          uint32_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> placed;
  std::vector<std::pair<uint32_t, uint32_t>> busy;  // [begin, end) of conflicting buffers
  for (size_t i : order) {
    const Buffer& b = buffers[i];
    busy.clear();
    for (size_t j : placed)
      if (lifetimes_overlap(b, buffers[j]))
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + buffers[j].size);
    std::sort(busy.begin(), busy.end());
    uint32_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + b.size <= begin) break;  // fits in the gap before this one
      offset = std::max(offset, align_up(end, alignment));
    }
    plan.offsets[i] = offset;
    plan.arena_size = std::max(plan.arena_size, offset + b.size);
    placed.push_back(i);
  }
  plan.arena_size = align_up(plan.arena_size, alignment);
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<Buffer>& buffers, uint32_t alignment) {
  std::vector<size_t> base(buffers.size());
  std::iota(base.begin(), base.end(), 0);

  using Less = bool (*)(const Buffer&, const Buffer&);
  const Less orders[] = {
      // largest first (TFLM's greedy order)
      [](const Buffer& a, const Buffer& b) { return a.size > b.size; },
      // longest-lived first, then largest
      [](const Buffer& a, const Buffer& b) {
        return a.last - a.first != b.last - b.first ? a.last - a.first > b.last - b.first
                                                    : a.size > b.size;
      },
      // largest size x lifetime area first
      [](const Buffer& a, const Buffer& b) {
        return uint64_t{a.size} * (a.last - a.first + 1) > uint64_t{b.size} * (b.last - b.first + 1);
      },
      // in order of first use, largest first among equals
      [](const Buffer& a, const Buffer& b) {
        return a.first != b.first ? a.first < b.first : a.size > b.size;
      },
  };
  MemoryPlan best;
  bool have = false;
  for (Less less : orders) {
    std::vector<size_t> order = base;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return less(buffers[x], buffers[y]); });
    MemoryPlan p = place_in_order(buffers, order, alignment);
    if (!have || p.arena_size < best.arena_size) {
      best = std::move(p);
      have = true;
    }
  }
  return best;
}

bool memory_plan_is_valid(const std::vector<Buffer>& buffers, const MemoryPlan& plan) {
  if (plan.offsets.size() != buffers.size()) return false;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (uint64_t{plan.offsets[i]} + buffers[i].size > plan.arena_size) return false;
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      if (!lifetimes_overlap(buffers[i], buffers[j])) continue;
      const uint64_t a0 = plan.offsets[i], a1 = a0 + buffers[i].size;
      const uint64_t b0 = plan.offsets[j], b1 = b0 + buffers[j].size;
      if (a0 < b1 && b0 < a1) return false;
    }
  }
  return true;
}

}  // namespace tinyforge::plan
