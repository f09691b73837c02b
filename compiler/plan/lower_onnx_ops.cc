// Lowering of Clamp and Concatenation (Mul, Logistic, Tanh, Transpose and Pad: their host
// files in compiler/ops/). int8 constants follow TFLite's Prepare() arithmetic:
// - Clamp as TFLite's quantized ReluX (activations.cc ReluPrepare / QuantizedReluX):
//   QuantizeMultiplier(s_in / s_out); bounds max(-128, zp + round(lo / s_out)) and
//   min(127, zp + round(hi / s_out)), an infinite bound leaving the int8 limit.
// - Concatenation: int8 inputs must share the output's scale and zero point.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "plan/lower.h"
#include "plan/lower_checks.h"
#include "plan/plan.h"
#include "plan/quant_math.h"

namespace tinyforge::plan {
namespace {

using lowering::checked;
using lowering::lowered;
using lowering::per_tensor;
using lowering::Q;
using lowering::refuse;
using lowering::same_elements;

// zp + round(v / scale) clamped to int8, or the int8 limit for an infinite v.
int32_t quantize_bound(float v, Q q) {
  if (v == std::numeric_limits<float>::infinity()) return 127;
  if (v == -std::numeric_limits<float>::infinity()) return -128;
  const double r = std::round(static_cast<double>(v) / static_cast<double>(q.scale)) + q.zero_point;
  return static_cast<int32_t>(std::min(127.0, std::max(-128.0, r)));
}


}  // namespace

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

}  // namespace tinyforge::plan
