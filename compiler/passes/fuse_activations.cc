// Activation fusion: a float Clamp with ReLU-family bounds becomes the fused activation of
// the op that produces its input.
#include <fmt/format.h>

#include <cmath>

#include "ops/clamp.h"
#include "ops/host_op.h"
#include "passes/graph_edit.h"
#include "passes/passes.h"

namespace tinyforge::passes {
namespace {

// The fused activation equal to clamping to [lo, hi], or none.
ir::Activation activation_for(float lo, float hi) {
  if (lo == 0.0f && std::isinf(hi) && hi > 0) return ir::Activation::relu;
  if (lo == 0.0f && hi == 6.0f) return ir::Activation::relu6;
  if (lo == -1.0f && hi == 1.0f) return ir::Activation::relu_n1_to_1;
  return ir::Activation::none;
}

const char* activation_name(ir::Activation a) {
  switch (a) {
    case ir::Activation::relu:
      return "relu";
    case ir::Activation::relu6:
      return "relu6";
    case ir::Activation::relu_n1_to_1:
      return "relu_n1_to_1";
    default:
      return "none";
  }
}

// Index of the node writing tensor `t`, or -1.
int producer_of(const ir::Graph& g, int t, size_t before) {
  for (size_t j = 0; j < before; ++j)
    for (int o : g.nodes[j].outputs)
      if (o == t) return static_cast<int>(j);
  return -1;
}

}  // namespace

int fuse_activations(ir::Graph& g, const PassLog& log) {
  const int count = static_cast<int>(g.tensors.size());
  std::vector<char> remove(g.nodes.size(), 0);
  int changes = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& clamp = g.nodes[i];
    if (clamp.op != OpCode::Clamp || clamp.inputs.size() != 1 || clamp.outputs.size() != 1)
      continue;
    const int x = clamp.inputs[0], y = clamp.outputs[0];
    if (x < 0 || x >= count || y < 0 || y >= count) continue;
    if (g.tensors[x].type != DType::f32 || g.tensors[y].type != DType::f32) continue;
    if (g.tensors[x].shape != g.tensors[y].shape) continue;
    const auto& bounds = clamp.params.get<ops::ClampAttrs>();
    const ir::Activation act = activation_for(bounds.min, bounds.max);
    if (act == ir::Activation::none) continue;
    if (is_model_output(g, x) || reader_count(g, x) != 1) continue;
    const int p = producer_of(g, x, i);
    if (p < 0 || remove[p]) continue;
    ir::Node& producer = g.nodes[p];
    const auto activation_of = ops::host_op(producer.op).fused_activation;
    if (!activation_of || *activation_of(producer) != ir::Activation::none ||
        producer.outputs.size() != 1)
      continue;
    *activation_of(producer) = act;
    producer.outputs[0] = y;  // the Clamp's output keeps its readers and model-output role
    remove[i] = 1;
    ++changes;
    emit(log, fmt::format("pass fuse_activations: {} fused into {} as {}", g.node_label(i),
                          g.node_label(p), activation_name(act)));
  }
  erase_nodes(g, remove);
  return changes;
}

}  // namespace tinyforge::passes
