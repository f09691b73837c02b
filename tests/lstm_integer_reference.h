// An int8 (8x8_16) or int16 (16x8) UNIDIRECTIONAL_SEQUENCE_LSTM model quantized from the
// float weights of tests/lstm_reference.h, and an independent reference of TFLM's integer
// LSTM written from its definition (tensorflow/lite/micro/kernels/lstm_eval.h LstmStep;
// lstm_eval_common.cc for the scales; reference_integer_ops FullyConnected, Logistic, Tanh,
// MulElementwise; QuantizeMultiplier and MultiplyByQuantizedMultiplier of
// kernels/internal/quantization_util.cc and common.h). It computes a whole time step for
// all batch rows at once, gate by gate, as TFLM does, on 64-bit integers.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lstm_reference.h"
#include "tflite_model_builder.h"

namespace tinyforge::testing {

struct IntLstmQuant {
  bool int16 = false;  // 16x8: int16 activations, INT64 biases
  float input_scale = 4.0f / 255, hidden_scale = 2.0f / 255;
  int32_t input_zero_point = 3, hidden_zero_point = -5;
  int32_t cell_power = -11;  // cell state scale 2^power
};

struct IntLstmWeights {
  std::vector<int8_t> input[4], recurrent[4];
  std::vector<int64_t> bias[4];
  float input_scale[4], recurrent_scale[4];
};

// Per-tensor symmetric int8 weights (scale max|w| / 127) and biases of scale
// input scale x weight scale.
inline IntLstmWeights quantize_lstm_weights(const LstmWeights& w, const IntLstmQuant& q) {
  IntLstmWeights out;
  const auto quantize = [](const std::vector<float>& v, float& scale) {
    float peak = 0;
    for (float x : v) peak = std::max(peak, std::fabs(x));
    scale = peak > 0 ? peak / 127 : 1.0f;
    std::vector<int8_t> r;
    for (float x : v) r.push_back(static_cast<int8_t>(std::lround(x / scale)));
    return r;
  };
  for (int g = 0; g < 4; ++g) {
    out.input[g] = quantize(w.input[g], out.input_scale[g]);
    out.recurrent[g] = quantize(w.recurrent[g], out.recurrent_scale[g]);
    for (float b : w.bias[g])
      out.bias[g].push_back(std::llround(double{b} / (double{q.input_scale} * out.input_scale[g])));
  }
  return out;
}

// The LSTM of `c` (no CIFG, peepholes or projection) with int8 or int16 activations.
inline ModelSpec int_lstm_model(const LstmConfig& c, const IntLstmWeights& w,
                                const IntLstmQuant& q) {
  using TT = tfl::TensorType;
  const TT act = q.int16 ? TT::INT16 : TT::INT8;
  ModelSpec m;
  m.tensors.push_back({"x", c.input_shape(), act, {}, {q.input_scale}, {q.input_zero_point}});
  std::vector<int32_t> operands(24, -1);
  operands[0] = 0;
  const char* gate[] = {"input", "forget", "cell", "output"};
  for (size_t g = 0; g < 4; ++g) {
    operands[1 + g] = static_cast<int32_t>(m.tensors.size());
    m.tensors.push_back({std::string("w_") + gate[g],
                         {c.cells, c.features},
                         TT::INT8,
                         bytes_of(w.input[g]),
                         {w.input_scale[g]},
                         {0}});
    operands[5 + g] = static_cast<int32_t>(m.tensors.size());
    m.tensors.push_back({std::string("r_") + gate[g],
                         {c.cells, c.cells},
                         TT::INT8,
                         bytes_of(w.recurrent[g]),
                         {w.recurrent_scale[g]},
                         {0}});
    operands[12 + g] = static_cast<int32_t>(m.tensors.size());
    std::vector<int32_t> b32(w.bias[g].begin(), w.bias[g].end());
    const float bias_scale = q.input_scale * w.input_scale[g];
    m.tensors.push_back({std::string("b_") + gate[g],
                         {c.cells},
                         q.int16 ? TT::INT64 : TT::INT32,
                         q.int16 ? bytes_of(w.bias[g]) : bytes_of(b32),
                         {bias_scale},
                         {0}});
  }
  TensorSpec hidden{"output_state",   {c.batch, c.cells},   act, {},
                    {q.hidden_scale}, {q.hidden_zero_point}};
  hidden.is_variable = true;
  operands[18] = static_cast<int32_t>(m.tensors.size());
  m.tensors.push_back(hidden);
  TensorSpec cell{"cell_state", {c.batch, c.cells}, TT::INT16, {}, {std::ldexp(1.0f, q.cell_power)},
                  {0}};
  cell.is_variable = true;
  operands[19] = static_cast<int32_t>(m.tensors.size());
  m.tensors.push_back(cell);
  const auto out = static_cast<int32_t>(m.tensors.size());
  m.tensors.push_back({"y", c.output_shape(), act, {}, {q.hidden_scale}, {q.hidden_zero_point}});
  OpSpec op{tfl::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM, operands, {out}};
  op.activation = tfl::ActivationFunctionType::TANH;
  op.cell_clip = c.cell_clip;
  op.time_major = c.time_major;
  m.ops = {op};
  m.inputs = {0};
  m.outputs = {out};
  return m;
}

class IntLstmReference {
 public:
  IntLstmReference(LstmConfig c, IntLstmWeights w, IntLstmQuant q)
      : c_(std::move(c)), w_(std::move(w)), q_(q) {
    reset();
  }

