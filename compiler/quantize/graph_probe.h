// Runs a float graph on the host and shows every activation it computes: the calibration
// pass of the quantizer needs the values of intermediate tensors, not just the outputs.
//
// How: a copy of the graph with every node output listed as a model output is prepared
// once (passes/graph_runner.h) and run per case, so the values come from the same float
// kernels that `tinyforge run` uses (no second executor to keep in step).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "ir/graph.h"
#include "passes/graph_runner.h"

namespace tinyforge::quantize {

class GraphProbe {
 public:
  // `graph` must outlive the probe. Throws tinyforge::Error if the graph does not compile.
  explicit GraphProbe(const ir::Graph& graph);
  ~GraphProbe();

  // IR indices of the tensors run() reports: the model inputs, then every node output in
  // node order.
  const std::vector<int>& tensors() const { return tensors_; }

  // Runs one case: inputs[i] holds one tensor of model input i (its dtype, little-endian).
  // Returns the real values of tensors()[k] in entry k: float32 tensors as they are,
  // per-tensor int8 tensors dequantized, others empty.
  std::vector<std::vector<float>> run(const std::vector<std::vector<uint8_t>>& inputs);
  // Zeroes the state of stateful ops; run() keeps it from one case to the next.
  void reset_state() { runner_->reset_state(); }

 private:
  const ir::Graph& graph_;
  std::vector<int> tensors_;
  std::unique_ptr<passes::PreparedGraph> runner_;
};

// Bytes of one tensor of each model input.
std::vector<uint32_t> input_tensor_bytes(const ir::Graph& graph);

}  // namespace tinyforge::quantize
