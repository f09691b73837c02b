#include "plan/shared_arena.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "ir/error.h"

namespace tinyforge::plan {
namespace {

uint32_t round_up16(uint32_t v) { return v == 0 ? 16 : (v + 15u) & ~15u; }

}  // namespace

SharedArena plan_shared_arena(const std::vector<uint32_t>& arena_bytes,
                              const std::vector<std::vector<size_t>>& concurrent) {
  const size_t n = arena_bytes.size();
  std::vector<std::vector<bool>> together(n, std::vector<bool>(n, false));
  for (const std::vector<size_t>& group : concurrent)
    for (size_t a : group)
      for (size_t b : group) {
        if (a >= n || b >= n)
          throw tinyforge::Error("shared arena: model index " + std::to_string(std::max(a, b)) +
                                 " out of range (" + std::to_string(n) + " models)");
        if (a != b) together[a][b] = true;
      }

  SharedArena layout;
  layout.offsets.assign(n, 0);
  layout.regions.resize(n);
  for (size_t i = 0; i < n; ++i) {
    layout.regions[i] = round_up16(arena_bytes[i]);
    layout.separate_bytes += layout.regions[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&layout](size_t a, size_t b) { return layout.regions[a] > layout.regions[b]; });
  std::vector<size_t> placed;
  for (size_t m : order) {
    // Candidates: 0 and the end of every placed partner; the lowest one that fits wins.
    std::vector<uint32_t> candidates{0};
    for (size_t p : placed)
      if (together[m][p]) candidates.push_back(layout.offsets[p] + layout.regions[p]);
    std::sort(candidates.begin(), candidates.end());
    for (uint32_t at : candidates) {
      const bool fits = std::none_of(placed.begin(), placed.end(), [&](size_t p) {
        return together[m][p] && at < layout.offsets[p] + layout.regions[p] &&
               layout.offsets[p] < at + layout.regions[m];
      });
      if (fits) {
        layout.offsets[m] = at;
        break;
      }
    }
    placed.push_back(m);
    layout.total_bytes = std::max(layout.total_bytes, layout.offsets[m] + layout.regions[m]);
  }
  return layout;
}

}  // namespace tinyforge::plan