  // TFLM resets the hidden state to its zero point, the cell state to 0.
  void reset() {
    h_.assign(static_cast<size_t>(c_.batch * c_.cells), q_.hidden_zero_point);
    cell_.assign(static_cast<size_t>(c_.batch * c_.cells), 0);
  }

  std::vector<int64_t> run(const std::vector<int64_t>& x) {
    std::vector<int64_t> y(static_cast<size_t>(c_.batch * c_.steps * c_.cells));
    // Rows are independent: TFLM's batch-major order (row by row) gives the same values.
    for (int32_t t = 0; t < c_.steps; ++t) {
      std::vector<int64_t> rows;
      for (int32_t b = 0; b < c_.batch; ++b) {
        const int32_t row = c_.time_major ? t * c_.batch + b : b * c_.steps + t;
        for (int32_t k = 0; k < c_.features; ++k)
          rows.push_back(x[static_cast<size_t>(row * c_.features + k)]);
      }
      step(rows);
      for (int32_t b = 0; b < c_.batch; ++b) {
        const int32_t row = c_.time_major ? t * c_.batch + b : b * c_.steps + t;
        for (int32_t j = 0; j < c_.cells; ++j)
          y[static_cast<size_t>(row * c_.cells + j)] = h_[static_cast<size_t>(b * c_.cells + j)];
      }
    }
    return y;
  }

  // QuantizeMultiplier: a double as a Q31 mantissa and a power of two.
  static std::pair<int64_t, int> quantize(double d) {
    if (d == 0) return {0, 0};
    int shift = 0;
    const double q = std::frexp(d, &shift);
    int64_t fixed = std::llround(q * (1LL << 31));
    if (fixed == (1LL << 31)) {
      fixed /= 2;
      ++shift;
    }
    if (shift < -31) return {0, 0};
    return {fixed, shift};
  }

  // MultiplyByQuantizedMultiplier, int32 form: saturating rounding doubling high multiply of
  // x << left shift, then a rounding (half away from zero) right shift.
  static int64_t requantize32(int64_t x, std::pair<int64_t, int> m) {
    const int left = std::max(m.second, 0), right = std::max(-m.second, 0);
    const int64_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
    const int64_t product = shifted * m.first;
    const int64_t high = (product + (product >= 0 ? (1LL << 30) : 1 - (1LL << 30))) / (1LL << 31);
    if (right == 0) return high;
    const int64_t mask = (1LL << right) - 1, remainder = high & mask;
    const int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    return (high >> right) + (remainder > threshold ? 1 : 0);
  }

  // The int64 form: the multiplier rounded to 15 bits, one rounding shift by 15 - shift.
  static int64_t requantize64(int64_t x, std::pair<int64_t, int> m) {
    const int64_t reduced = m.first < 0x7FFF0000 ? (m.first + (1 << 15)) >> 16 : 0x7FFF;
    const int total = 15 - m.second;
    return (x * reduced + (1LL << (total - 1))) >> total;
  }

  static int64_t clamp16(int64_t v) { return std::clamp<int64_t>(v, -32768, 32767); }

  static const std::vector<int64_t>& table() {
    static const std::vector<int64_t> t = {
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
        41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
        48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
        54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
        58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
        61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
        63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
        64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
        64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
        65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
        65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
        65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
        65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
        65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
        65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
        65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
        65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
        65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
        65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
        65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};
    return t;
  }

