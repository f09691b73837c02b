#include "quantize/state_replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ops/lstm.h"

namespace tinyforge::quantize {
namespace {

using namespace ops::lstm_input;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

const ir::Tensor& tensor(const ir::Graph& g, int t) { return g.tensors.at(static_cast<size_t>(t)); }

// Row `row` of constant matrix `m` times vector `v` of `n` elements.
float dot(const ir::Tensor& m, int64_t row, const float* v, int64_t n) {
  float sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += m.at<float>(row * n + k) * v[k];
  return sum;
}

}  // namespace

StateReplay::StateReplay(const ir::Graph& graph) : graph_(graph) {
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& n = graph.nodes[i];
    if (n.op == OpCode::Lstm) {
      const int64_t batch = tensor(graph, n.inputs.at(kCellState)).elements();
      lstms_.push_back({i, std::vector<float>(static_cast<size_t>(batch)),
                        std::vector<float>(static_cast<size_t>(batch))});
    } else if (n.op == OpCode::Svdf) {
      svdfs_.push_back(i);
    }
  }
}

void StateReplay::reset() {
  for (Lstm& l : lstms_) {
    std::fill(l.hidden.begin(), l.hidden.end(), 0.0f);
    std::fill(l.cell.begin(), l.cell.end(), 0.0f);
  }
}

std::vector<std::pair<int, std::vector<float>>> StateReplay::observe(
    const std::vector<const std::vector<float>*>& values) {
  std::vector<std::pair<int, std::vector<float>>> states;
  const auto seen = [&](int t) -> const std::vector<float>& {
    const std::vector<float>* v = values.at(static_cast<size_t>(t));
    if (v == nullptr || static_cast<int64_t>(v->size()) != tensor(graph_, t).elements())
      throw tinyforge::Error(fmt::format("{}: calibration saw no values of '{}'", graph_.source,
                                         tensor(graph_, t).name));
    return *v;
  };
  for (Lstm& l : lstms_) {
    const ir::Node& n = graph_.nodes[l.node];
    const auto& a = n.params.get<ops::LstmAttrs>();
    const ir::Tensor& x_tensor = tensor(graph_, n.inputs[kInput]);
    const std::vector<float>& x = seen(n.inputs[kInput]);
    const std::vector<float>& y = seen(n.outputs.at(0));
    const int64_t features = x_tensor.shape.at(2);
    const int64_t cells = tensor(graph_, n.inputs[kInputToForget]).shape.at(0);
    const int64_t batch = a.time_major ? x_tensor.shape[1] : x_tensor.shape[0];
    const int64_t steps = a.time_major ? x_tensor.shape[0] : x_tensor.shape[1];
    const auto row = [&](int64_t t, int64_t b) {
      return a.time_major ? t * batch + b : b * steps + t;
    };
    std::vector<float> cell_values;
    cell_values.reserve(static_cast<size_t>(steps * batch * cells));
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t b = 0; b < batch; ++b) {
        const float* in = x.data() + row(t, b) * features;
        const float* h = t == 0 ? l.hidden.data() + b * cells : y.data() + row(t - 1, b) * cells;
        for (int64_t j = 0; j < cells; ++j) {
          float gate[4];
          for (size_t g = 0; g < 4; ++g)
            gate[g] = dot(tensor(graph_, n.inputs[kInputToInput + g]), j, in, features) +
                      dot(tensor(graph_, n.inputs[kRecurrentToInput + g]), j, h, cells) +
                      tensor(graph_, n.inputs[kInputGateBias + g]).at<float>(j);
          float& c = l.cell[static_cast<size_t>(b * cells + j)];
          c = sigmoid(gate[1]) * c + sigmoid(gate[0]) * std::tanh(gate[2]);
          if (a.cell_clip > 0) c = std::clamp(c, -a.cell_clip, a.cell_clip);
          cell_values.push_back(c);
        }
      }
    for (int64_t b = 0; b < batch; ++b)  // the hidden state the next case starts from
      std::copy_n(y.data() + row(steps - 1, b) * cells, cells, l.hidden.data() + b * cells);
    states.emplace_back(n.inputs[kCellState], std::move(cell_values));
  }
  for (size_t node : svdfs_) {
    const ir::Node& n = graph_.nodes[node];
    const ir::Tensor& weights = tensor(graph_, n.inputs.at(1));
    const std::vector<float>& x = seen(n.inputs[0]);
    const int64_t filters = weights.shape.at(0), features = weights.shape.at(1);
    std::vector<float> state{0.0f};  // the state starts at zero
    for (int64_t b = 0; b < static_cast<int64_t>(x.size()) / features; ++b)
      for (int64_t f = 0; f < filters; ++f)
        state.push_back(dot(weights, f, x.data() + b * features, features));
    states.emplace_back(n.inputs.at(4), std::move(state));
  }
  return states;
}

}  // namespace tinyforge::quantize
