// Lowering of the ops the ONNX path added: Mul, Logistic, Tanh, Clamp, Concatenation,
// Transpose, Pad. int8 constants follow TFLite's Prepare() arithmetic:
// - Mul (tensorflow/lite/kernels/mul.cc): QuantizeMultiplier(s_in1 * s_in2 / s_out) in
//   double; clamp from CalculateActivationRangeQuantized.
// - Clamp as TFLite's quantized ReluX (activations.cc ReluPrepare / QuantizedReluX):
//   QuantizeMultiplier(s_in / s_out); bounds max(-128, zp + round(lo / s_out)) and
//   min(127, zp + round(hi / s_out)), an infinite bound leaving the int8 limit.
// - Logistic / Tanh (tflite-micro logistic_common.cc CalculateArithmeticOpDataLogistic,
//   tanh.cc CalculateArithmeticOpData): input_real = s_in * 2^27 (4 integer bits);
//   frexp(input_real) = q * 2^left_shift; input_multiplier = round(q * 2^31);
//   input_range_radius = floor(15 * 2^27 / 2^left_shift) (CalculateInputRadius(4, shift, 31)).
//   The int8 output must be scale 1/256, zero point -128 (Logistic) / 1/128, 0 (Tanh).
// - Concatenation: int8 inputs must share the output's scale and zero point.
// - Pad: the border is round(value / s_out) + zp (0.0 pads with the zero point).
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

// The node's tensors, checked: `inputs` present and in range, one output, rank <= 4,
// every input of the output's dtype (float32 or int8).
const ir::Node& checked(const ir::Graph& g, size_t node, size_t min_inputs, size_t max_inputs) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() < min_inputs || n.inputs.size() > max_inputs || n.outputs.size() != 1)
    refuse(g, node, fmt::format("has {} inputs and {} outputs; expected {}..{} inputs and 1 output",
                                n.inputs.size(), n.outputs.size(), min_inputs, max_inputs));
  const int count = static_cast<int>(g.tensors.size());
  if (n.outputs[0] < 0 || n.outputs[0] >= count) refuse(g, node, "output tensor out of range");
  const DType type = g.tensors[n.outputs[0]].type;
  if (type != DType::f32 && type != DType::i8)
    refuse(g, node, fmt::format("output is {}; expected float32 or int8", dtype_name(type)));
  for (int t : n.inputs) {
    if (t < 0 || t >= count) refuse(g, node, "an input is missing or out of range");
    if (g.tensors[t].type != type)
      refuse(g, node, fmt::format("input '{}' is {}; the output is {}", g.tensors[t].name,
                                  dtype_name(g.tensors[t].type), dtype_name(type)));
  }
  for (int t : n.inputs)
    if (g.tensors[t].shape.size() > kMaxRank) refuse(g, node, "rank above 4");
  if (g.tensors[n.outputs[0]].shape.size() > kMaxRank) refuse(g, node, "rank above 4");
  return n;
}

struct Q {
  float scale;
  int32_t zero_point;
};

Q per_tensor(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& x = g.tensors[t];
  if (!x.quant.present() || x.quant.per_channel())
    refuse(g, node, fmt::format("{} '{}' needs per-tensor int8 quantization", role, x.name));
  const float s = x.quant.scale[0];
  const int32_t zp = x.quant.zero_point.empty() ? 0 : x.quant.zero_point[0];
  if (!(s > 0.0f) || !std::isfinite(s) || zp < -128 || zp > 127)
    refuse(g, node, fmt::format("{} '{}' has scale {} and zero point {}", role, x.name, s, zp));
  return {s, zp};
}

bool same_elements(const ir::Graph& g, const ir::Node& n) {
  return g.tensors[n.inputs[0]].elements() == g.tensors[n.outputs[0]].elements();
}

// zp + round(v / scale) clamped to int8, or the int8 limit for an infinite v.
int32_t quantize_bound(float v, Q q) {
  if (v == std::numeric_limits<float>::infinity()) return 127;
  if (v == -std::numeric_limits<float>::infinity()) return -128;
  const double r = std::round(static_cast<double>(v) / static_cast<double>(q.scale)) + q.zero_point;
  return static_cast<int32_t>(std::min(127.0, std::max(-128.0, r)));
}