  // Interpolates sigmoid(|v| / 2^bits_per_step / 24 ...) from the table: the index is |v|
  // over 2^fraction_bits, the remainder the interpolation weight.
  static int64_t interpolate(int64_t magnitude, int fraction_bits, int64_t saturated) {
    const int64_t index = magnitude >> fraction_bits;
    if (index >= 255) return saturated;
    const int64_t lo = table()[static_cast<size_t>(index)],
                  hi = table()[static_cast<size_t>(index + 1)];
    return (lo << fraction_bits) + (magnitude & ((1 << fraction_bits) - 1)) * (hi - lo);
  }

  // Logistic (int16), input multiplier 3: Q3.12 in, Q0.15 out.
  static int64_t sigmoid(int64_t v) {
    const int64_t x = v * 3;
    const int64_t r = interpolate(std::llabs(x), 9, int64_t{0x7FFF} << 10);
    return (x >= 0 ? r + 512 : (1 << 25) - r + 511) >> 10;
  }

  // Tanh (int16) of a value of scale 2^power, as TFLM's LSTM calls it.
  static int64_t tanh(int64_t v, int power) {
    const int shift = 12 + power;
    const int64_t x =
        shift >= 0 ? v * (int64_t{3} << shift) : (v * 3 + (int64_t{1} << (-shift - 1))) >> -shift;
    const int64_t r = interpolate(std::llabs(x), 8, int64_t{0xFFFF} << 8);
    return (x >= 0 ? r - (1 << 23) + 128 : -r + (1 << 23) + 127) >> 8;
  }

  int power() const { return q_.cell_power; }

 private:
  void step(const std::vector<int64_t>& x) {
    const int32_t n = c_.cells, rows = c_.batch;
    const double gate_scale = 1.0 / 4096, out_scale = 1.0 / 32768;
    const double cell_scale = std::ldexp(1.0, q_.cell_power);
    const int64_t lo = q_.int16 ? -32768 : -128, hi = q_.int16 ? 32767 : 127;
    std::vector<int64_t> gates[4];
    for (int g = 0; g < 4; ++g) {
      const auto in_m = quantize(double{q_.input_scale * w_.input_scale[g]} / gate_scale);
      const auto rec_m = quantize(double{q_.hidden_scale * w_.recurrent_scale[g]} / gate_scale);
      for (int32_t b = 0; b < rows; ++b)
        for (int32_t j = 0; j < n; ++j) {
          int64_t a = w_.bias[g][static_cast<size_t>(j)], r = 0;
          for (int32_t k = 0; k < c_.features; ++k)
            a += w_.input[g][static_cast<size_t>(j * c_.features + k)] *
                 (x[static_cast<size_t>(b * c_.features + k)] - q_.input_zero_point);
          for (int32_t k = 0; k < n; ++k)
            r += w_.recurrent[g][static_cast<size_t>(j * n + k)] *
                 (h_[static_cast<size_t>(b * n + k)] - q_.hidden_zero_point);
          const auto fc = [&](int64_t acc, std::pair<int64_t, int> m) {
            return clamp16(q_.int16 ? requantize64(acc, m) : requantize32(acc, m));
          };
          gates[g].push_back(clamp16(fc(a, in_m) + fc(r, rec_m)));
        }
    }
    const auto forget_cell = quantize(out_scale * cell_scale / cell_scale);
    const auto input_cell = quantize(out_scale * out_scale / cell_scale);
    const auto hidden = quantize(out_scale * out_scale / double{q_.hidden_scale});
    const int64_t clip = c_.cell_clip > 0
                             ? static_cast<int16_t>(std::min(
                                   std::max(double{c_.cell_clip} / cell_scale, -32768.0), 32767.0))
                             : -1;
    for (size_t k = 0; k < gates[0].size(); ++k) {
      const int64_t i = sigmoid(gates[0][k]), f = sigmoid(gates[1][k]);
      const int64_t g = tanh(gates[2][k], -12), o = sigmoid(gates[3][k]);
      int64_t c = clamp16(clamp16(requantize32(f * cell_[k], forget_cell)) +
                          clamp16(requantize32(i * g, input_cell)));
      if (clip >= 0) c = std::clamp(c, -clip, clip);
      cell_[k] = c;
      h_[k] = std::clamp(q_.hidden_zero_point + requantize32(tanh(c, q_.cell_power) * o, hidden),
                         lo, hi);
    }
  }

  LstmConfig c_;
  IntLstmWeights w_;
  IntLstmQuant q_;
  std::vector<int64_t> h_, cell_;
};

}  // namespace tinyforge::testing
