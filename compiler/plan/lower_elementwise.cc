// What the lowering of Add, Reshape, Softmax, Quantize and Dequantize (their host files
// under compiler/ops/) shares: the constants TFLite Micro's Prepare() would compute at run
// time (tensorflow/lite/micro/kernels/add_common.cc, softmax_common.cc, quantize_common.cc,
// dequantize_common.cc) are computed there offline with the same double-precision
// arithmetic so the kernels reproduce the reference bit for bit.
#include "plan/lower_elementwise.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tinyforge::plan::elementwise_lowering {

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", g.node_label(node), what));
}

const ir::Node& node_with_arity(const ir::Graph& g, size_t node, size_t inputs) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() < inputs || n.outputs.size() != 1)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected {} and 1", n.inputs.size(),
                       n.outputs.size(), inputs));
  for (size_t i = 0; i < inputs; ++i)
    if (n.inputs[i] < 0 || n.inputs[i] >= static_cast<int>(g.tensors.size()))
      refuse(g, node, fmt::format("input {} is missing or out of range", i));
  if (n.outputs[0] < 0 || n.outputs[0] >= static_cast<int>(g.tensors.size()))
    refuse(g, node, "output tensor out of range");
  return n;
}

TensorQuant per_tensor_int8(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.type != DType::i8)
    refuse(g, node,
           fmt::format("{} '{}' is {}; expected int8", role, tensor.name, dtype_name(tensor.type)));
  return per_tensor_quantized(g, node, t, role);
}

TensorQuant per_tensor_quantized(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.type != DType::i8 && tensor.type != DType::i16)
    refuse(g, node,
           fmt::format("{} '{}' is {}; expected int8 or int16", role, tensor.name,
                       dtype_name(tensor.type)));
  if (!tensor.quant.present() || tensor.quant.per_channel())
    refuse(g, node,
           fmt::format("{} '{}' needs per-tensor quantization (one scale and zero point)", role,
                       tensor.name));
  const float scale = tensor.quant.scale[0];
  const int32_t zp = tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0];
  if (!(scale > 0.0f) || !std::isfinite(scale))
    refuse(g, node,
           fmt::format("{} '{}' has quantization scale {}; expected a positive finite value", role,
                       tensor.name, scale));
  const int32_t lo = tensor.type == DType::i8 ? -128 : -32768;
  const int32_t hi = tensor.type == DType::i8 ? 127 : 32767;
  if (zp < lo || zp > hi)
    refuse(
        g, node,
        fmt::format("{} '{}' has zero point {}; expected {}..{}", role, tensor.name, zp, lo, hi));
  return {scale, zp};
}

void require_dtype(const ir::Graph& g, size_t node, int t, DType type, const char* role) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.type != type)
    refuse(g, node,
           fmt::format("{} '{}' is {}; expected {}", role, tensor.name, dtype_name(tensor.type),
                       dtype_name(type)));
}

void require_rank_at_most_4(const ir::Graph& g, size_t node, int t) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.shape.size() > kMaxRank)
    refuse(g, node,
           fmt::format("tensor '{}' has rank {}; the runtime supports at most {}", tensor.name,
                       tensor.shape.size(), kMaxRank));
}

// TFLite's QuantizeMultiplierSmallerThanOneExp: refuses multipliers outside (0, 1).
QuantizedMultiplier multiplier_below_one(const ir::Graph& g, size_t node, double real,
                                         const char* what) {
  if (!(real > 0.0 && real < 1.0))
    refuse(g, node,
           fmt::format("{} multiplier {} is outside (0, 1) as the int8 reference requires", what,
                       real));
  return quantize_multiplier(real);
}

// True if `out` is the numpy broadcast of `a` and `b`.
bool is_broadcast_shape(const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                        const std::vector<int32_t>& out) {
  if (std::max(a.size(), b.size()) != out.size()) return false;
  for (size_t i = 1; i <= out.size(); ++i) {
    const int32_t da = i <= a.size() ? a[a.size() - i] : 1;
    const int32_t db = i <= b.size() ? b[b.size() - i] : 1;
    if (da != db && da != 1 && db != 1) return false;
    if (out[out.size() - i] != (da == 1 ? db : da)) return false;
  }
  return true;
}

void require_broadcast_output(const ir::Graph& g, size_t node, int a, int b, int out) {
  if (!is_broadcast_shape(g.tensors[a].shape, g.tensors[b].shape, g.tensors[out].shape))
    refuse(g, node, "output shape is not the broadcast of the input shapes");
}

std::string shape_str(const std::vector<int32_t>& s) {
  return fmt::format("[{}]", fmt::join(s, ","));
}

}  // namespace tinyforge::plan::elementwise_lowering
