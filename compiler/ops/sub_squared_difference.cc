// Sub and SquaredDifference: everything the compiler knows about them, in one file.
//
// Semantics: TFLite SUB (in0 - in1, fused activation) and SQUARED_DIFFERENCE ((in0 - in1)^2,
// no activation), numpy broadcasting up to rank 4; ONNX Sub maps to Sub.
// The kernels share AddParams
// (runtime/kernels/reference/sub_squared_difference.cc). Lowering computes what TFLite's
// Prepare computes, in double:
// - Sub (tensorflow/lite/kernels/sub.cc PrepareGeneralSubOp, as Add's): left_shift 20,
//   twice_max = 2 * max(s_in1, s_in2), input multipliers s_in / twice_max, output
//   multiplier twice_max / (2^20 * s_out), clamp from CalculateActivationRangeQuantized.
//   int16 (TFLite's 16x8 scheme, zero points 0): the same with left_shift 15, the
//   general-scale path TFLM's sub_common.cc always takes (TFLite's interpreter has a
//   power-of-two path for pot_scale_int16 models, not reproduced).
// - SquaredDifference (tensorflow/lite/kernels/squared_difference.cc Prepare): left_shift 7,
//   the same input multipliers, output multiplier twice_max^2 / (2^14 * s_out), clamp to
//   the int8 range. int16 (TFLite Micro's micro/kernels/squared_difference.cc, zero points
//   0): left_shift 0, output multiplier twice_max^2 / s_out by QuantizeMultiplier (it may
//   exceed one), clamp to the int16 range.
// Invariant the int8 and int16 arithmetic assumes (TFLite's
// QuantizeMultiplierSmallerThanOneExp aborts otherwise), checked at import and at lowering:
// every multiplier lies in (0, 1), except int16 SquaredDifference's output multiplier,
// which lies in (0, 2^30).
// Quantized from the calibrated output range; channels do not pass through for pruning.
// TFLite: SUB (41, SubOptions, version 2 for int8), SQUARED_DIFFERENCE (99,
// SquaredDifferenceOptions, version 2 for int8).
#include "ops/sub_squared_difference.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string_view>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/lower_elementwise.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

constexpr int32_t kSubLeftShift = 20;
constexpr int32_t kSubInt16LeftShift = 15;
constexpr int32_t kSquaredDifferenceLeftShift = 7;
constexpr int32_t kSquaredDifferenceInt16LeftShift = 0;

int32_t left_shift(OpCode op, DType type) {
  if (op == OpCode::SquaredDifference)
    return type == DType::i16 ? kSquaredDifferenceInt16LeftShift : kSquaredDifferenceLeftShift;
  return type == DType::i16 ? kSubInt16LeftShift : kSubLeftShift;
}

// int16 SquaredDifference rescales its output with QuantizeMultiplier: above one is allowed.
bool output_above_one_ok(OpCode op, DType type) {
  return op == OpCode::SquaredDifference && type == DType::i16;
}

// The real multipliers of the int8 and int16 arithmetic (TFLite's Prepare, see top).
struct RealMultipliers {
  double input1, input2, output;
};

RealMultipliers real_multipliers(OpCode op, DType type, float s1, float s2, float s_out) {
  const double twice_max = 2.0 * static_cast<double>(std::max(s1, s2));
  RealMultipliers r{static_cast<double>(s1) / twice_max, static_cast<double>(s2) / twice_max, 0};
  const int32_t shift = left_shift(op, type);
  if (op == OpCode::Sub)
    r.output = twice_max / (static_cast<double>(1 << shift) * static_cast<double>(s_out));
  else
    r.output = twice_max * twice_max /
               (static_cast<double>(1 << (2 * shift)) * static_cast<double>(s_out));
  return r;
}

// Empty when every multiplier is in (0, 1) (or the output's in (0, 2^30) when
// `output_above_one`), else what is wrong.
std::string multipliers_problem(const RealMultipliers& r, bool output_above_one) {
  const std::pair<const char*, double> all[] = {
      {"input 0", r.input1}, {"input 1", r.input2}, {"output", r.output}};
  for (const auto& [what, real] : all)
    if (output_above_one && std::string_view(what) == "output") {
      if (!(real > 0.0 && real < 1073741824.0))
        return fmt::format("output multiplier {} is outside (0, 2^30)", real);
    } else if (!(real > 0.0 && real < 1.0))
      return fmt::format("{} multiplier {} is outside (0, 1) as TFLite's reference requires", what,
                         real);
  return {};
}

// --- TFLite import and export ---------------------------------------------------------

// int8: positive scales, int8 zero points; int16 (16x8): zero points 0 (TFLite's Prepare
// ensures it); both: the multipliers in (0, 1).
void require_quantized_multipliers(OpMapper& m, OpCode op) {
  const ir::Tensor& a = m.input(0);
  if (a.type != DType::i8 && a.type != DType::i16) return;
  const ir::Tensor& b = m.input(1);
  const ir::Tensor& out = m.output();
  const bool int16 = a.type == DType::i16;
  for (const ir::Tensor* t : {&a, &b, &out})
    if (!(t->quant.scale.at(0) > 0.0f) || t->quant.zero_point.size() != 1 ||
        (int16 ? t->quant.zero_point[0] != 0
               : t->quant.zero_point[0] < -128 || t->quant.zero_point[0] > 127))
      m.fail(fmt::format("'{}' has scale {}, zero point {}; expected a positive scale and {}",
                         t->name, t->quant.scale.at(0),
                         t->quant.zero_point.empty() ? 0 : t->quant.zero_point[0],
                         int16 ? "zero point 0 (TFLite's 16x8 scheme)" : "an int8 zero point"));
  const std::string problem = multipliers_problem(
      real_multipliers(op, a.type, a.quant.scale[0], b.quant.scale[0], out.quant.scale[0]),
      output_above_one_ok(op, a.type));
  if (!problem.empty()) m.fail(problem);
}

