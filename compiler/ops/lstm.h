// The params of Lstm, held in Node::params (the op is in lstm.cc), and the node's inputs:
// TFLite's 24 operands of UNIDIRECTIONAL_SEQUENCE_LSTM in their order (ONNX LSTM imports
// onto the same layout), -1 for an absent optional one.
#pragma once
#include <array>
#include <string>

#include "ir/graph.h"
#include "tinyforge/params.h"

namespace tinyforge::ops {

// TFLite's operand positions (tensorflow/lite/kernels/lstm_shared.h).
namespace lstm_input {
constexpr size_t kInput = 0;
constexpr size_t kInputToInput = 1, kInputToForget = 2, kInputToCell = 3, kInputToOutput = 4;
constexpr size_t kRecurrentToInput = 5, kRecurrentToForget = 6, kRecurrentToCell = 7,
                 kRecurrentToOutput = 8;
constexpr size_t kCellToInput = 9, kCellToForget = 10, kCellToOutput = 11;
constexpr size_t kInputGateBias = 12, kForgetGateBias = 13, kCellGateBias = 14,
                 kOutputGateBias = 15;
constexpr size_t kProjectionWeights = 16, kProjectionBias = 17;
constexpr size_t kOutputState = 18, kCellState = 19;
constexpr size_t kFirstLayerNorm = 20;  // 20..23: layer-norm coefficients (refused)
constexpr size_t kCount = 24;
}  // namespace lstm_input

struct LstmAttrs {
  LstmActivation activation = LstmActivation::tanh;  // of the cell gate and the cell output
  float cell_clip = 0.0f;                            // 0: none
  float proj_clip = 0.0f;                            // 0: none
  bool time_major = false;                           // input [T,B,IN], else [B,T,IN]
  // ONNX LSTM: every invocation starts from zero states (TFLite keeps them between calls).
  bool zero_state = false;

  friend bool operator==(const LstmAttrs& a, const LstmAttrs& b) {
    return a.activation == b.activation && a.cell_clip == b.cell_clip &&
           a.proj_clip == b.proj_clip && a.time_major == b.time_major &&
           a.zero_state == b.zero_state;
  }
};

// What is wrong with an Lstm node's operands (nullptr where absent) and output, or "" when
// they make a float32 or integer LSTM the kernel runs: the required ones present, the input gate's
// three operands all present or all absent (CIFG), the peepholes and the projection
// complete, no layer norm, consistent shapes, constant weights, variable states.
// An int8 or int16 input: TFLM's integer LSTM (8x8_16 or 16x8).
bool is_integer_lstm(const ir::Tensor& input);

// The variants TFLM's integer LSTM does not have (CIFG, peepholes, projection, a gate
// activation other than TANH), or "": also what the quantizer refuses to make integer.
std::string integer_variant_error(const std::array<const ir::Tensor*, lstm_input::kCount>& in,
                                  const LstmAttrs& a);

std::string lstm_error(const std::array<const ir::Tensor*, lstm_input::kCount>& in,
                       const ir::Tensor& output, const LstmAttrs& a);

}  // namespace tinyforge::ops
