#include "plan/lower.h"

namespace tinyforge::plan {

LoweredOp lower_node(ir::Graph& graph, size_t node_index) {
  switch (graph.nodes.at(node_index).op) {
#define OP(name, params, min_in, max_in, n_out) \
  case OpCode::name:                            \
    return lower_##name(graph, node_index);
#include "tinyforge/ops.def"
#undef OP
    case OpCode::count_:
      break;
  }
  throw tinyforge::Error(graph.node_label(node_index) + ": no lowering for this op");
}

}  // namespace tinyforge::plan
