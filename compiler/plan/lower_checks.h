// Checks the lowering functions of the op files in compiler/ops/ share; each refuses with
// a message naming the node.
#pragma once
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "plan/lower.h"
#include "plan/plan.h"

namespace tinyforge::plan::lowering {

[[noreturn]] inline void refuse(const ir::Graph& g, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", g.node_label(node), what));
}

// The node's tensors, checked: `inputs` present and in range, 1..max_outputs outputs (one by
// default) of one dtype, rank <= 4, every input of the outputs' dtype (float32 or int8, or
// int16 where the op takes `int16`: TFLite's 16x8 activations; int32 where it takes `int32`:
// plain integers).
inline const ir::Node& checked(const ir::Graph& g, size_t node, size_t min_inputs,
                               size_t max_inputs, size_t max_outputs = 1, bool int16 = false,
                               bool int32 = false) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() < min_inputs || n.inputs.size() > max_inputs || n.outputs.empty() ||
      n.outputs.size() > max_outputs)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected {}..{} inputs and {}",
                       n.inputs.size(), n.outputs.size(), min_inputs, max_inputs,
                       max_outputs == 1 ? std::string("1 output")
                                        : fmt::format("1..{} outputs", max_outputs)));
  const int count = static_cast<int>(g.tensors.size());
  for (int t : n.outputs)
    if (t < 0 || t >= count) refuse(g, node, "output tensor out of range");
  const DType type = g.tensors[n.outputs[0]].type;
  if (type != DType::f32 && type != DType::i8 && !(int16 && type == DType::i16) &&
      !(int32 && type == DType::i32))
    refuse(g, node,
           fmt::format("output is {}; expected float32{}", dtype_name(type),
                       int16 && int32 ? ", int8, int16 or int32"
                       : int16        ? ", int8 or int16"
                       : int32        ? ", int8 or int32"
                                      : " or int8"));
  for (int t : n.outputs)
    if (g.tensors[t].type != type) refuse(g, node, "outputs differ in dtype");
  for (int t : n.inputs) {
    if (t < 0 || t >= count) refuse(g, node, "an input is missing or out of range");
    if (g.tensors[t].type != type)
      refuse(g, node,
             fmt::format("input '{}' is {}; the output is {}", g.tensors[t].name,
                         dtype_name(g.tensors[t].type), dtype_name(type)));
  }
  for (int t : n.inputs)
    if (g.tensors[t].shape.size() > kMaxRank) refuse(g, node, "rank above 4");
  for (int t : n.outputs)
    if (g.tensors[t].shape.size() > kMaxRank) refuse(g, node, "rank above 4");
  return n;
}

// The clamp of a fused activation on plain int32 values (TFLite's
// CalculateActivationRange<int32_t>: none is the whole int32 range).
struct Int32Range {
  int32_t min, max;
};
inline Int32Range activation_range_int32(ir::Activation act) {
  switch (act) {
    case ir::Activation::relu:
      return {0, INT32_MAX};
    case ir::Activation::relu6:
      return {0, 6};
    case ir::Activation::relu_n1_to_1:
      return {-1, 1};
    default:
      return {INT32_MIN, INT32_MAX};
  }
}

struct Q {
  float scale;
  int32_t zero_point;
};

inline Q per_tensor(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& x = g.tensors[t];
  if (!x.quant.present() || x.quant.per_channel())
    refuse(g, node, fmt::format("{} '{}' needs per-tensor quantization", role, x.name));
  const float s = x.quant.scale[0];
  const int32_t zp = x.quant.zero_point.empty() ? 0 : x.quant.zero_point[0];
  const int32_t zp_limit = x.type == DType::i16 ? 32768 : 128;
  if (!(s > 0.0f) || !std::isfinite(s) || zp < -zp_limit || zp >= zp_limit)
    refuse(g, node, fmt::format("{} '{}' has scale {} and zero point {}", role, x.name, s, zp));
  return {s, zp};
}

// An op that moves int8 or int16 values without requantizing: its first input (`role`) and
// its output must share one quantization. Returns the output's.
inline Q same_quantization(const ir::Graph& g, size_t node, const char* role) {
  const ir::Node& n = g.nodes[node];
  const Q qi = per_tensor(g, node, n.inputs[0], role),
          qo = per_tensor(g, node, n.outputs[0], "output");
  if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
    refuse(g, node,
           fmt::format("{} {} and output are quantized differently",
                       dtype_name(g.tensors[n.outputs[0]].type), role));
  return qo;
}

inline bool same_elements(const ir::Graph& g, const ir::Node& n) {
  return g.tensors[n.inputs[0]].elements() == g.tensors[n.outputs[0]].elements();
}

template <typename Params>
LoweredOp lowered(const Params& p, std::vector<int> inputs) {
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = std::move(inputs);
  return op;
}

}  // namespace tinyforge::plan::lowering
