// What the lowering of Add, Reshape, Softmax, Quantize and Dequantize (their host files
// under compiler/ops/) shares; each check refuses with a message naming the node.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "plan/lower.h"
#include "plan/plan.h"
#include "plan/quant_math.h"

namespace tinyforge::plan::elementwise_lowering {

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what);
std::string shape_str(const std::vector<int32_t>& s);

// The node, with at least `inputs` inputs in range and one output.
const ir::Node& node_with_arity(const ir::Graph& g, size_t node, size_t inputs);

// Per-tensor (scale, zero point) of an int8 tensor; refuses anything else.
struct TensorQuant {
  float scale;
  int32_t zero_point;
};
TensorQuant per_tensor_int8(const ir::Graph& g, size_t node, int t, const char* role);
// The same for an int8 or int16 tensor (zero point in the dtype's range).
TensorQuant per_tensor_quantized(const ir::Graph& g, size_t node, int t, const char* role);

void require_dtype(const ir::Graph& g, size_t node, int t, DType type, const char* role);
void require_rank_at_most_4(const ir::Graph& g, size_t node, int t);

// TFLite's QuantizeMultiplierSmallerThanOneExp: refuses multipliers outside (0, 1).
QuantizedMultiplier multiplier_below_one(const ir::Graph& g, size_t node, double real,
                                         const char* what);

// True if `out` is the numpy broadcast of `a` and `b`.
bool is_broadcast_shape(const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                        const std::vector<int32_t>& out);
// Refuses the node unless tensor `out`'s shape is the numpy broadcast of tensors `a` and `b`.
void require_broadcast_output(const ir::Graph& g, size_t node, int a, int b, int out);

}  // namespace tinyforge::plan::elementwise_lowering
