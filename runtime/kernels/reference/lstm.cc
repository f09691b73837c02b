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
//
// The integer forms follow TFLM's integer LSTM (tensorflow/lite/micro/kernels/lstm_eval.h,
// LstmStep with CalculateLstmGate, UpdateLstmCell, UpdateLstmHidden; lstm_eval.cc): int8
// input, output and hidden state with int32 biases (8x8_16), or int16 ones with 64-bit
// accumulation (16x8); int8 weights, int16 cell state of scale 2^power. Per gate g:
//   gate = sat16(FC(x, Wg, bg) + FC(h, Rg)), each FC's 32- (int8) or 64-bit (int16) sum
//          requantized to int16 of scale 2^-12 (reference_integer_ops::FullyConnected)
//   i, f, o = the int16 logistic of the gate, g = the int16 tanh of it (reference_integer_ops
//          Logistic/Tanh with multiplier 3: TFLite's sigmoid_table_uint16 interpolated)
//   c' = sat16(Mul(f, c) + Mul(i, g)), clipped to +-clip when the op has a cell clip
//   h' = Mul(tanh(c' at scale 2^power), o), requantized to the hidden state's scale and zero
//        point (reference_integer_ops::MulElementwise); the output row is h'.
// TFLM's integer LSTM has no CIFG, peepholes, projection or layer norm; the compiler refuses
// them. The multipliers come from input 4, the table of tinyforge/lstm_quant.h.
#include <cmath>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/sigmoid_family.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"
#include "tinyforge/lstm_quant.h"

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

