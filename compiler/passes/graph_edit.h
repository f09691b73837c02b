// Small graph edits the passes share: who reads a tensor, rewiring readers, removing nodes.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/passes.h"

namespace tinyforge::passes {

// Number of node inputs reading tensor `t`.
int reader_count(const ir::Graph& g, int t);
bool is_model_input(const ir::Graph& g, int t);
bool is_model_output(const ir::Graph& g, int t);
// Points every node input and model output that names `from` at `to`.
void replace_uses(ir::Graph& g, int from, int to);
// Removes the nodes whose flag is set, keeping the order of the rest.
void erase_nodes(ir::Graph& g, const std::vector<char>& remove);
bool same_quant(const ir::Tensor& a, const ir::Tensor& b);
void emit(const PassLog& log, const std::string& line);

}  // namespace tinyforge::passes