template <typename Params> LoweredOp lowered(const Params& p, std::vector<int> inputs) {
  LoweredOp op;
  op.params = params_bytes(p);
  op.inputs = std::move(inputs);
  return op;
}

// The int8 fields Logistic and Tanh share (TFLM's Prepare for both).
template <typename Params>
Params sigmoid_family_params(const ir::Graph& g, size_t node, float out_scale, int32_t out_zero_point,
                             const char* op_name) {
  const ir::Node& n = checked(g, node, 1, 1);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  Params p{};
  if (g.tensors[n.outputs[0]].type != DType::i8) return p;
  const Q qi = per_tensor(g, node, n.inputs[0], "input"), qo = per_tensor(g, node, n.outputs[0], "output");
  if (qo.scale != out_scale || qo.zero_point != out_zero_point)
    refuse(g, node, fmt::format("int8 {} output has scale {} and zero point {}; expected {} and {}", op_name,
                                qo.scale, qo.zero_point, out_scale, out_zero_point));
  constexpr int kInputIntegerBits = 4;
  const double input_real = static_cast<double>(qi.scale) * static_cast<double>(1 << (31 - kInputIntegerBits));
  int left_shift = 0;
  const double q = std::frexp(input_real, &left_shift);
  const double multiplier = std::round(q * static_cast<double>(1LL << 31));
  if (multiplier >= static_cast<double>(1LL << 31) || left_shift > 31 || left_shift < -31)
    refuse(g, node, fmt::format("input scale {} is outside what the int8 {} reference handles", qi.scale, op_name));
  p.input_zero_point = qi.zero_point;
  p.input_multiplier = static_cast<int32_t>(multiplier);
  p.input_left_shift = left_shift;
  const double radius = std::floor(static_cast<double>((1 << kInputIntegerBits) - 1) *
                                   static_cast<double>(1LL << (31 - kInputIntegerBits)) / std::ldexp(1.0, left_shift));
  p.input_range_radius = static_cast<int32_t>(std::min(radius, static_cast<double>(1 << 30)));
  return p;
}

}  // namespace

LoweredOp lower_Mul(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 2, 2);
  MulParams p{};
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  if (g.tensors[out].type == DType::f32) {
    const FloatRange r = activation_range_float(n.attrs.activation);
    p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
    p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  } else {
    const Q qa = per_tensor(g, node, a, "input 0"), qb = per_tensor(g, node, b, "input 1"),
            qo = per_tensor(g, node, out, "output");
    const QuantizedMultiplier m = quantize_multiplier(static_cast<double>(qa.scale) *
                                                      static_cast<double>(qb.scale) / static_cast<double>(qo.scale));
    p.input1_offset = -qa.zero_point;
    p.input2_offset = -qb.zero_point;
    p.output_offset = qo.zero_point;
    p.output_multiplier = m.multiplier;
    p.output_shift = m.shift;
    const ClampRange r = activation_range_int8(n.attrs.activation, qo.scale, qo.zero_point);
    p.act_min = r.min;
    p.act_max = r.max;
  }
  return lowered(p, {a, b});
}

LoweredOp lower_Logistic(ir::Graph& g, size_t node) {
  const auto p = sigmoid_family_params<LogisticParams>(g, node, 1.0f / 256, -128, "Logistic");
  return lowered(p, {g.nodes[node].inputs[0]});
}

LoweredOp lower_Tanh(ir::Graph& g, size_t node) {
  const auto p = sigmoid_family_params<TanhParams>(g, node, 1.0f / 128, 0, "Tanh");
  return lowered(p, {g.nodes[node].inputs[0]});
}

LoweredOp lower_Clamp(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1);
  if (!same_elements(g, n)) refuse(g, node, "input and output sizes differ");
  const float lo = n.attrs.clamp_min, hi = n.attrs.clamp_max;
  if (!(lo <= hi)) refuse(g, node, fmt::format("clamp bounds [{}, {}] are empty or NaN", lo, hi));
  ClampParams p{};
  p.f_min = lo;
  p.f_max = hi;
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"), qo = per_tensor(g, node, n.outputs[0], "output");
    const QuantizedMultiplier m = quantize_multiplier(static_cast<double>(qi.scale) / static_cast<double>(qo.scale));
    p.input_offset = -qi.zero_point;
    p.output_offset = qo.zero_point;
    p.output_multiplier = m.multiplier;
    p.output_shift = m.shift;
    p.act_min = std::max<int32_t>(-128, quantize_bound(lo, qo));
    p.act_max = std::min<int32_t>(127, quantize_bound(hi, qo));
    if (p.act_min > p.act_max) refuse(g, node, "clamp bounds collapse in the output's int8 range");
  }
  return lowered(p, {n.inputs[0]});
}

