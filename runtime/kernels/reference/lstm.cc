// Lstm reference kernel: a one-layer LSTM over a whole sequence, its state carried from one
// invocation to the next. The arithmetic is TFLite's float LSTM step
// (tensorflow/lite/kernels/lstm_eval.cc, LstmStepFloat: CalculateLstmGateFloat,
// UpdateLstmCellFloat, CalculateLstmOutputFloat), run for every time step and batch row:
//   forget = sigmoid(Wf x + Rf h + bf + pf * c)
//   input  = sigmoid(Wi x + Ri h + bi + pi * c), or 1 - forget without an input gate (CIFG)
//   cell   = act(Wc x + Rc h + bc)
//   c'     = forget * c + input * cell, clipped to +-cell_clip when it is not 0
//   output = sigmoid(Wo x + Ro h + bo + po * c')
//   m      = output * act(c')
//   h'     = m, or Proj m + proj_bias clipped to +-proj_clip when it is not 0
// where act is the op's fused activation (TANH in what converters emit) and p* the optional
// diagonal peephole weights. TFLite computes each gate for all units at once; the units are
// independent, so this kernel computes them one unit at a time and needs only m as scratch
// (the same products; the float sums are ordered differently, within docs/numerics.md's
// tolerance). ONNX LSTM imports as the same op with zero_state set: both states start from
// zero on every invocation instead of carrying over.
#include <cmath>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

constexpr int kInput = 0, kInputWeights = 1, kRecurrentWeights = 2, kBias = 3, kPeephole = 4,
              kProjection = 5, kOutputState = 6, kCellState = 7;

struct LstmShape {
  int32_t steps, batch, input_size, cells, output_size, gates;
  bool time_major;
  // The row of time step t, batch row b of the input and output (in elements of one row).
  int32_t row(int32_t t, int32_t b) const { return time_major ? t * batch + b : b * steps + t; }
};

LstmShape lstm_shape(const LstmParams& p, const KernelIO& io) {
  const TensorView& in = io.in[kInput];
  const int32_t cells = io.in[kCellState].dims[1];
  const bool time_major = p.time_major != 0;
  return {time_major ? in.dims[0] : in.dims[1],
          time_major ? in.dims[1] : in.dims[0],
          in.dims[2],
          cells,
          io.in[kOutputState].dims[1],
          cells > 0 ? io.in[kInputWeights].dims[0] / cells : 0,
          time_major};
}

bool is_present(const TensorView& v) { return v.data != nullptr || v.rank != 0; }

bool is_matrix(const TensorView& v, DType type, int32_t rows, int32_t cols) {
  return view::is_valid(v, type) && v.rank == 2 && v.dims[0] == rows && v.dims[1] == cols;
}

bool is_vector(const TensorView& v, DType type, int32_t size) {
  return view::is_valid(v, type) && v.rank == 1 && v.dims[0] == size;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// TFLite's ApplyActivationToVector for the activations an LSTM takes.
float activate(float x, int32_t activation) {
  switch (static_cast<LstmActivation>(activation)) {
    case LstmActivation::relu:
      return x < 0.0f ? 0.0f : x;
    case LstmActivation::relu_n1_to_1:
      return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x);
    case LstmActivation::relu6:
      return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case LstmActivation::tanh:
      return std::tanh(x);
    case LstmActivation::none:
      break;
  }
  return x;
}

float clip(float x, float bound) {
  if (bound <= 0.0f) return x;
  return x < -bound ? -bound : (x > bound ? bound : x);
}

float dot(const float* a, const float* b, int32_t n) {
  float sum = 0.0f;
  for (int32_t k = 0; k < n; ++k) sum += a[k] * b[k];
  return sum;
}

}  // namespace

