#include "plan/memory_planner.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <unordered_map>

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

// The overlap rules by buffer pair, found in constant time (a model has one per in-place op).
class Rules {
 public:
  explicit Rules(const std::vector<Overlap>& overlaps) {
    for (const Overlap& o : overlaps) rules_.emplace(key(o.input, o.output), o.min_gap);
  }
  PairRule find(size_t i, size_t j) const {
    // The first rule listed for a pair wins, in either direction.
    if (auto it = rules_.find(key(i, j)); it != rules_.end()) return {true, true, it->second};
    if (auto it = rules_.find(key(j, i)); it != rules_.end()) return {true, false, it->second};
    return {};
  }

 private:
  static uint64_t key(size_t input, size_t output) {
    return (static_cast<uint64_t>(input) << 32) | static_cast<uint32_t>(output);
  }
  std::unordered_map<uint64_t, int64_t> rules_;
};

// For each buffer, the buffers whose lifetimes overlap its own: the only ones a placement has
// to look at. Found by a sweep over start times, so a long chain costs O(n log n + edges)
// instead of n^2 per placement pass.
std::vector<std::vector<size_t>> interference(const std::vector<Buffer>& buffers) {
  std::vector<size_t> by_first(buffers.size());
  std::iota(by_first.begin(), by_first.end(), 0);
  std::stable_sort(by_first.begin(), by_first.end(),
                   [&](size_t a, size_t b) { return buffers[a].first < buffers[b].first; });
  std::vector<std::vector<size_t>> out(buffers.size());
  for (size_t k = 0; k < by_first.size(); ++k) {
    const size_t i = by_first[k];
    // Later starters overlap i exactly when they start by i's last op.
    for (size_t m = k + 1; m < by_first.size() && buffers[by_first[m]].first <= buffers[i].last;
         ++m) {
      const size_t j = by_first[m];
      if (lifetimes_overlap(buffers[i], buffers[j])) {
        out[i].push_back(j);
        out[j].push_back(i);
      }
    }
  }
  return out;
}

// Start offsets [lo, hi) at which buffer x (size sx) may not be placed, given buffer y
// placed at `y` (size sy) whose lifetime overlaps x's.
std::pair<int64_t, int64_t> forbidden_starts(int64_t sx, int64_t y, int64_t sy,
                                             const PairRule& rule) {
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
MemoryPlan place_in_order(const std::vector<Buffer>& buffers,
                          const std::vector<std::vector<size_t>>& neighbours,
                          const std::vector<size_t>& order, uint32_t alignment,
                          const Rules& rules) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<bool> placed(buffers.size(), false);
  std::vector<std::pair<int64_t, int64_t>> forbidden;
  for (size_t i : order) {
    const Buffer& b = buffers[i];
    forbidden.clear();
    for (size_t j : neighbours[i])
      if (placed[j]) {
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
    placed[i] = true;
  }
  plan.arena_size = align_up(plan.arena_size, alignment);
  return plan;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<Buffer>& buffers, uint32_t alignment,
                       const std::vector<Overlap>& overlaps, bool search) {
  const Rules rules(overlaps);
  const std::vector<std::vector<size_t>> neighbours = interference(buffers);
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
        return uint64_t{a.size} * (a.last - a.first + 1) >
               uint64_t{b.size} * (b.last - b.first + 1);
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
    MemoryPlan p = place_in_order(buffers, neighbours, order, alignment, rules);
    if (best_order.empty() || p.arena_size < best.arena_size) {
      best = std::move(p);
      best_order = order;
    }
    if (!search) return best;
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
      MemoryPlan p = place_in_order(buffers, neighbours, order, alignment, rules);
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
  const std::vector<std::vector<size_t>> neighbours = interference(buffers);
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (uint64_t{plan.offsets[i]} + buffers[i].size > plan.arena_size) return false;
    for (size_t j : neighbours[i]) {
      if (j < i) continue;  // each pair once
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
