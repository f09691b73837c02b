#include "ir/metrics.h"

#include <limits>

namespace tinyforge::ir {
namespace {

int64_t dim(const Tensor& t, size_t i) { return i < t.shape.size() ? t.shape[i] : 0; }

// One node stays below 2^62 (tensors are under 2^31 bytes); a sum of many could overflow.
void add_to(int64_t& total, int64_t value) {
  total = value > std::numeric_limits<int64_t>::max() - total ? std::numeric_limits<int64_t>::max()
                                                              : total + value;
}

int64_t macs_of(const Graph& g, const Node& n) {
  auto tensor = [&](size_t i) -> const Tensor* {
    if (i >= n.inputs.size() || n.inputs[i] < 0) return nullptr;
    return &g.tensors[static_cast<size_t>(n.inputs[i])];
  };
  if (n.op == OpCode::Lstm && tensor(0) && dim(*tensor(0), 2) > 0) {
    // Every weight (inputs 1-11: gates and peepholes; 16: projection) is used once per
    // time step and batch row, the rows of the input [T,B,IN] / [B,T,IN].
    int64_t weights = 0;
    for (size_t i = 1; i < n.inputs.size(); ++i)
      if ((i <= 11 || i == 16) && tensor(i)) weights += tensor(i)->elements();
    const int64_t rows = tensor(0)->elements() / dim(*tensor(0), 2);
    // Up to 12 weight tensors under 2^31 elements each: saturate rather than overflow.
    if (weights > 0 && rows > std::numeric_limits<int64_t>::max() / weights)
      return std::numeric_limits<int64_t>::max();
    return rows * weights;
  }
  const Tensor* filter = tensor(1);
  if (!filter || n.outputs.empty()) return 0;
  const Tensor& out = g.tensors[static_cast<size_t>(n.outputs[0])];
  switch (n.op) {
    case OpCode::Conv2D:  // out [N,OH,OW,OC], filter [OC,KH,KW,IC/groups]
      return out.elements() * dim(*filter, 1) * dim(*filter, 2) * dim(*filter, 3);
    case OpCode::DepthwiseConv2D:  // out [N,OH,OW,OC], filter [1,KH,KW,OC]
      return out.elements() * dim(*filter, 1) * dim(*filter, 2);
    case OpCode::FullyConnected:  // out rows*OUT elements, filter [OUT,IN]
      return out.elements() * dim(*filter, 1);
    case OpCode::TransposeConv:  // in [N,H,W,IC], filter [OC,KH,KW,IC]: each input element
      // meets every tap (taps landing in the cut padding counted too)
      return tensor(0) ? tensor(0)->elements() * dim(*filter, 0) * dim(*filter, 1) * dim(*filter, 2)
                       : 0;
    default:
      return 0;
  }
}

}  // namespace

NodeMetrics node_metrics(const Graph& graph, size_t node_index) {
  const Node& n = graph.nodes.at(node_index);
  NodeMetrics m;
  m.macs = macs_of(graph, n);
  for (int t : n.inputs) {
    if (t < 0 || !graph.tensors[static_cast<size_t>(t)].constant) continue;
    m.params += graph.tensors[static_cast<size_t>(t)].elements();
    m.weight_bytes += static_cast<int64_t>(graph.tensors[static_cast<size_t>(t)].data.size());
  }
  return m;
}

GraphMetrics graph_metrics(const Graph& graph) {
  GraphMetrics total;
  std::vector<char> counted(graph.tensors.size(), 0);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    total.nodes.push_back(node_metrics(graph, i));
    add_to(total.macs, total.nodes.back().macs);
    for (int t : graph.nodes[i].inputs) {
      if (t < 0 || counted[static_cast<size_t>(t)] ||
          !graph.tensors[static_cast<size_t>(t)].constant)
        continue;
      counted[static_cast<size_t>(t)] = 1;
      total.params += graph.tensors[static_cast<size_t>(t)].elements();
      total.weight_bytes += static_cast<int64_t>(graph.tensors[static_cast<size_t>(t)].data.size());
    }
  }
  return total;
}

}  // namespace tinyforge::ir
