// The integer LSTM's requantization table: input 4 of an int8 or int16 Lstm (params.h), an
// int32 constant the compiler fills from the tensors' scales as TFLM's prepare does
// (compiler/ops/lstm.cc). Gates are indexed 0 input, 1 forget, 2 cell, 3 output. Its own
// header, so that only the LSTM's kernel and lowering include it.
#pragma once
#include <cstdint>

namespace tinyforge::lstm_quant {

enum : int32_t {
  kInputMultiplier = 0,        // [4] the input FC's Q31 multiplier per gate (output scale 2^-12)
  kInputShift = 4,             // [4] its shift
  kRecurrentMultiplier = 8,    // [4] the recurrent FC's, per gate
  kRecurrentShift = 12,        // [4]
  kForgetCellMultiplier = 16,  // forget gate x cell state -> cell state
  kForgetCellShift,
  kInputCellMultiplier,  // input gate x cell gate -> cell state
  kInputCellShift,
  kHiddenMultiplier,  // tanh(cell state) x output gate -> hidden state
  kHiddenShift,
  kInputZeroPoint,
  kHiddenZeroPoint,  // the output state's (and output's) zero point
  kCellScalePower,   // cell state scale = 2^power
  kCellClip,         // |cell state| bound in cell-state units, -1: none
  kCount
};

}  // namespace tinyforge::lstm_quant
