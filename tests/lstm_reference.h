// A float32 UNIDIRECTIONAL_SEQUENCE_LSTM model built with the test model builder, and an
// independent reference of it in double precision written from the textbook LSTM equations
// TFLite implements (tensorflow/lite/kernels/lstm_eval.cc), with its options:
//   i = sigmoid(Wi x + Ri h + bi + pi . c)   (CIFG, no input gate: i = 1 - f)
//   f = sigmoid(Wf x + Rf h + bf + pf . c)
//   g = act(Wc x + Rc h + bc)
//   c' = clip(f . c + i . g, cell_clip)
//   o = sigmoid(Wo x + Ro h + bo + po . c')
//   h' = o . act(c'), then with a projection clip(P h' + pb, proj_clip)
// The reference keeps its own output and cell state across steps, as the device does across
// invocations. Used by compiler/ops/lstm_test.cc and the kernel table.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "tflite_model_builder.h"

namespace tinyforge::testing {

struct LstmConfig {
  int32_t batch = 1, steps = 3, features = 4, cells = 5;
  int32_t projected = 0;  // > 0: a projection to this many outputs
  bool cifg = false, peephole = false, projection_bias = true, time_major = false;
  float cell_clip = 0.0f, proj_clip = 0.0f;
  tfl::ActivationFunctionType activation = tfl::ActivationFunctionType::TANH;
  uint32_t seed = 1;

  int32_t outputs() const { return projected > 0 ? projected : cells; }
  std::vector<int32_t> input_shape() const {
    return time_major ? std::vector<int32_t>{steps, batch, features}
                      : std::vector<int32_t>{batch, steps, features};
  }
  std::vector<int32_t> output_shape() const {
    return time_major ? std::vector<int32_t>{steps, batch, outputs()}
                      : std::vector<int32_t>{batch, steps, outputs()};
  }
  std::string name() const {
    return "b" + std::to_string(batch) + " t" + std::to_string(steps) + " in" +
           std::to_string(features) + " cells" + std::to_string(cells) +
           (projected ? " proj" + std::to_string(projected) : "") + (cifg ? " cifg" : "") +
           (peephole ? " peephole" : "") + (time_major ? " time-major" : "") +
           (cell_clip > 0 ? " cell-clip" : "") + (proj_clip > 0 ? " proj-clip" : "");
  }
};

// The weights of one layer by gate (0 input, 1 forget, 2 cell, 3 output), scaled so the
// gates see sums of order 1.
struct LstmWeights {
  std::vector<float> input[4], recurrent[4], bias[4], peephole[3], projection, projection_bias;
};

inline LstmWeights lstm_weights(const LstmConfig& c) {
  LstmWeights w;
  uint32_t seed = c.seed;
  const auto values = [&](size_t n, float scale) {
    std::vector<float> v = float_pattern(n, seed++);
    for (float& x : v) x *= scale;
    return v;
  };
  const auto cells = static_cast<size_t>(c.cells);
  const auto outs = static_cast<size_t>(c.outputs());
  for (int g = c.cifg ? 1 : 0; g < 4; ++g) {
    w.input[g] = values(cells * static_cast<size_t>(c.features), 0.6f);
    w.recurrent[g] = values(cells * outs, 0.5f);
    w.bias[g] = values(cells, 0.3f);
  }
  if (c.peephole)
    for (int p = c.cifg ? 1 : 0; p < 3; ++p) w.peephole[p] = values(cells, 0.4f);
  if (c.projected > 0) {
    w.projection = values(outs * cells, 0.5f);
    if (c.projection_bias) w.projection_bias = values(outs, 0.2f);
  }
  return w;
}

// Tensors: 0 input, the present weights in TFLite's operand order, the output and cell
// states (variable), the output last. The op lists TFLite's 24 operands, -1 where absent.
inline ModelSpec lstm_model(const LstmConfig& c, const LstmWeights& w) {
  ModelSpec m;
  m.tensors.push_back({"x", c.input_shape()});
  std::vector<int32_t> operands(24, -1);
  operands[0] = 0;
  const auto add = [&](size_t position, const std::string& name, std::vector<int32_t> shape,
                       const std::vector<float>& values) {
    if (values.empty()) return;
    operands[position] = static_cast<int32_t>(m.tensors.size());
    m.tensors.push_back({name, std::move(shape), tfl::TensorType::FLOAT32, bytes_of(values)});
  };
  const char* gate[] = {"input", "forget", "cell", "output"};
  for (size_t g = 0; g < 4; ++g) {
    add(1 + g, std::string("w_") + gate[g], {c.cells, c.features}, w.input[g]);
    add(5 + g, std::string("r_") + gate[g], {c.cells, c.outputs()}, w.recurrent[g]);
    add(12 + g, std::string("b_") + gate[g], {c.cells}, w.bias[g]);
  }
  const char* peep[] = {"p_input", "p_forget", "p_output"};
  for (size_t p = 0; p < 3; ++p) add(9 + p, peep[p], {c.cells}, w.peephole[p]);
  add(16, "projection", {c.outputs(), c.cells}, w.projection);
  add(17, "projection_bias", {c.outputs()}, w.projection_bias);
  for (const auto& [position, name, width] :
       {std::tuple<size_t, const char*, int32_t>{18, "output_state", c.outputs()},
        {19, "cell_state", c.cells}}) {
    TensorSpec state{name, {c.batch, width}};
    state.is_variable = true;
    operands[position] = static_cast<int32_t>(m.tensors.size());
    m.tensors.push_back(state);
  }
  const auto out = static_cast<int32_t>(m.tensors.size());
  m.tensors.push_back({"y", c.output_shape()});
  OpSpec op{tfl::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM, operands, {out}};
  op.activation = c.activation;
  op.cell_clip = c.cell_clip;
  op.proj_clip = c.proj_clip;
  op.time_major = c.time_major;
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {out};
  return m;
}

class LstmReference {
 public:
  LstmReference(LstmConfig c, LstmWeights w) : c_(std::move(c)), w_(std::move(w)) { reset(); }

