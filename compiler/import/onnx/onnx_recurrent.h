// What ONNX's recurrent ops share at import (LSTM in ops/lstm.cc, GRU in onnx_gru.cc):
// the `direction` attribute and the time reversal a "reverse" direction runs on.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

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

// What LSTM and GRU read alike: X (rank 3; `layout` 0 is [T,B,I], 1 is [B,T,I]), W
// [D, gates*H, I] and R [D, gates*H, H] constant float, B [D, 2*gates*H] (zeros when absent;
// input biases, then recurrent ones) and sequence_lens, imported only when it is T everywhere.
struct RecurrentInputs {
  int64_t layout = 0, steps = 0, batch = 0, features = 0, dirs = 1, hidden = 0;
  Value* x = nullptr;
  Constant w, r;
  std::vector<float> bias;
  // The shape of initial_h / Y_h in ONNX layout: [D,B,H] (layout 0) or [B,D,H].
  Shape state_shape() const {
    return layout ? Shape{batch, dirs, hidden} : Shape{dirs, batch, hidden};
  }
};
RecurrentInputs read_recurrent_inputs(Context& ctx, const Directions& dirs, int64_t gates);

// Fails unless `c` is float32 of `shape`, naming `role`.
void expect_float(Context& ctx, const Constant& c, const char* role, const Shape& shape);

// Elements [index * size, (index + 1) * size) of `v`: one gate's or direction's block.
std::vector<float> block(const std::vector<float>& v, size_t index, size_t size);

// ONNX GRU, unrolled (onnx_gru.cc).
void convert_GRU(Context& ctx);

}  // namespace tinyforge::onnx_import