LoweredOp lower_Concatenation(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, kMaxOpInputs);
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  const int rank = static_cast<int>(out.shape.size());
  if (n.attrs.axis < 0 || n.attrs.axis >= rank)
    refuse(g, node, fmt::format("axis {} out of range for rank {}", n.attrs.axis, rank));
  int64_t total = 0;
  for (int t : n.inputs) {
    const ir::Tensor& in = g.tensors[t];
    if (static_cast<int>(in.shape.size()) != rank) refuse(g, node, "inputs and output differ in rank");
    for (int d = 0; d < rank; ++d)
      if (d != n.attrs.axis && in.shape[d] != out.shape[d])
        refuse(g, node, fmt::format("input '{}' differs from the output outside axis {}", in.name, n.attrs.axis));
    total += in.shape[n.attrs.axis];
    if (out.type == DType::i8) {
      const Q qi = per_tensor(g, node, t, "input"), qo = per_tensor(g, node, n.outputs[0], "output");
      if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
        refuse(g, node, fmt::format("int8 input '{}' is quantized differently from the output", in.name));
    }
  }
  if (total != out.shape[n.attrs.axis]) refuse(g, node, "output size along the axis is not the inputs' sum");
  ConcatenationParams p{};
  p.axis = n.attrs.axis;
  return lowered(p, n.inputs);
}

LoweredOp lower_Transpose(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1);
  const auto& in = g.tensors[n.inputs[0]].shape;
  const auto& out = g.tensors[n.outputs[0]].shape;
  const std::vector<int32_t>& perm = n.attrs.perm;
  if (perm.size() != in.size() || out.size() != in.size()) refuse(g, node, "perm does not match the rank");
  TransposeParams p{};
  std::vector<char> seen(in.size(), 0);
  for (int i = 0; i < kMaxRank; ++i) p.perm[i] = i;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int32_t>(in.size()) || seen[perm[i]])
      refuse(g, node, "perm is not a permutation");
    seen[perm[i]] = 1;
    if (out[i] != in[perm[i]]) refuse(g, node, "output shape is not the permuted input shape");
    p.perm[i] = perm[i];
  }
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"), qo = per_tensor(g, node, n.outputs[0], "output");
    if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      refuse(g, node, "int8 input and output are quantized differently");
  }
  return lowered(p, {n.inputs[0]});
}

LoweredOp lower_Pad(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1);
  const auto& in = g.tensors[n.inputs[0]].shape;
  const auto& out = g.tensors[n.outputs[0]].shape;
  const size_t rank = in.size();
  if (n.attrs.pads.size() != 2 * rank || out.size() != rank)
    refuse(g, node, fmt::format("pads has {} entries; expected {}", n.attrs.pads.size(), 2 * rank));
  PadParams p{};
  for (size_t i = 0; i < rank; ++i) {
    p.before[i] = n.attrs.pads[i];
    p.after[i] = n.attrs.pads[rank + i];
    if (p.before[i] < 0 || p.after[i] < 0) refuse(g, node, "negative pads");
    if (int64_t{in[i]} + p.before[i] + p.after[i] != out[i]) refuse(g, node, "output shape is not the padded input shape");
  }
  p.f_value = n.attrs.pad_value;
  if (g.tensors[n.outputs[0]].type == DType::i8) {
    const Q qi = per_tensor(g, node, n.inputs[0], "input"), qo = per_tensor(g, node, n.outputs[0], "output");
    if (qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      refuse(g, node, "int8 input and output are quantized differently");
    const double q = std::round(static_cast<double>(n.attrs.pad_value) / qo.scale) + qo.zero_point;
    if (q < -128 || q > 127) refuse(g, node, fmt::format("pad value {} is outside the int8 range", n.attrs.pad_value));
    p.q_value = static_cast<int32_t>(q);
  }
  return lowered(p, {n.inputs[0]});
}

}  // namespace tinyforge::plan
