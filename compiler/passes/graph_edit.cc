#include "passes/graph_edit.h"

#include <algorithm>

namespace tinyforge::passes {

int reader_count(const ir::Graph& g, int t) {
  int n = 0;
  for (const ir::Node& node : g.nodes)
    n += static_cast<int>(std::count(node.inputs.begin(), node.inputs.end(), t));
  return n;
}

bool is_model_input(const ir::Graph& g, int t) {
  return std::find(g.inputs.begin(), g.inputs.end(), t) != g.inputs.end();
}

bool is_model_output(const ir::Graph& g, int t) {
  return std::find(g.outputs.begin(), g.outputs.end(), t) != g.outputs.end();
}

void replace_uses(ir::Graph& g, int from, int to) {
  for (ir::Node& node : g.nodes) std::replace(node.inputs.begin(), node.inputs.end(), from, to);
  std::replace(g.outputs.begin(), g.outputs.end(), from, to);
}

void erase_nodes(ir::Graph& g, const std::vector<char>& remove) {
  std::vector<ir::Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!remove[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
}

bool same_quant(const ir::Tensor& a, const ir::Tensor& b) {
  return a.quant.scale == b.quant.scale && a.quant.zero_point == b.quant.zero_point &&
         (!a.quant.per_channel() || a.quant.axis == b.quant.axis);
}

void emit(const PassLog& log, const std::string& line) {
  if (log) log(line);
}

}  // namespace tinyforge::passes
