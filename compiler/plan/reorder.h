// Operator reordering for a smaller arena: an op moved up, no higher than right after the
// last producer of its inputs, frees an input it is the last reader of sooner (ResNet's 1x1
// skip conv before the block's second conv: the block input dies before the second conv's
// output is made). Only the order of independent ops changes: the same kernels, the same
// cycles.
#pragma once
#include <cstddef>
#include <vector>

#include "ir/graph.h"
#include "plan/conv_chain.h"
#include "plan/lower.h"

namespace tinyforge::plan {

// Each try plans the whole arena: graphs of more ops keep their order (compile time stays
// linear in the model; microcontroller models have far fewer).
constexpr size_t kMaxReorderedOps = 256;

// Moves each node, in order, up to the position (of the 8 nearest its inputs allow) that
// makes `arena_of` smallest, when that is smaller than in place. Nodes with state, and the
// nodes of an unrolled ONNX GRU (ops/gru.h), keep their place. `graph` and `lowered` stay
// index-aligned.
void reorder_for_arena(ir::Graph& graph, std::vector<LoweredOp>& lowered, const ArenaOf& arena_of);

}  // namespace tinyforge::plan
