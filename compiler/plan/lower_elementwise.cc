// Lowering of Add, Reshape, Softmax, Quantize and Dequantize: the constants TFLite Micro's
// Prepare() would compute at run time (tensorflow/lite/micro/kernels/add_common.cc,
// softmax_common.cc, quantize_common.cc, dequantize_common.cc), computed here offline with
// the same double-precision arithmetic so the kernels reproduce the reference bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "plan/lower.h"
#include "plan/plan.h"
#include "plan/quant_math.h"

namespace tinyforge::plan {
namespace {

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", g.node_label(node), what));
}

const ir::Node& node_with_arity(const ir::Graph& g, size_t node, size_t inputs) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() < inputs || n.outputs.size() != 1)
    refuse(g, node, fmt::format("has {} inputs and {} outputs; expected {} and 1", n.inputs.size(),
                                n.outputs.size(), inputs));
  for (size_t i = 0; i < inputs; ++i)
    if (n.inputs[i] < 0 || n.inputs[i] >= static_cast<int>(g.tensors.size()))
      refuse(g, node, fmt::format("input {} is missing or out of range", i));
  if (n.outputs[0] < 0 || n.outputs[0] >= static_cast<int>(g.tensors.size()))
    refuse(g, node, "output tensor out of range");
  return n;
}

// Per-tensor (scale, zero point) of an int8 tensor; refuses anything else.
struct TensorQuant {
  float scale;
  int32_t zero_point;
};
TensorQuant per_tensor_int8(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.type != DType::i8)
    refuse(g, node, fmt::format("{} '{}' is {}; expected int8", role, tensor.name,
                                dtype_name(tensor.type)));
  if (!tensor.quant.present() || tensor.quant.per_channel())
    refuse(g, node, fmt::format("{} '{}' needs per-tensor quantization (one scale and zero point)",
                                role, tensor.name));
  const float scale = tensor.quant.scale[0];
  const int32_t zp = tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0];
  if (!(scale > 0.0f) || !std::isfinite(scale))
    refuse(g, node, fmt::format("{} '{}' has quantization scale {}; expected a positive finite value",
                                role, tensor.name, scale));
  if (zp < -128 || zp > 127)
    refuse(g, node, fmt::format("{} '{}' has zero point {}; expected -128..127", role, tensor.name, zp));
  return {scale, zp};
}

void require_dtype(const ir::Graph& g, size_t node, int t, DType type, const char* role) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.type != type)
    refuse(g, node, fmt::format("{} '{}' is {}; expected {}", role, tensor.name,
                                dtype_name(tensor.type), dtype_name(type)));
}

void require_rank_at_most_4(const ir::Graph& g, size_t node, int t) {
  const ir::Tensor& tensor = g.tensors.at(t);
  if (tensor.shape.size() > kMaxRank)
    refuse(g, node, fmt::format("tensor '{}' has rank {}; the runtime supports at most {}",
                                tensor.name, tensor.shape.size(), kMaxRank));
}

// TFLite's QuantizeMultiplierSmallerThanOneExp: refuses multipliers outside (0, 1).
QuantizedMultiplier multiplier_below_one(const ir::Graph& g, size_t node, double real,
                                         const char* what) {
  if (!(real > 0.0 && real < 1.0))
    refuse(g, node, fmt::format("{} multiplier {} is outside (0, 1) as the int8 reference requires",
                                what, real));
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

std::string shape_str(const std::vector<int32_t>& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

}  // namespace

LoweredOp lower_Add(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 2);
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  for (int t : {a, b, out}) require_rank_at_most_4(g, node, t);
  const auto& sa = g.tensors[a].shape;
  const auto& sb = g.tensors[b].shape;
  const auto& so = g.tensors[out].shape;
  if (!is_broadcast_shape(sa, sb, so))
    refuse(g, node, fmt::format("output shape {} is not the broadcast of {} and {}", shape_str(so),
                                shape_str(sa), shape_str(sb)));

  AddParams p{};
  const DType type = g.tensors[out].type;
  if (type == DType::f32) {
    require_dtype(g, node, a, DType::f32, "input 0");
    require_dtype(g, node, b, DType::f32, "input 1");
    // TFLite's CalculateActivationRange bounds "no limit" by the finite float extremes.
    const FloatRange r = activation_range_float(n.attrs.activation);
    p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
    p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  } else if (type == DType::i8) {
    const TensorQuant qa = per_tensor_int8(g, node, a, "input 0");
    const TensorQuant qb = per_tensor_int8(g, node, b, "input 1");
    const TensorQuant qo = per_tensor_int8(g, node, out, "output");
    // add_common.cc CalculateOpDataAdd: both inputs rescaled to twice the larger input
    // scale after a left shift of 20 bits; all ratios in double.
    p.left_shift = 20;
    const double twice_max_input_scale = 2.0 * static_cast<double>(std::max(qa.scale, qb.scale));
    const QuantizedMultiplier m1 = multiplier_below_one(
        g, node, static_cast<double>(qa.scale) / twice_max_input_scale, "input 0");
    const QuantizedMultiplier m2 = multiplier_below_one(
        g, node, static_cast<double>(qb.scale) / twice_max_input_scale, "input 1");
    const QuantizedMultiplier mo = multiplier_below_one(
        g, node,
        twice_max_input_scale / (static_cast<double>(1 << p.left_shift) * static_cast<double>(qo.scale)),
        "output");
    p.input1_offset = -qa.zero_point;
    p.input1_multiplier = m1.multiplier;
    p.input1_shift = m1.shift;
    p.input2_offset = -qb.zero_point;
    p.input2_multiplier = m2.multiplier;
    p.input2_shift = m2.shift;
    p.output_offset = qo.zero_point;
    p.output_multiplier = mo.multiplier;
    p.output_shift = mo.shift;
    const ClampRange r = activation_range_int8(n.attrs.activation, qo.scale, qo.zero_point);
    p.act_min = r.min;
    p.act_max = r.max;
  } else {
    refuse(g, node, fmt::format("output is {}; expected float32 or int8", dtype_name(type)));
  }
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = {a, b};
  return op;
}

