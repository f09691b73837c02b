#include "plan/reorder.h"

#include <algorithm>
#include <optional>

#include "ops/gru.h"

namespace tinyforge::plan {
namespace {

constexpr size_t kMaxPositions = 8;  // positions tried above an op

// Moves element `from` of `v` to index `to` (to < from), shifting the ones between down.
template <typename T>
void move_up(std::vector<T>& v, size_t from, size_t to) {
  std::rotate(v.begin() + static_cast<std::ptrdiff_t>(to),
              v.begin() + static_cast<std::ptrdiff_t>(from),
              v.begin() + static_cast<std::ptrdiff_t>(from + 1));
}

bool has_state(const ir::Graph& g, const LoweredOp& op) {
  for (int t : op.inputs)
    if (t >= 0 && g.tensors[t].variable) return true;
  return false;
}

}  // namespace

void reorder_for_arena(ir::Graph& graph, std::vector<LoweredOp>& lowered, const ArenaOf& arena_of) {
  if (graph.nodes.size() > kMaxReorderedOps) return;
  std::optional<uint32_t> arena;  // planned at the first candidate: chains have none
  for (size_t j = 1; j < graph.nodes.size(); ++j) {
    // An unrolled ONNX GRU's steps (ops/gru.h) are a chain: each try would plan the whole
    // arena again for every one of its many nodes, for nothing to gain.
    if (has_state(graph, lowered[j]) || ops::is_gru_node(graph, graph.nodes[j])) continue;
    // Not above the last node that produces one of its inputs.
    size_t earliest = 0;
    for (size_t i = 0; i < j; ++i)
      for (int t : graph.nodes[i].outputs)
        if (std::count(lowered[j].inputs.begin(), lowered[j].inputs.end(), t) > 0) earliest = i + 1;
    if (earliest >= j) continue;
    if (!arena) arena = arena_of(graph, lowered);
    // The best of the nearest positions above it (each try plans the whole arena).
    std::optional<size_t> best;
    for (size_t to = j; to-- > earliest && j - to <= kMaxPositions;) {
      ir::Graph g = graph;
      std::vector<LoweredOp> l = lowered;
      move_up(g.nodes, j, to);
      move_up(l, j, to);
      const uint32_t moved = arena_of(g, l);
      if (moved < *arena) {
        arena = moved;
        best = to;
      }
    }
    if (best) {
      move_up(graph.nodes, j, *best);
      move_up(lowered, j, *best);
    }
  }
}

}  // namespace tinyforge::plan