  void reset() {
    h_.assign(static_cast<size_t>(c_.batch * c_.outputs()), 0.0);
    cell_.assign(static_cast<size_t>(c_.batch * c_.cells), 0.0);
  }

  // One invocation: the whole input sequence in, the whole output sequence out.
  std::vector<double> run(const std::vector<float>& x) {
    std::vector<double> y(static_cast<size_t>(c_.batch * c_.steps * c_.outputs()));
    for (int32_t t = 0; t < c_.steps; ++t)
      for (int32_t b = 0; b < c_.batch; ++b) {
        const int32_t row = c_.time_major ? t * c_.batch + b : b * c_.steps + t;
        const std::vector<double> h = step(b, &x[static_cast<size_t>(row * c_.features)]);
        std::copy(h.begin(), h.end(), y.begin() + row * c_.outputs());
      }
    return y;
  }

  // The largest |cell state| any step reached since construction (resets included).
  double cell_peak() const { return cell_peak_; }

 private:
  static double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }
  static double clip(double v, float bound) {
    return bound > 0 ? std::clamp(v, -double{bound}, double{bound}) : v;
  }
  double act(double v) const {
    switch (c_.activation) {
      case tfl::ActivationFunctionType::TANH:
        return std::tanh(v);
      case tfl::ActivationFunctionType::RELU:
        return std::max(v, 0.0);
      case tfl::ActivationFunctionType::RELU6:
        return std::clamp(v, 0.0, 6.0);
      case tfl::ActivationFunctionType::RELU_N1_TO_1:
        return std::clamp(v, -1.0, 1.0);
      default:
        return v;
    }
  }

  std::vector<double> step(int32_t b, const float* x) {
    const int32_t n = c_.cells, outs = c_.outputs();
    double* h = &h_[static_cast<size_t>(b * outs)];
    double* cell = &cell_[static_cast<size_t>(b * n)];
    const auto z = [&](int g, int32_t j) {
      double s = w_.bias[g][static_cast<size_t>(j)];
      for (int32_t k = 0; k < c_.features; ++k)
        s += double{w_.input[g][static_cast<size_t>(j * c_.features + k)]} * x[k];
      for (int32_t k = 0; k < outs; ++k)
        s += double{w_.recurrent[g][static_cast<size_t>(j * outs + k)]} * h[k];
      return s;
    };
    const auto peep = [&](int p, int32_t j, double v) {
      return c_.peephole ? w_.peephole[p][static_cast<size_t>(j)] * v : 0.0;
    };
    std::vector<double> m(static_cast<size_t>(n));
    for (int32_t j = 0; j < n; ++j) {
      const double f = sigmoid(z(1, j) + peep(1, j, cell[j]));
      const double i = c_.cifg ? 1.0 - f : sigmoid(z(0, j) + peep(0, j, cell[j]));
      const double next = clip(f * cell[j] + i * act(z(2, j)), c_.cell_clip);
      const double o = sigmoid(z(3, j) + peep(2, j, next));
      m[static_cast<size_t>(j)] = o * act(next);
      cell[j] = next;
      cell_peak_ = std::max(cell_peak_, std::fabs(next));
    }
    std::vector<double> out(m);
    if (c_.projected > 0) {
      out.assign(static_cast<size_t>(outs), 0.0);
      for (int32_t k = 0; k < outs; ++k) {
        double s = w_.projection_bias.empty() ? 0.0 : w_.projection_bias[static_cast<size_t>(k)];
        for (int32_t j = 0; j < n; ++j)
          s += double{w_.projection[static_cast<size_t>(k * n + j)]} * m[static_cast<size_t>(j)];
        out[static_cast<size_t>(k)] = clip(s, c_.proj_clip);
      }
    }
    std::copy(out.begin(), out.end(), h);
    return out;
  }

  LstmConfig c_;
  LstmWeights w_;
  std::vector<double> h_, cell_;
  double cell_peak_ = 0;
};

}  // namespace tinyforge::testing