ir::Node read_sub(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_SubOptions(), tfl::BuiltinOptions::SubOptions);
  ir::Node n{OpCode::Sub, {}, {}, {}, {}};
  ops::SubOptions params;
  if (o) params.activation = m.activation(o->fused_activation_function());
  n.params = params;
  tflite_import::require_binary_operands(m, /*int16=*/true);
  require_quantized_multipliers(m, OpCode::Sub);
  return n;
}

ir::Node read_squared_difference(OpMapper& m) {
  m.require_arity(2, 2);
  m.options(m.op().builtin_options_as_SquaredDifferenceOptions(),
            tfl::BuiltinOptions::SquaredDifferenceOptions);
  tflite_import::require_binary_operands(m, /*int16=*/true);
  require_quantized_multipliers(m, OpCode::SquaredDifference);
  return ir::Node{OpCode::SquaredDifference, {}, {}, {}, {}};
}

void write_sub(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const ops::SubOptions* o = n.params.find<ops::SubOptions>();
  const auto options =
      tfl::CreateSubOptions(b.fbb(), activation(o ? o->activation : ir::Activation::none));
  b.add_operator(tfl::BuiltinOperator::SUB, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::SubOptions, options.Union());
}

void write_squared_difference(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(tfl::BuiltinOperator::SQUARED_DIFFERENCE, is_int8(b, node) ? 2 : 1,
                 io_of(b, n.inputs), io_of(b, n.outputs),
                 tfl::BuiltinOptions::SquaredDifferenceOptions,
                 tfl::CreateSquaredDifferenceOptions(b.fbb()).Union());
}

// --- lowering -------------------------------------------------------------------------

using plan::lowering::checked;
using plan::lowering::lowered;
using plan::lowering::per_tensor;
using plan::lowering::Q;
using plan::lowering::refuse;

plan::LoweredOp lower(ir::Graph& g, size_t node, OpCode op, ir::Activation act) {
  const ir::Node& n = checked(g, node, 2, 2, 1, /*int16=*/true);
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  plan::elementwise_lowering::require_broadcast_output(g, node, a, b, out);
  const DType type = g.tensors[out].type;
  AddParams p{};
  if (g.tensors[out].type == DType::f32) {
    const plan::FloatRange r = plan::activation_range_float(act);
    p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
    p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
    return lowered(p, {a, b});
  }
  const Q qa = per_tensor(g, node, a, "input 0"), qb = per_tensor(g, node, b, "input 1"),
          qo = per_tensor(g, node, out, "output");
  if (type == DType::i16 && (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0))
    refuse(g, node, "int16 inputs and output need zero point 0 (TFLite's 16x8 scheme)");
  const RealMultipliers real = real_multipliers(op, type, qa.scale, qb.scale, qo.scale);
  const bool output_above_one = output_above_one_ok(op, type);
  const std::string problem = multipliers_problem(real, output_above_one);
  if (!problem.empty()) refuse(g, node, problem);
  const plan::QuantizedMultiplier m1 = plan::quantize_multiplier(real.input1);
  const plan::QuantizedMultiplier m2 = plan::quantize_multiplier(real.input2);
  const plan::QuantizedMultiplier mo = plan::quantize_multiplier(real.output);
  if (m1.shift > 0 || m2.shift > 0 || (mo.shift > (output_above_one ? 30 : 0)))
    refuse(g, node,
           output_above_one ? "the output multiplier rounds to 2^30; TFLite's reference "
                              "requires it below"
                            : "a multiplier rounds to 1; TFLite's reference requires it below one");
  p.left_shift = left_shift(op, type);
  p.input1_offset = -qa.zero_point;
  p.input1_multiplier = m1.multiplier;
  p.input1_shift = m1.shift;
  p.input2_offset = -qb.zero_point;
  p.input2_multiplier = m2.multiplier;
  p.input2_shift = m2.shift;
  p.output_offset = qo.zero_point;
  p.output_multiplier = mo.multiplier;
  p.output_shift = mo.shift;
  const plan::ClampRange r = plan::activation_range(act, qo.scale, qo.zero_point, type);
  p.act_min = r.min;
  p.act_max = r.max;
  return lowered(p, {a, b});
}

constexpr ir::OpTraits kTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false,
                               ir::ChannelRule::blocks};

}  // namespace

namespace plan {
LoweredOp lower_Sub(ir::Graph& g, size_t node) {
  const ops::SubOptions* o = g.nodes.at(node).params.find<ops::SubOptions>();
  return lower(g, node, OpCode::Sub, o ? o->activation : ir::Activation::none);
}
LoweredOp lower_SquaredDifference(ir::Graph& g, size_t node) {
  return lower(g, node, OpCode::SquaredDifference, ir::Activation::none);
}
}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Sub(Context& ctx) {
  ctx.set_output(0, binary(ctx, OpCode::Sub, ctx.input(0), ctx.input(1), ctx.node->output(0),
                           ops::SubOptions{}));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Sub() {
  static const HostOp op{kTraits,
                         {{static_cast<int32_t>(tfl::BuiltinOperator::SUB), "SUB", read_sub}},
                         {{"Sub", onnx_import::convert_Sub, 7}},
                         write_sub};
  return op;
}

const HostOp& host_op_SquaredDifference() {
  static const HostOp op{kTraits,
                         {{static_cast<int32_t>(tfl::BuiltinOperator::SQUARED_DIFFERENCE),
                           "SQUARED_DIFFERENCE", read_squared_difference}},
                         /*onnx_reads=*/{},
                         write_squared_difference};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
