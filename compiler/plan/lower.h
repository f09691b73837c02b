// Lowering of one IR node to one runtime op: fills the op's params struct (requantization
// multipliers/shifts computed offline, fused activation folded into clamp bounds) and
// lists the op's inputs in the order the kernel documents in params.h. It may add constant
// tensors to the graph (per-channel multipliers and shifts).
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "ir/graph.h"
#include "tinyforge/params.h"

namespace tinyforge::plan {

// The kernel may run in place over input `input` (a position in LoweredOp::inputs):
// output 0 may overlap it when offset(input) - offset(output) >= min_gap (plan/overlap.h).
struct InPlace {
  int input = 0;
  int64_t min_gap = 0;
};

struct LoweredOp {
  std::vector<uint8_t> params;  // params struct bytes
  std::vector<int> inputs;      // IR tensor indices in kernel order; -1 = absent
  uint32_t scratch_size = 0;    // bytes of scratch the kernel needs
  std::vector<InPlace> in_place;
};

// The params struct a lowering filled in; the DSP lowerings and the chain fusion start from
// the reference lowering's struct. A size mismatch is a compiler bug, not bad input.
template <typename Params>
Params params_of(const LoweredOp& op) {
  Params p;
  if (op.params.size() != sizeof p) throw std::logic_error("params_of: params size mismatch");
  std::memcpy(&p, op.params.data(), sizeof p);
  return p;
}

// Throws tinyforge::Error naming the node when it cannot be lowered (unsupported dtype or
// quantization scheme, inconsistent shapes).
LoweredOp lower_node(ir::Graph& graph, size_t node_index);

// One function per op in ops.def (lower_conv.cc, lower_elementwise.cc, ...).
#define OP(name, params, min_in, max_in, n_out) \
  LoweredOp lower_##name(ir::Graph& graph, size_t node_index);
#include "tinyforge/ops.def"
#undef OP

}  // namespace tinyforge::plan