Status check_Lstm(const LstmParams& p, const KernelIO& io) {
  if (io.num_inputs != 8 || io.num_outputs != 1) return Status::bad_shape;
  if (p.time_major != 0 && p.time_major != 1) return Status::bad_params;
  if (p.activation < 0 || p.activation > static_cast<int32_t>(LstmActivation::tanh))
    return Status::bad_params;
  if (!(p.cell_clip >= 0.0f) || !(p.proj_clip >= 0.0f)) return Status::bad_params;
  if (p.zero_state != 0 && p.zero_state != 1) return Status::bad_params;
  const TensorView& in = io.in[kInput];
  if (in.type != DType::f32) return Status::bad_enum;
  const TensorView& cell = io.in[kCellState];
  const TensorView& state = io.in[kOutputState];
  if (in.rank != 3 || cell.rank != 2 || state.rank != 2) return Status::bad_shape;
  const LstmShape s = lstm_shape(p, io);
  if (s.cells < 1 || (s.gates != 3 && s.gates != 4)) return Status::bad_shape;
  const bool has_projection = is_present(io.in[kProjection]);
  if (!has_projection && s.output_size != s.cells) return Status::bad_shape;
  const int32_t gate_rows = s.gates * s.cells;  // at most the weights' first dim
  const int64_t biases = int64_t{gate_rows} + (has_projection ? s.output_size : 0);
  if (biases > INT32_MAX) return Status::bad_shape;
  if (!view::is_valid(in, DType::f32) || !is_matrix(cell, DType::f32, s.batch, s.cells) ||
      !is_matrix(state, DType::f32, s.batch, s.output_size) ||
      !is_matrix(io.in[kInputWeights], DType::f32, gate_rows, s.input_size) ||
      !is_matrix(io.in[kRecurrentWeights], DType::f32, gate_rows, s.output_size) ||
      !is_vector(io.in[kBias], DType::f32, static_cast<int32_t>(biases)))
    return Status::bad_shape;
  if (is_present(io.in[kPeephole]) &&
      !is_vector(io.in[kPeephole], DType::f32, (s.gates - 1) * s.cells))
    return Status::bad_shape;
  if (has_projection && !is_matrix(io.in[kProjection], DType::f32, s.output_size, s.cells))
    return Status::bad_shape;
  const TensorView& out = io.out[0];
  if (!view::is_valid(out, DType::f32) || out.rank != 3 || out.dims[0] != in.dims[0] ||
      out.dims[1] != in.dims[1] || out.dims[2] != s.output_size)
    return Status::bad_shape;
  if (io.scratch_size < static_cast<uint64_t>(s.cells) * sizeof(float)) return Status::bad_shape;
  return Status::ok;
}

void eval_Lstm(const LstmParams& p, const KernelIO& io) {
  const LstmShape s = lstm_shape(p, io);
  const float* input = io.in[kInput].as<const float>();
  const float* wx = io.in[kInputWeights].as<const float>();
  const float* wh = io.in[kRecurrentWeights].as<const float>();
  const float* bias = io.in[kBias].as<const float>();
  const float* peephole = io.in[kPeephole].as<const float>();
  const float* projection = io.in[kProjection].as<const float>();
  float* state = io.in[kOutputState].as<float>();
  float* cell_state = io.in[kCellState].as<float>();
  float* output = io.out[0].as<float>();
  float* hidden = reinterpret_cast<float*>(io.scratch);
  if (p.zero_state) {  // ONNX's LSTM: a new sequence every invocation
    for (int32_t k = 0; k < s.batch * s.output_size; ++k) state[k] = 0.0f;
    for (int32_t k = 0; k < s.batch * s.cells; ++k) cell_state[k] = 0.0f;
  }
  const bool cifg = s.gates == 3;
  // Gate rows: [input,] forget, cell, output; peephole rows: [input,] forget, output.
  const int32_t g_forget = cifg ? 0 : 1, g_cell = g_forget + 1, g_output = g_forget + 2;
  const int32_t p_forget = cifg ? 0 : 1, p_output = p_forget + 1;
  for (int32_t t = 0; t < s.steps; ++t) {
    for (int32_t b = 0; b < s.batch; ++b) {
      const float* x = input + s.row(t, b) * s.input_size;
      float* h = state + b * s.output_size;
      float* c = cell_state + b * s.cells;
      const auto gate = [&](int32_t g, int32_t j) {
        const int32_t r = g * s.cells + j;
        return dot(wx + r * s.input_size, x, s.input_size) +
               dot(wh + r * s.output_size, h, s.output_size) + bias[r];
      };
      const auto peep = [&](int32_t k, int32_t j, float value) {
        return peephole ? peephole[k * s.cells + j] * value : 0.0f;
      };
      for (int32_t j = 0; j < s.cells; ++j) {
        const float forget = sigmoid(gate(g_forget, j) + peep(p_forget, j, c[j]));
        const float in_gate = cifg ? 1.0f - forget : sigmoid(gate(0, j) + peep(0, j, c[j]));
        const float candidate = activate(gate(g_cell, j), p.activation);
        const float next = clip(forget * c[j] + in_gate * candidate, p.cell_clip);
        const float out_gate = sigmoid(gate(g_output, j) + peep(p_output, j, next));
        c[j] = next;
        hidden[j] = out_gate * activate(next, p.activation);
      }
      float* y = output + s.row(t, b) * s.output_size;
      for (int32_t k = 0; k < s.output_size; ++k) {
        h[k] =
            projection
                ? clip(dot(projection + k * s.cells, hidden, s.cells) + bias[s.gates * s.cells + k],
                       p.proj_clip)
                : hidden[k];
        y[k] = h[k];
      }
    }
  }
}

}  // namespace tinyforge
