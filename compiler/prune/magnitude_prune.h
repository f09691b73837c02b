// Unstructured magnitude pruning: in every Conv2D, DepthwiseConv2D and FullyConnected
// weight tensor, the `sparsity` share of weights with the smallest magnitude is set to
// zero (per layer; float weights by |w|, int8 weights by |scale * q|). Shapes do not
// change, so MACs, arena and dense weight bytes stay; what it buys is compressibility
// and, for sparse kernels, work. Biases are kept.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::prune {

using LogFn = std::function<void(const std::string&)>;

// 0 <= sparsity < 1 (throws tinyforge::Error otherwise). Weights read by several nodes are
// pruned once. Returns the number of weights set to zero (already-zero ones not counted).
int64_t prune_unstructured(ir::Graph& graph, double sparsity, const LogFn& log = {});

// Share of zero elements among the weights of Conv2D, DepthwiseConv2D and
// FullyConnected nodes (each tensor counted once); 0 for a graph without any.
double weight_sparsity(const ir::Graph& graph);

}  // namespace tinyforge::prune
