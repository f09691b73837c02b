// Running a graph, for the passes that need computed values (constant folding, the
// quantizer's calibration, pruning's reconstruction). The passes depend on this
// declaration only; the host layer defines it (host/graph_runner.cc: plan, write the blob,
// run it with the device runtime), so the values are what the device computes while the
// passes stay below the planner, the emitters and the host runner.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::passes {

class PreparedGraph {
 public:
  virtual ~PreparedGraph() = default;
  // inputs[i] holds >= cases tensors of model input i. Returns one buffer per model output.
  virtual std::vector<std::vector<uint8_t>> run(const std::vector<std::vector<uint8_t>>& inputs,
                                                uint32_t cases) = 0;
  // Zeroes the state of stateful ops (SVDF, LSTM), as a new sequence starts; run() keeps it
  // from one case to the next.
  virtual void reset_state() = 0;
};

// Plans `graph` once for many runs; throws tinyforge::Error (naming `source`) when it cannot.
std::unique_ptr<PreparedGraph> prepare_graph(const ir::Graph& graph, const std::string& source);

}  // namespace tinyforge::passes
