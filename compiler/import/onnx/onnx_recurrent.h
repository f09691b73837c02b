// What ONNX's recurrent ops share at import (LSTM in ops/lstm.cc, GRU in onnx_gru.cc):
// the `direction` attribute and the time reversal a "reverse" direction runs on.
#pragma once
#include <string>

#include "import/onnx/onnx_context.h"

namespace tinyforge::onnx_import {

// ONNX's `direction` (onnx/defs/rnn/defs.cc): "forward" (1 direction), "reverse" (1, run
// backwards in time) or "bidirectional" (2: forward, then reverse). Fails on anything else.
struct Directions {
  int count = 1;
  bool reverse(int d) const { return count == 2 ? d == 1 : first_reverse; }
  bool first_reverse = false;
};
Directions rnn_directions(Context& ctx);

// `tensor` with IR axis `axis` read backwards (a StridedSlice of stride -1).
int reverse_axis(Context& ctx, int tensor, int axis, const std::string& name);

// ONNX GRU, unrolled (onnx_gru.cc).
void convert_GRU(Context& ctx);

}  // namespace tinyforge::onnx_import
