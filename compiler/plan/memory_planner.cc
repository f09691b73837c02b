#include "plan/memory_planner.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace tinyforge::plan {
namespace {

bool lifetimes_overlap(const Buffer& a, const Buffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

// The overlap rule between buffers i and j, if any: min_gap and whether i is the input.
struct PairRule {
  bool present = false;
  bool i_is_input = false;
  int64_t min_gap = 0;
};

class Rules {
 public:
  explicit Rules(const std::vector<Overlap>& overlaps) : rules_(overlaps) {}
  PairRule find(size_t i, size_t j) const {
    for (const Overlap& o : rules_) {
      if (o.input == i && o.output == j) return {true, true, o.min_gap};
      if (o.input == j && o.output == i) return {true, false, o.min_gap};
    }
    return {};
  }

 private:
  std::vector<Overlap> rules_;
};

// Start offsets [lo, hi) at which buffer x (size sx) may not be placed, given buffer y
// placed at `y` (size sy) whose lifetime overlaps x's.
std::pair<int64_t, int64_t> forbidden_starts(int64_t sx, int64_t y, int64_t sy, const PairRule& rule) {
  int64_t lo = y - sx + 1, hi = y + sy;  // any overlap
  if (rule.present) {
    if (rule.i_is_input)  // x - y >= gap is fine
      hi = std::min(hi, y + rule.min_gap);
    else  // y - x >= gap is fine
      lo = std::max(lo, y - rule.min_gap + 1);
  }
  return {lo, hi};
}

// Places buffers in the given order, each at the lowest aligned offset where it does not
// collide with an already placed buffer whose lifetime overlaps its own.
MemoryPlan place_in_order(const std::vector<Buffer>& buffers, const std::vector<size_t>& order,
                          uint32_t alignment, const Rules& rules) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> forbidden;
  for (size_t i : order) {
    const Buffer& b = buffers[i];
    forbidden.clear();
    for (size_t j : placed)
      if (lifetimes_overlap(b, buffers[j])) {
        const auto f = forbidden_starts(b.size, plan.offsets[j], buffers[j].size, rules.find(i, j));
        if (f.first < f.second) forbidden.push_back(f);
      }
    std::sort(forbidden.begin(), forbidden.end());
    int64_t offset = 0;
    for (const auto& [lo, hi] : forbidden) {
      if (offset < lo) break;  // free: every later range starts even further up
      if (offset < hi) offset = align_up(static_cast<uint32_t>(hi), alignment);
    }
    plan.offsets[i] = static_cast<uint32_t>(offset);
    plan.arena_size = std::max<uint32_t>(plan.arena_size, static_cast<uint32_t>(offset + b.size));
    placed.push_back(i);
  }
  plan.arena_size = align_up(plan.arena_size, alignment);
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<Buffer>& buffers, uint32_t alignment,
                       const std::vector<Overlap>& overlaps) {
  const Rules rules(overlaps);
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
      // latest first use first: a chain of in-place ops needs each output below its input
      [](const Buffer& a, const Buffer& b) {
        return a.first != b.first ? a.first > b.first : a.size > b.size;
      },
  };
  MemoryPlan best;
  std::vector<size_t> best_order;
  for (Less less : orders) {
    std::vector<size_t> order = base;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return less(buffers[x], buffers[y]); });
    MemoryPlan p = place_in_order(buffers, order, alignment, rules);
    if (best_order.empty() || p.arena_size < best.arena_size) {
      best = std::move(p);
      best_order = order;
    }
  }
  // Local search from the best greedy order: move one buffer elsewhere in the order and
  // keep the result when the arena does not grow (sideways moves cross plateaus). A fixed
  // seed keeps plans reproducible. This is what finds in-place chains, where an output
  // must be placed before (below) its input.
  const size_t n = buffers.size();
  if (n >= 2) {
    std::mt19937 rng(12345);
    const int iterations = static_cast<int>(std::min<size_t>(4000, 60 * n));
    for (int it = 0; it < iterations; ++it) {
      std::vector<size_t> order = best_order;
      const size_t from = rng() % n, to = rng() % n;
      const size_t moved = order[from];
      order.erase(order.begin() + static_cast<std::ptrdiff_t>(from));
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(to), moved);
      MemoryPlan p = place_in_order(buffers, order, alignment, rules);
      if (p.arena_size <= best.arena_size) {
        best = std::move(p);
        best_order = std::move(order);
      }
    }
  }
  return best;
}

bool memory_plan_is_valid(const std::vector<Buffer>& buffers, const MemoryPlan& plan,
                          const std::vector<Overlap>& overlaps) {
  if (plan.offsets.size() != buffers.size()) return false;
  const Rules rules(overlaps);
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (uint64_t{plan.offsets[i]} + buffers[i].size > plan.arena_size) return false;
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      if (!lifetimes_overlap(buffers[i], buffers[j])) continue;
      const int64_t a0 = plan.offsets[i], a1 = a0 + buffers[i].size;
      const int64_t b0 = plan.offsets[j], b1 = b0 + buffers[j].size;
      if (!(a0 < b1 && b0 < a1)) continue;
      const PairRule r = rules.find(i, j);
      if (!r.present) return false;
      const int64_t gap = r.i_is_input ? a0 - b0 : b0 - a0;  // input offset - output offset
      if (gap < r.min_gap) return false;
    }
  }
  return true;
}

}  // namespace tinyforge::plan
