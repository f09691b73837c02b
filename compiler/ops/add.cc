// Add: everything the compiler knows about it, in one file.
//
// Semantics: TFLite ADD with numpy broadcasting and a fused activation; ONNX Add (and Sub,
// BatchNormalization's shift) map to it. int8 as
// TFLite Micro's CalculateOpDataAdd (micro/kernels/add_common.cc): both inputs rescaled to
// twice the larger input scale after a left shift of 20 bits, every multiplier below one,
// all ratios in double. int16 (TFLite's 16x8 scheme) alike with a left shift of 15 and
// zero points 0: TFLM takes this general-scale path for every int16 ADD (add.cc passes
// pot_scale false); TFLite's interpreter takes a power-of-two path instead when the
// model's pot_scale_int16 option is set and every scale is a power of two, which tinyforge
// does not reproduce. int32 (plain integers, no quantization): TFLite's reference
// Add<int32_t>, the sum clamped to CalculateActivationRange<int32_t> (micro_speech's
// preprocessor rounds and offsets its int8 features so). Quantized from its calibrated output
// range; channels do not pass through for pruning. TFLite: builtin ADD (0) with AddOptions, version
// 2 for int8.
#include "ops/add.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "ops/mul.h"
#include "plan/lower_checks.h"
#include "plan/lower_elementwise.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_AddOptions(), tfl::BuiltinOptions::AddOptions);
  ir::Node n{OpCode::Add, {}, {}, {}, {}};
  ops::AddAttrs a;
  if (o) a.activation = m.activation(o->fused_activation_function());
  n.params = a;
  require_binary_operands(m, /*int16=*/true, /*int32=*/true);
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const ir::Activation act = n.params.get_or_default<ops::AddAttrs>().activation;
  const auto options = tfl::CreateAddOptions(b.fbb(), activation(act));
  b.add_operator(tfl::BuiltinOperator::ADD, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::AddOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace elementwise_lowering;

LoweredOp lower_Add(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 2);
  const ir::Activation act = n.params.get_or_default<ops::AddAttrs>().activation;
  const int a = n.inputs[0], b = n.inputs[1], out = n.outputs[0];
  for (int t : {a, b, out}) require_rank_at_most_4(g, node, t);
  const auto& sa = g.tensors[a].shape;
  const auto& sb = g.tensors[b].shape;
  const auto& so = g.tensors[out].shape;
  if (!is_broadcast_shape(sa, sb, so))
    refuse(g, node,
           fmt::format("output shape {} is not the broadcast of {} and {}", shape_str(so),
                       shape_str(sa), shape_str(sb)));

  AddParams p{};
  const DType type = g.tensors[out].type;
  if (type == DType::f32) {
    require_dtype(g, node, a, DType::f32, "input 0");
    require_dtype(g, node, b, DType::f32, "input 1");
    // TFLite's CalculateActivationRange bounds "no limit" by the finite float extremes.
    const FloatRange r = activation_range_float(act);
    p.f_act_min = std::max(r.min, std::numeric_limits<float>::lowest());
    p.f_act_max = std::min(r.max, std::numeric_limits<float>::max());
  } else if (type == DType::i32) {
    require_dtype(g, node, a, DType::i32, "input 0");
    require_dtype(g, node, b, DType::i32, "input 1");
    const lowering::Int32Range r = lowering::activation_range_int32(act);
    p.act_min = r.min;
    p.act_max = r.max;
  } else if (type == DType::i8 || type == DType::i16) {
    require_dtype(g, node, a, type, "input 0");
    require_dtype(g, node, b, type, "input 1");
    const TensorQuant qa = per_tensor_quantized(g, node, a, "input 0");
    const TensorQuant qb = per_tensor_quantized(g, node, b, "input 1");
    const TensorQuant qo = per_tensor_quantized(g, node, out, "output");
    if (type == DType::i16 && (qa.zero_point != 0 || qb.zero_point != 0 || qo.zero_point != 0))
      refuse(g, node, "int16 inputs and output need zero point 0 (TFLite's 16x8 scheme)");
    // add_common.cc CalculateOpDataAdd: both inputs rescaled to twice the larger input
    // scale after a left shift of 20 bits (int16: 15); all ratios in double.
    p.left_shift = type == DType::i16 ? 15 : 20;
    const double twice_max_input_scale = 2.0 * static_cast<double>(std::max(qa.scale, qb.scale));
    const QuantizedMultiplier m1 = multiplier_below_one(
        g, node, static_cast<double>(qa.scale) / twice_max_input_scale, "input 0");
    const QuantizedMultiplier m2 = multiplier_below_one(
        g, node, static_cast<double>(qb.scale) / twice_max_input_scale, "input 1");
    const QuantizedMultiplier mo = multiplier_below_one(
        g, node,
        twice_max_input_scale /
            (static_cast<double>(1 << p.left_shift) * static_cast<double>(qo.scale)),
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
    const ClampRange r = activation_range(act, qo.scale, qo.zero_point, type);
    p.act_min = r.min;
    p.act_max = r.max;
  } else {
    refuse(g, node,
           fmt::format("output is {}; expected float32, int8, int16 or int32", dtype_name(type)));
  }
  return lowering::lowered(p, {a, b});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// FullyConnected output + constant bias row: add it to the FC's bias instead.
bool try_fold_bias(Context& ctx, Value& x, size_t x_input, const Value& c, const Shape& out_shape) {
  if (x.is_constant() || !c.is_constant() || x.onnx < 0 || x.nhwc >= 0 || x.flat >= 0) return false;
  if (ctx.uses_of_input(x_input) != 1 || out_shape != x.shape || x.shape.size() != 2) return false;
  const Constant& k = ctx.constants[c.const_index];
  if (!k.is_float || k.elements() != x.shape[1] || (k.shape.size() == 2 && k.shape[0] != 1) ||
      k.shape.size() > 2)
    return false;
  const int p = ctx.producer(x.onnx);
  if (p < 0) return false;
  ir::Node& n = ctx.graph.nodes[p];
  if (n.op != OpCode::FullyConnected || ops::fused_activation(n) != ir::Activation::none ||
      n.inputs.size() < 3 || n.inputs[2] < 0)
    return false;
  ir::Tensor& bias = ctx.graph.tensors[n.inputs[2]];
  if (!bias.constant || bias.type != DType::f32 || bias.elements() != x.shape[1]) return false;
  for (int64_t o = 0; o < x.shape[1]; ++o) {
    float b;
    std::memcpy(&b, bias.data.data() + o * 4, 4);
    b += k.f[o];
    std::memcpy(bias.data.data() + o * 4, &b, 4);
  }
  return true;
}

void convert_Add(Context& ctx) {
  Value& a = ctx.input(0);
  Value& b = ctx.input(1);
  Shape out_shape;
  if (broadcast_shape(a.shape, b.shape, out_shape)) {
    if (try_fold_bias(ctx, a, 0, b, out_shape)) return ctx.set_output(0, a);
    if (try_fold_bias(ctx, b, 1, a, out_shape)) return ctx.set_output(0, b);
  }
  ctx.set_output(0, binary(ctx, OpCode::Add, a, b, ctx.node->output(0), ops::AddAttrs{}));
}

void convert_Sum(Context& ctx) {
  ctx.set_output(0, binary_chain(ctx, OpCode::Add, ops::AddAttrs{}));
}

// The sum of the inputs times 1/n.
void convert_Mean(Context& ctx) {
  Value sum = binary_chain(ctx, OpCode::Add, ops::AddAttrs{});
  if (ctx.num_inputs() == 1) return ctx.set_output(0, sum);
  Constant scale;
  scale.shape = {1};
  scale.is_float = true;
  scale.f = {1.0f / static_cast<float>(ctx.num_inputs())};
  Value s = ctx.constant_value(std::move(scale));
  const std::string name = ctx.node->output(0);
  ctx.set_output(0, binary(ctx, OpCode::Mul, sum, s, name + "/mean", ops::MulAttrs{}));
}

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Add() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::ADD), "ADD", read_tflite}},
      {{"Add", onnx_import::convert_Add, 7},
       {"Sum", onnx_import::convert_Sum, 6},
       {"Mean", onnx_import::convert_Mean, 6}},
      write_tflite,
      activation_field<AddAttrs>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
