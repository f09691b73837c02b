// Graph-to-graph optimization passes run between import and planning. Each pass edits the
// graph in place, returns how many changes it made and reports one line per change through
// `log` (when set). Every pass preserves what the model computes: the planned result of the
// graph gives the same outputs before and after. Removed nodes leave their tensors in
// place (indices stay valid; build_plan keeps only the tensors the ops use).
#pragma once
#include <functional>
#include <string>

#include "ir/graph.h"

namespace tinyforge::passes {

using PassLog = std::function<void(const std::string&)>;

// Removes nodes none of whose outputs reach a model output.
int remove_dead_nodes(ir::Graph& graph, const PassLog& log);

// Removes ops that copy their input: same-shape Reshape, identity-perm Transpose, a Reshape
// feeding only another Reshape (collapsed into it), and an unbounded Clamp. Only when input
// and output have the same type and quantization, and never when the input is a model
// input and the output a model output (model I/O tensors stay distinct).
int eliminate_identities(ir::Graph& graph, const PassLog& log);

// Folds a float Clamp of (0,+inf), (0,6) or (-1,1) into the fused activation of the
// Conv2D/DepthwiseConv2D/FullyConnected/Add/AveragePool2D/MaxPool2D before it, when that
// producer has no activation and the Clamp is the only reader of its output.
int fuse_activations(ir::Graph& graph, const PassLog& log);

// Evaluates nodes whose inputs are all constants with the host runtime (the same kernels
// the device runs) and replaces their outputs by constants. Nodes the planner cannot lower
// on their own are left as they are.
int fold_constants(ir::Graph& graph, const PassLog& log);

// fold_constants, eliminate_identities, fuse_activations, remove_dead_nodes, repeated until
// nothing changes (at most 8 rounds); then graph.check(). Returns the total changes.
int run_default_passes(ir::Graph& graph, const PassLog& log);

}  // namespace tinyforge::passes
