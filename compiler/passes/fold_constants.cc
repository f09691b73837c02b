// Constant folding: a node reading only constants is run once on the host, through the
// planner and the runtime the device uses, so the folded values are exactly what the
// device would have computed.
#include <fmt/format.h>

#include "passes/graph_edit.h"
#include "passes/graph_runner.h"
#include "passes/passes.h"

namespace tinyforge::passes {
namespace {

bool all_inputs_constant(const ir::Graph& g, const ir::Node& n) {
  bool any = false;
  for (int t : n.inputs) {
    if (t == -1) continue;  // absent optional input
    if (t < 0 || t >= static_cast<int>(g.tensors.size())) return false;
    const ir::Tensor& c = g.tensors[t];
    if (!c.constant || static_cast<int64_t>(c.data.size()) != c.bytes()) return false;
    any = true;
  }
  return any;
}

// Runs node `i` alone. Inputs [0, feed) become model inputs fed with their constant bytes
// (the planner needs at least one); the rest stay constants. Throws when it cannot lower.
std::vector<uint8_t> evaluate(const ir::Graph& g, size_t i, size_t feed) {
  const ir::Node& n = g.nodes[i];
  ir::Graph one;
  one.source = g.source;
  ir::Node copy = n;
  std::vector<std::vector<uint8_t>> feeds;
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    if (n.inputs[k] == -1) continue;
    ir::Tensor t = g.tensors[n.inputs[k]];
    copy.inputs[k] = one.add_tensor(t);
    if (k < feed) {
      feeds.push_back(t.data);
      one.tensors[copy.inputs[k]].constant = false;
      one.tensors[copy.inputs[k]].data.clear();
      one.inputs.push_back(copy.inputs[k]);
    }
  }
  if (one.inputs.empty()) throw tinyforge::Error("no input to feed");
  copy.outputs[0] = one.add_tensor(g.tensors[n.outputs[0]]);
  one.outputs.push_back(copy.outputs[0]);
  one.nodes.push_back(copy);
  std::vector<std::vector<uint8_t>> out = prepare_graph(one, "constant folding")->run(feeds, 1);
  if (out.size() != 1 || static_cast<int64_t>(out[0].size()) != g.tensors[n.outputs[0]].bytes())
    throw tinyforge::Error("unexpected output size");
  return out[0];
}

}  // namespace

int fold_constants(ir::Graph& g, const PassLog& log) {
  std::vector<char> remove(g.nodes.size(), 0);
  int changes = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (n.outputs.size() != 1 || !all_inputs_constant(g, n)) continue;
    const int out = n.outputs[0];
    if (out < 0 || out >= static_cast<int>(g.tensors.size()) || is_model_output(g, out)) continue;
    // First feed only the data input (weights must stay constant for the planner), then
    // every input (ops such as Add that need two activations).
    std::vector<size_t> feeds{1};
    if (n.inputs.size() > 1) feeds.push_back(n.inputs.size());
    std::vector<uint8_t> value;
    for (size_t feed : feeds) {
      try {
        value = evaluate(g, i, feed);
        break;
      } catch (const std::exception&) {
        value.clear();  // not lowerable this way; the node stays
      }
    }
    if (value.empty()) continue;
    g.tensors[out].constant = true;
    g.tensors[out].data = std::move(value);
    remove[i] = 1;
    ++changes;
    emit(log,
         fmt::format("pass fold_constants: {} evaluated into constant tensor {} ('{}', {} bytes)",
                     g.node_label(i), out, g.tensors[out].name, g.tensors[out].data.size()));
  }
  erase_nodes(g, remove);
  return changes;
}

}  // namespace tinyforge::passes