LoweredOp lower_Reshape(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  for (int t : {in, out}) require_rank_at_most_4(g, node, t);
  const ir::Tensor& ti = g.tensors[in];
  const ir::Tensor& to = g.tensors[out];
  if (ti.type != to.type)
    refuse(g, node, fmt::format("changes the element type from {} to {}", dtype_name(ti.type),
                                dtype_name(to.type)));
  if (ti.elements() != to.elements())
    refuse(g, node, fmt::format("output shape {} holds {} elements; the input {} holds {}",
                                shape_str(to.shape), to.elements(), shape_str(ti.shape), ti.elements()));
  LoweredOp op;
  op.params = params_bytes(ReshapeParams{});
  op.inputs = {in};  // the new-shape tensor (input 1, if any) is already folded into `out`
  return op;
}

LoweredOp lower_Softmax(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  for (int t : {in, out}) require_rank_at_most_4(g, node, t);
  if (g.tensors[in].shape != g.tensors[out].shape || g.tensors[in].shape.empty())
    refuse(g, node, fmt::format("input shape {} and output shape {} must be equal and of rank >= 1",
                                shape_str(g.tensors[in].shape), shape_str(g.tensors[out].shape)));
  SoftmaxParams p{};
  p.beta = n.attrs.beta;
  const DType type = g.tensors[in].type;
  if (type == DType::f32) {
    require_dtype(g, node, out, DType::f32, "output");
  } else if (type == DType::i8) {
    const TensorQuant qi = per_tensor_int8(g, node, in, "input");
    const TensorQuant qo = per_tensor_int8(g, node, out, "output");
    // softmax_common.cc CalculateSoftmaxParams: int8 output must be scale 1/256, zp -128.
    if (qo.zero_point != -128 || qo.scale != 1.0f / 256)
      refuse(g, node, fmt::format("int8 output has scale {} and zero point {}; expected 1/256 and -128",
                                  qo.scale, qo.zero_point));
    // quantization_util.cc PreprocessSoftmaxScaling (double rounding build): the input
    // difference is scaled into Q5.26, the real multiplier capped at 2^31 - 1.
    constexpr int kScaledDiffIntegerBits = 5;
    const double real = std::min(static_cast<double>(n.attrs.beta) * static_cast<double>(qi.scale) *
                                     static_cast<double>(1 << (31 - kScaledDiffIntegerBits)),
                                 static_cast<double>((1LL << 31) - 1));
    if (!(real > 1.0))  // QuantizeMultiplierGreaterThanOne's requirement
      refuse(g, node, fmt::format("beta * input scale = {} is too small for the int8 reference "
                                  "softmax (needs beta * scale * 2^26 > 1)",
                                  static_cast<double>(n.attrs.beta) * qi.scale));
    const QuantizedMultiplier m = quantize_multiplier(real);
    p.input_multiplier = m.multiplier;
    p.input_left_shift = m.shift;
    // CalculateInputRadius(5, left_shift, 31): the largest |difference| whose rescaled
    // value still fits in Q5.26, floored.
    const double radius = std::floor(1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                     static_cast<double>(1LL << (31 - kScaledDiffIntegerBits)) /
                                     static_cast<double>(1LL << m.shift));
    p.diff_min = -static_cast<int32_t>(radius);
  } else {
    refuse(g, node, fmt::format("input is {}; expected float32 or int8", dtype_name(type)));
  }
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = {in};
  return op;
}

LoweredOp lower_Quantize(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  if (g.tensors[in].elements() != g.tensors[out].elements())
    refuse(g, node, "input and output element counts differ");
  const TensorQuant qo = per_tensor_int8(g, node, out, "output");
  QuantizeParams p{};
  p.scale = qo.scale;
  p.zero_point = qo.zero_point;
  const DType type = g.tensors[in].type;
  if (type == DType::i8) {
    // quantize_common.cc PrepareQuantizeReference: requantize by in_scale / out_scale.
    const TensorQuant qi = per_tensor_int8(g, node, in, "input");
    const QuantizedMultiplier m =
        quantize_multiplier(static_cast<double>(qi.scale) / static_cast<double>(qo.scale));
    p.input_zero_point = qi.zero_point;
    p.multiplier = m.multiplier;
    p.shift = m.shift;
  } else if (type != DType::f32) {
    refuse(g, node, fmt::format("input is {}; expected float32 or int8", dtype_name(type)));
  }
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = {in};
  return op;
}

LoweredOp lower_Dequantize(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  if (g.tensors[in].elements() != g.tensors[out].elements())
    refuse(g, node, "input and output element counts differ");
  const TensorQuant qi = per_tensor_int8(g, node, in, "input");
  require_dtype(g, node, out, DType::f32, "output");
  DequantizeParams p{};
  p.scale = qi.scale;
  p.zero_point = qi.zero_point;
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = {in};
  return op;
}

}  // namespace tinyforge::plan
