// Dead-node removal: walk backwards from the model outputs, marking what they need.
#include <fmt/format.h>

#include "passes/graph_edit.h"
#include "passes/passes.h"

namespace tinyforge::passes {

int remove_dead_nodes(ir::Graph& g, const PassLog& log) {
  std::vector<char> needed(g.tensors.size(), 0);
  for (int t : g.outputs)
    if (t >= 0 && t < static_cast<int>(needed.size())) needed[t] = 1;
  std::vector<char> remove(g.nodes.size(), 0);
  int changes = 0;
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const ir::Node& n = g.nodes[i];
    bool live = false;
    for (int t : n.outputs)
      live = live || (t >= 0 && t < static_cast<int>(needed.size()) && needed[t]);
    if (!live) {
      remove[i] = 1;
      ++changes;
      emit(log, fmt::format("pass remove_dead_nodes: {} removed (no output reaches a model output)",
                            g.node_label(i)));
      continue;
    }
    for (int t : n.inputs)
      if (t >= 0 && t < static_cast<int>(needed.size())) needed[t] = 1;
  }
  erase_nodes(g, remove);
  return changes;
}

}  // namespace tinyforge::passes
