// The values stateful ops keep in their state, for calibration. The state tensors (LSTM's
// cell state, SVDF's memory of past frames) are not node outputs, so the calibration probe
// does not see them; this recomputes them from tensors it does see:
// - LSTM (float, the forms the integer LSTM has: input gate, no peephole, no projection,
//   TANH): the cell state after every time step, from the input and the output sequence
//   (the output is the hidden state h_t), c_t = f * c_{t-1} + i * g clipped by cell_clip
//   (TFLite lstm_eval's float cell update);
// - SVDF: the feature matmul weights_feature x input that every invocation writes into the
//   newest frame of the state (TFLM svdf_common.cc), so the state holds only such values.
// The replay keeps the LSTM's cell and hidden state from one case to the next, as the runtime
// keeps the state; reset() starts a new sequence.
#pragma once
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::quantize {

class StateReplay {
 public:
  explicit StateReplay(const ir::Graph& graph);

  bool empty() const { return lstms_.empty() && svdfs_.empty(); }
  bool has_lstm() const { return !lstms_.empty(); }
  void reset();

  // `values[t]`: the real values of tensor t of the graph in this case, or nullptr where the
  // probe did not report it. Returns (state tensor, the values it held in this case).
  std::vector<std::pair<int, std::vector<float>>> observe(
      const std::vector<const std::vector<float>*>& values);

 private:
  struct Lstm {
    size_t node;
    std::vector<float> hidden, cell;  // [batch * cells], carried between cases
  };
  const ir::Graph& graph_;
  std::vector<Lstm> lstms_;
  std::vector<size_t> svdfs_;
};

}  // namespace tinyforge::quantize