Status check_float(const LstmParams& p, const KernelIO& io) {
  if (p.activation < 0 || p.activation > static_cast<int32_t>(LstmActivation::tanh))
    return Status::bad_params;
  if (!(p.cell_clip >= 0.0f) || !(p.proj_clip >= 0.0f)) return Status::bad_params;
  if (p.zero_state != 0 && p.zero_state != 1) return Status::bad_params;
  const TensorView& in = io.in[kInput];
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

void eval_float(const LstmParams& p, const KernelIO& io) {
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

int16_t saturate16(int64_t v) {
  return static_cast<int16_t>(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

// reference_integer_ops::Logistic (int16) with input multiplier 3, shift 0: a Q3.12 input to
// a Q0.15 output.
int16_t sigmoid16(int16_t v) { return sigmoid_family::logistic_int16(v * 3); }

// reference_integer_ops::Tanh (int16) as TFLM's LSTM calls it for a value of scale 2^power:
// left shift 12 + power folded into the multiplier 3, or a rounding right shift when negative.
int16_t tanh16(int16_t v, int32_t power) {
  const int32_t shift = 12 + power;
  int32_t x;
  if (shift >= 0) {
    x = v * (3 << shift);
  } else {
    const int32_t right = -shift;
    x = (v * 3 + (1 << (right - 1))) >> right;
  }
  return sigmoid_family::tanh_int16(x);
}

// MulElementwise of two symmetric int16 values: zero_point + a * b requantized, clamped (the
// sum in 64 bits: a validated table may still requantize to near INT32_MAX).
int32_t mul16(int16_t a, int16_t b, int32_t multiplier, int32_t shift, int32_t zero_point,
              int32_t lo, int32_t hi) {
  const int64_t v =
      int64_t{zero_point} + fixed::multiply_by_quantized_multiplier(a * b, multiplier, shift);
  return static_cast<int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

// One FC row's requantized int16 output: sum of w * (x + offset) (+ bias) in TFLM's int32
// accumulator for int8 activations (wrapping as two's complement instead of overflowing) or
// in int64 for int16 ones, then MultiplyByQuantizedMultiplier of that width.
template <typename Act>
int16_t fc16(const int8_t* w, const Act* x, int32_t n, int32_t offset, int64_t bias,
             int32_t multiplier, int32_t shift) {
  if (sizeof(Act) == 1) {
    auto sum = static_cast<uint32_t>(bias);
    for (int32_t k = 0; k < n; ++k) sum += static_cast<uint32_t>(w[k] * (x[k] + offset));
    return saturate16(
        fixed::multiply_by_quantized_multiplier(static_cast<int32_t>(sum), multiplier, shift));
  }
  int64_t sum = bias;
  for (int32_t k = 0; k < n; ++k) sum += int64_t{w[k]} * (x[k] + offset);
  return saturate16(fixed::multiply_by_quantized_multiplier_64(sum, multiplier, shift));
}

bool valid_multiplier(const int32_t* q, int32_t m, int32_t s) {
  return q[m] >= 0 && q[s] >= -31 && q[s] <= 31;
}

// A shift of the table as the kernel uses it: within [-31, 31] even when the table was not
// checked (a constant the plan copies to RAM has no data during validation).
int32_t shift_at(const int32_t* q, int32_t k) { return fixed::clamp(q[k], -31, 31); }

Status check_integer(const LstmParams& p, const KernelIO& io) {
  using namespace lstm_quant;
  if (p.activation != static_cast<int32_t>(LstmActivation::tanh) || p.zero_state != 0)
    return Status::bad_params;
  const TensorView& in = io.in[kInput];
  const DType act = in.type;
  const TensorView& cell = io.in[kCellState];
  const TensorView& state = io.in[kOutputState];
  if (in.rank != 3 || cell.rank != 2 || state.rank != 2) return Status::bad_shape;
  const LstmShape s = lstm_shape(p, io);
  if (s.cells < 1 || s.gates != 4 || s.output_size != s.cells) return Status::bad_shape;
  if (is_present(io.in[kProjection])) return Status::bad_shape;
  const int32_t gate_rows = 4 * s.cells;
  if (!view::is_valid(in, act) || !is_matrix(cell, DType::i16, s.batch, s.cells) ||
      !is_matrix(state, act, s.batch, s.cells) ||
      !is_matrix(io.in[kInputWeights], DType::i8, gate_rows, s.input_size) ||
      !is_matrix(io.in[kRecurrentWeights], DType::i8, gate_rows, s.cells) ||
      !is_vector(io.in[kBias], DType::i32, gate_rows) ||
      !is_vector(io.in[kPeephole], DType::i32, kCount))
    return Status::bad_shape;
  const TensorView& out = io.out[0];
  if (!view::is_valid(out, act) || out.rank != 3 || out.dims[0] != in.dims[0] ||
      out.dims[1] != in.dims[1] || out.dims[2] != s.cells)
    return Status::bad_shape;
  if (io.scratch_size < static_cast<uint64_t>(s.cells) * dtype_size(act)) return Status::bad_shape;
  const int32_t* q = io.in[kPeephole].as<const int32_t>();
  if (q == nullptr) return Status::ok;  // a copied constant: eval's clamps keep it defined
  for (int32_t g = 0; g < 4; ++g)
    if (!valid_multiplier(q, kInputMultiplier + g, kInputShift + g) ||
        !valid_multiplier(q, kRecurrentMultiplier + g, kRecurrentShift + g))
      return Status::bad_params;
  if (!valid_multiplier(q, kForgetCellMultiplier, kForgetCellShift) ||
      !valid_multiplier(q, kInputCellMultiplier, kInputCellShift) ||
      !valid_multiplier(q, kHiddenMultiplier, kHiddenShift))
    return Status::bad_params;
  const int32_t lo = act == DType::i8 ? -128 : -32768, hi = act == DType::i8 ? 127 : 32767;
  if (q[kInputZeroPoint] < lo || q[kInputZeroPoint] > hi || q[kHiddenZeroPoint] < lo ||
      q[kHiddenZeroPoint] > hi)
    return Status::bad_params;
  // tanh16's multiplier 3 << (12 + power) times an int16 stays in int32 up to power 2; its
  // rounding shift stays below 31 down to power -42.
  if (q[kCellScalePower] < -42 || q[kCellScalePower] > 2 || q[kCellClip] < -1 ||
      q[kCellClip] > 32767)
    return Status::bad_params;
  return Status::ok;
}

template <typename Act>
void eval_integer(const LstmParams& p, const KernelIO& io) {
  using namespace lstm_quant;
  const LstmShape s = lstm_shape(p, io);
  const Act* input = io.in[kInput].as<const Act>();
  const int8_t* wx = io.in[kInputWeights].as<const int8_t>();
  const int8_t* wh = io.in[kRecurrentWeights].as<const int8_t>();
  const int32_t* bias = io.in[kBias].as<const int32_t>();
  const int32_t* q = io.in[kPeephole].as<const int32_t>();
  Act* state = io.in[kOutputState].as<Act>();
  int16_t* cell_state = io.in[kCellState].as<int16_t>();
  Act* output = io.out[0].as<Act>();
  Act* hidden = reinterpret_cast<Act*>(io.scratch);
  const int32_t lo = sizeof(Act) == 1 ? -128 : -32768, hi = sizeof(Act) == 1 ? 127 : 32767;
  const int32_t hidden_zero_point = fixed::clamp(q[kHiddenZeroPoint], lo, hi);
  const int32_t input_offset = -fixed::clamp(q[kInputZeroPoint], lo, hi);
  const int32_t hidden_offset = -hidden_zero_point;
  const int32_t power = fixed::clamp(q[kCellScalePower], -42, 2);
  const int32_t clip = fixed::clamp(q[kCellClip], -1, 32767);
  for (int32_t t = 0; t < s.steps; ++t) {
    for (int32_t b = 0; b < s.batch; ++b) {
      const Act* x = input + s.row(t, b) * s.input_size;
      Act* h = state + b * s.cells;
      int16_t* c = cell_state + b * s.cells;
      // Gate g of unit j before its activation (CalculateLstmGate).
      const auto gate = [&](int32_t g, int32_t j) {
        const int32_t r = g * s.cells + j;
        const int16_t from_input =
            fc16(wx + r * s.input_size, x, s.input_size, input_offset, bias[r],
                 q[kInputMultiplier + g], shift_at(q, kInputShift + g));
        const int16_t from_state =
            fc16(wh + r * s.cells, h, s.cells, hidden_offset, 0, q[kRecurrentMultiplier + g],
                 shift_at(q, kRecurrentShift + g));
        return saturate16(int32_t{from_input} + from_state);
      };
      for (int32_t j = 0; j < s.cells; ++j) {
        const int16_t in_gate = sigmoid16(gate(0, j));
        const int16_t forget = sigmoid16(gate(1, j));
        const int16_t candidate = tanh16(gate(2, j), -12);
        const int16_t out_gate = sigmoid16(gate(3, j));
        const int32_t kept = mul16(forget, c[j], q[kForgetCellMultiplier],
                                   shift_at(q, kForgetCellShift), 0, -32768, 32767);
        const int32_t added = mul16(in_gate, candidate, q[kInputCellMultiplier],
                                    shift_at(q, kInputCellShift), 0, -32768, 32767);
        int16_t next = saturate16(kept + added);
        if (clip >= 0) next = static_cast<int16_t>(fixed::clamp(next, -clip, clip));
        c[j] = next;
        hidden[j] = static_cast<Act>(mul16(tanh16(next, power), out_gate, q[kHiddenMultiplier],
                                           shift_at(q, kHiddenShift), hidden_zero_point, lo, hi));
      }
      Act* y = output + s.row(t, b) * s.cells;
      for (int32_t k = 0; k < s.cells; ++k) h[k] = y[k] = hidden[k];
    }
  }
}

}  // namespace

Status check_Lstm(const LstmParams& p, const KernelIO& io) {
  if (io.num_inputs != 8 || io.num_outputs != 1) return Status::bad_shape;
  if (p.time_major != 0 && p.time_major != 1) return Status::bad_params;
  const DType type = io.in[kInput].type;
  if (type == DType::f32) return check_float(p, io);
  if (type == DType::i8 || type == DType::i16) return check_integer(p, io);
  return Status::bad_enum;
}

void eval_Lstm(const LstmParams& p, const KernelIO& io) {
  switch (io.in[kInput].type) {
    case DType::i8:
      eval_integer<int8_t>(p, io);
      break;
    case DType::i16:
      eval_integer<int16_t>(p, io);
      break;
    default:
      eval_float(p, io);
  }
}

}  // namespace tinyforge
