// Identity elimination: ops that only copy their input are bypassed and removed.
#include <fmt/format.h>

#include "ops/host_op.h"
#include "passes/graph_edit.h"
#include "passes/passes.h"

namespace tinyforge::passes {
namespace {

// Why node `n` copies its input, or nullptr when it does not.
const char* copy_reason(const ir::Graph& g, const ir::Node& n) {
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  if (in.shape != out.shape) return nullptr;
  const auto copies_input = ops::host_op(n.op).copies_input;
  return copies_input ? copies_input(n) : nullptr;
}

bool single_in_out(const ir::Graph& g, const ir::Node& n) {
  const int count = static_cast<int>(g.tensors.size());
  return n.inputs.size() == 1 && n.outputs.size() == 1 && n.inputs[0] >= 0 && n.inputs[0] < count &&
         n.outputs[0] >= 0 && n.outputs[0] < count &&
         ops::fused_activation(n) == ir::Activation::none;
}

bool same_values(const ir::Tensor& a, const ir::Tensor& b) {
  return a.type == b.type && same_quant(a, b) && a.elements() == b.elements();
}

// Index of the only reader of tensor `t` when it is a Reshape after node `after`, else -1.
int only_reshape_reader(const ir::Graph& g, int t, size_t after) {
  if (reader_count(g, t) != 1) return -1;
  for (size_t j = after + 1; j < g.nodes.size(); ++j) {
    const ir::Node& m = g.nodes[j];
    if (m.inputs.size() == 1 && m.inputs[0] == t)
      return m.op == OpCode::Reshape ? static_cast<int>(j) : -1;
  }
  return -1;
}

}  // namespace

int eliminate_identities(ir::Graph& g, const PassLog& log) {
  std::vector<char> remove(g.nodes.size(), 0);
  int changes = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ir::Node& n = g.nodes[i];
    if (!single_in_out(g, n)) continue;
    const int in = n.inputs[0], out = n.outputs[0];
    if (!same_values(g.tensors[in], g.tensors[out])) continue;
    if (const char* why = copy_reason(g, n)) {
      if (is_model_input(g, in) && is_model_output(g, out)) continue;
      if (is_model_output(g, out) && (g.tensors[in].constant || is_model_output(g, in))) continue;
      replace_uses(g, out, in);
      remove[i] = 1;
      ++changes;
      emit(log, fmt::format("pass eliminate_identities: {} removed ({})", g.node_label(i), why));
      continue;
    }
    if (n.op != OpCode::Reshape || is_model_output(g, out)) continue;
    const int next = only_reshape_reader(g, out, i);
    if (next < 0) continue;
    g.nodes[next].inputs[0] = in;
    remove[i] = 1;
    ++changes;
    emit(log, fmt::format("pass eliminate_identities: {} removed (collapsed into {})",
                          g.node_label(i), g.node_label(next)));
  }
  erase_nodes(g, remove);
  return changes;
}

}  // namespace tinyforge::passes
