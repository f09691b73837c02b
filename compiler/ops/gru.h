// ONNX GRU has no IR op of its own: import/onnx/onnx_gru.cc unrolls it over the sequence
// into FullyConnected, StridedSlice, Add, Sub, Mul, Logistic, Tanh and Concatenation nodes.
// Their output tensors carry kGruNodeTag in their names so that the quantizer can refuse them
// (tinyforge has no int8 GRU: a recurrent state's error compounds over the sequence and
// the quantizer calibrates each step's tensors as if they were independent).
#pragma once
#include <string>

#include "ir/graph.h"

namespace tinyforge::ops {

inline constexpr const char* kGruNodeTag = "/gru_unrolled";

// A node of one step of an unrolled GRU.
inline bool is_gru_node(const ir::Graph& g, const ir::Node& n) {
  for (int t : n.outputs)
    if (t >= 0 && static_cast<size_t>(t) < g.tensors.size() &&
        g.tensors[static_cast<size_t>(t)].name.find(kGruNodeTag) != std::string::npos)
      return true;
  return false;
}

}  // namespace tinyforge::ops
