// Div: everything the compiler knows about it, in one file.
//
// Semantics: TFLite DIV (42, DivOptions with a fused activation): in0 / in1 with numpy
// broadcasting up to rank 4; ONNX Div by a run-time divisor (a constant divisor becomes a
// Mul by its reciprocal, mul.cc). int8 as tflite-micro's div.cc (CalculateOpDataDiv) and
// TFLite's DivElementwise<int8_t> (runtime/kernels/reference/div.cc): per-tensor
// quantization, output multiplier and shift QuantizeMultiplier(s0 / (s1 * s_out)) with the
// quotient taken in float as there, zero points as offsets, the fused activation's int8
// range. Invariant the kernel needs: an output shift of at most 23 (s0 / (s1 * s_out) below
// 2^23), so its total shift never turns into a left shift; refused otherwise. Quantized from
// the calibrated output range; channels do not pass through for pruning. int32 (plain
// integers; tflite-micro's div.cc takes them unquantized, reference_ops::Div<int32_t>):
// C++'s truncating quotient clamped to CalculateActivationRange<int32_t> (micro_speech's
// preprocessor divides its features by 666, tf.truncatediv). A constant divisor holding a
// zero is refused at import (TFLite's interpreter refuses that division; TFLM's is
// undefined); a run-time zero divisor gives 0 and INT32_MIN / -1 wraps to INT32_MIN
// (runtime/kernels/reference/div.cc). TFLite: DIV version 1
// for float32 and int8 (version 2 is only for broadcasts above rank 4).
// int16 (TFLite's 16x8; TFLite's div.cc runs DivElementwise<int16_t>, TFLite Micro has no
// int16 DIV): the same arithmetic and multiplier, the int16 activation range. TFLite itself
// accepts any int16 zero points; the 16x8 scheme's are 0 and only those are taken, which
// bounds |in0 - zp0| by 2^15 so the kernel's total shift stays <= 0 for an output shift up
// to 15 (s0 / (s1 * s_out) below 2^15), refused above. 16x8 nodes are not exported.
#include "ops/div.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

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

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_DivOptions(), tfl::BuiltinOptions::DivOptions);
  tflite_import::require_binary_operands(m, /*int16=*/true, /*int32=*/true);
  const ir::Tensor& divisor = m.input(1);
  if (divisor.type == DType::i32 && divisor.constant)
    for (int64_t i = 0; i < divisor.elements(); ++i)
      if (divisor.at<int32_t>(i) == 0)
        m.fail(fmt::format("{} holds a zero at element {}; expected a non-zero int32 divisor",
                           m.in_label(1), i));
  if (m.output().type == DType::i16) {
    const std::pair<const ir::Tensor*, std::string> tensors[] = {
        {&m.input(0), m.in_label(0)}, {&m.input(1), m.in_label(1)}, {&m.output(), m.out_label()}};
    for (const auto& t : tensors) {
      const auto& zp = t.first->quant.zero_point;
      if (!zp.empty() && zp[0] != 0)
        m.unsupported(
            fmt::format("{} has zero point {}; expected 0 (TFLite's 16x8)", t.second, zp[0]));
    }
  }
  ir::Node n{OpCode::Div, {}, {}, {}, {}};
  ops::DivAttrs params;
  if (o) params.activation = m.activation(o->fused_activation_function());
  n.params = params;
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateDivOptions(b.fbb(), activation(n.params.get<ops::DivAttrs>().activation));
  b.add_operator(tfl::BuiltinOperator::DIV, 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 tfl::BuiltinOptions::DivOptions, options.Union());
}

}  // namespace

namespace plan {

LoweredOp lower_Div(ir::Graph& g, size_t node) {
  using namespace lowering;
  const ir::Node& n = checked(g, node, 2, 2, 1, /*int16=*/true, /*int32=*/true);
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  elementwise_lowering::require_broadcast_output(g, node, a, b, out);
  const ir::Activation act = n.params.get<ops::DivAttrs>().activation;
  DivParams p{};
  if (g.tensors[out].type == DType::i32) {
    const Int32Range range = activation_range_int32(act);
    p.act_min = range.min;
    p.act_max = range.max;
    return lowered(p, {a, b});
  }
  const DType type = g.tensors[out].type;
  if (type == DType::i8 || type == DType::i16) {
    const bool int16 = type == DType::i16;
    const Q qa = per_tensor(g, node, a, "input 0"), qb = per_tensor(g, node, b, "input 1"),
            qo = per_tensor(g, node, out, "output");
    if (int16 && (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0))
      refuse(g, node, "an int16 input or the output has a zero point; expected 0 (TFLite's 16x8)");
    // tflite-micro's CalculateOpDataDiv (and TFLite's div.cc Prepare): the scale quotient in
    // float, then to double.
    const auto real = static_cast<double>(qa.scale / (qb.scale * qo.scale));
    const QuantizedMultiplier m = quantize_multiplier(real);
    const int max_shift = int16 ? 15 : 23;
    if (m.shift > max_shift)
      refuse(g, node,
             fmt::format("{} DIV's s0 / (s1 * s_out) = {} is 2^{} or more; TFLite's {} "
                         "arithmetic needs it below",
                         dtype_name(type), real, max_shift, dtype_name(type)));
    const ClampRange range = activation_range(act, qo.scale, qo.zero_point, type);
    p.input1_offset = -qa.zero_point;
    p.input2_offset = -qb.zero_point;
    p.output_offset = qo.zero_point;
    p.output_multiplier = m.multiplier;
    p.output_shift = m.shift;
    p.act_min = range.min;
    p.act_max = range.max;
    return lowered(p, {a, b});
  }
  const FloatRange r = activation_range_float(act);
  p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
  p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  return lowered(p, {a, b});
}

}  // namespace plan

namespace ops {

const HostOp& host_op_Div() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::DIV), "DIV", read_tflite}},
      /*onnx_reads=*/{},
      write_tflite,
      activation_field<DivAttrs>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
