// Softmax: everything the compiler knows about it, in one file.
//
// Semantics: TFLite SOFTMAX over the last dim with a beta; ONNX Softmax maps to it when
// its axis is last. int8 as TFLite Micro's
// CalculateSoftmaxParams (micro/kernels/softmax_common.cc) and PreprocessSoftmaxScaling
// (quantization_util.cc, double rounding build). Invariants: beta finite and > 0; the int8
// output has scale 1/256 and zero point -128, which quantization fixes. Channels do not
// pass through for pruning. TFLite: builtin SOFTMAX (25) with SoftmaxOptions, version 2
// for int8. int16 (TFLite's 16x8, tflite-micro's CalculateSoftmaxParams for int16): zero
// points 0 and an output scale of 1/32768 (within tflite-micro's 0.1 %); the input
// multiplier and shift quantize beta * s_in / (10 / 65535) with QuantizeMultiplier, and the
// exp and 1 / (1 + x) tables the kernel reads are made here as two constant inputs, as
// tflite-micro's Prepare makes them. Shifts above 15 (beta * s_in above about 5) are refused:
// the kernel's 65535 * 2^shift must stay inside int32. 16x8 nodes are not exported.
//
// LogSoftmax (beside it: the same rows, and ONNX's axis handling): TFLite LOG_SOFTMAX (50,
// no options read; LogSoftmaxOptions written, version 2 for int8), ONNX LogSoftmax. float32
// and int8 as tflite-micro's log_softmax.cc: beta is 1; the int8 output has scale 16/256 and
// zero point 127 (its Prepare checks both; quantization fixes them); the input multiplier,
// shift, reverse scaling and diff_min as PreprocessLogSoftmaxScalingExp and
// CalculateInputRadius give them (quantization_util.cc, double rounding build). Input scales
// of 2^-26 and below are refused (QuantizeMultiplierGreaterThanOne needs scale * 2^26 > 1).
// Channels do not pass through for pruning.
#include "ops/softmax.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_elementwise.h"
#include "plan/lut_int16.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

// tflite-micro's int16 output scale check: TF_LITE_ENSURE_NEAR(scale, 1/32768, 0.001/32768).
bool is_int16_output_scale(float scale) {
  return std::abs(scale - 1.0f / 32768) <= 0.001f * 1.0f / 32768;
}

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(1, 1);
  const auto* o =
      m.options(m.op().builtin_options_as_SoftmaxOptions(), tfl::BuiltinOptions::SoftmaxOptions);
  if (!o) m.fail("SoftmaxOptions missing; expected beta");
  ir::Node n{OpCode::Softmax, {}, {}, {}, {}};
  const float beta = o->beta();
  if (!std::isfinite(beta) || beta <= 0.0f)
    m.fail(fmt::format("beta is {}; expected a finite value > 0", beta));
  n.params = ops::SoftmaxAttrs{beta};
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  if (in.shape.empty()) m.fail(fmt::format("{} is a scalar; expected rank >= 1", m.in_label(0)));
  m.require_shape(out, m.out_label(), in.shape);
  if (out.type == DType::i16) {
    m.require_int16_zero_points(in, out);
    if (!is_int16_output_scale(out.quant.scale[0]))
      m.fail(fmt::format("{} has scale {}; expected 1/32768", m.out_label(), out.quant.scale[0]));
    return n;
  }
  // TFLite's int8 softmax writes probabilities with scale 1/256 and zero point -128.
  if (out.type == DType::i8 &&
      (out.quant.scale[0] != 1.0f / 256 || out.quant.zero_point[0] != -128))
    m.fail(fmt::format("{} has scale {} and zero point {}; expected 1/256 and -128", m.out_label(),
                       out.quant.scale[0], out.quant.zero_point[0]));
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  tflite_export::refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto options =
      tfl::CreateSoftmaxOptions(b.fbb(), n.params.get_or_default<ops::SoftmaxAttrs>().beta);
  b.add_operator(tfl::BuiltinOperator::SOFTMAX, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::SoftmaxOptions, options.Union());
}

// TFLite's int8 log softmax writes log-probabilities in [-255/16, 0]: scale 16/256, zp 127.
constexpr float kLogSoftmaxOutputScale = 16.0f / 256;
constexpr int32_t kLogSoftmaxOutputZeroPoint = 127;

ir::Node read_log_softmax(OpMapper& m) {
  m.require_arity(1, 1);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/false);
  if (in.shape.empty()) m.fail(fmt::format("{} is a scalar; expected rank >= 1", m.in_label(0)));
  m.require_shape(out, m.out_label(), in.shape);
  if (out.type == DType::i8 && (out.quant.scale[0] != kLogSoftmaxOutputScale ||
                                out.quant.zero_point[0] != kLogSoftmaxOutputZeroPoint))
    m.fail(fmt::format("{} has scale {} and zero point {}; expected 16/256 and 127", m.out_label(),
                       out.quant.scale[0], out.quant.zero_point[0]));
  return ir::Node{OpCode::LogSoftmax, {}, {}, {}, {}};
}

void write_log_softmax(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateLogSoftmaxOptions(b.fbb());
  b.add_operator(tfl::BuiltinOperator::LOG_SOFTMAX, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::LogSoftmaxOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace elementwise_lowering;

namespace {

// Softmax and LogSoftmax work on rows of the last dimension: input and output of one shape,
// rank 1 to 4.
void require_row_shapes(const ir::Graph& g, size_t node, int in, int out) {
  for (int t : {in, out}) require_rank_at_most_4(g, node, t);
  if (g.tensors[in].shape != g.tensors[out].shape || g.tensors[in].shape.empty())
    refuse(g, node,
           fmt::format("input shape {} and output shape {} must be equal and of rank >= 1",
                       shape_str(g.tensors[in].shape), shape_str(g.tensors[out].shape)));
}

// Softmax and LogSoftmax scale the input difference into Q5.26 (quantization_util.cc).
constexpr int kScaledDiffIntegerBits = 5;

// CalculateInputRadius(5, left_shift, 31) negated: the most negative difference from the
// row's maximum whose rescaled value still fits in Q5.26, floored.
int32_t diff_min(int left_shift) {
  const double radius = std::floor(1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                   static_cast<double>(1LL << (31 - kScaledDiffIntegerBits)) /
                                   static_cast<double>(1LL << left_shift));
  return -static_cast<int32_t>(radius);
}

// The int16 params and the two tables (tflite-micro's CalculateSoftmaxParams and
// InitializeLutForInt16, softmax_common.cc): exp on [-10, 0] (input zero point 32767) and
// 1 / (1 + x) on [0, 1] (zero point -32768), both at input scale 1/65535 of their range and
// output scale 2/65535.
void lower_int16(ir::Graph& g, size_t node, float beta, SoftmaxParams& p, LoweredOp& op) {
  const int in = g.nodes[node].inputs[0], out = g.nodes[node].outputs[0];
  require_dtype(g, node, out, DType::i16, "output");
  const TensorQuant qi = per_tensor_quantized(g, node, in, "input");
  const TensorQuant qo = per_tensor_quantized(g, node, out, "output");
  if (qi.zero_point != 0 || qo.zero_point != 0)
    refuse(g, node, "int16 input or output has a zero point; expected 0 (TFLite's 16x8)");
  if (!is_int16_output_scale(qo.scale))
    refuse(g, node, fmt::format("int16 output has scale {}; expected 1/32768", qo.scale));
  const double rescale =
      static_cast<double>(qi.scale) * static_cast<double>(beta) / (10.0 / 65535.0);
  const QuantizedMultiplier m = quantize_multiplier(rescale);
  if (m.shift > 15)
    refuse(g, node,
           fmt::format("beta * input scale = {} is too large for TFLite's int16 softmax (its "
                       "rescaled row differences would overflow int32)",
                       static_cast<double>(beta) * qi.scale));
  p.input_multiplier = m.multiplier;
  p.input_left_shift = m.shift;
  constexpr float kRange = 65535.0f;
  const std::string base = g.tensors[out].name;
  const int exp_table = add_lut_int16(
      g, base + "/exp_table",
      lut_int16([](float v) { return std::exp(v); }, 10.0f / kRange, 32767, 2.0f / kRange));
  const int reciprocal_table = add_lut_int16(
      g, base + "/one_over_one_plus_x_table",
      lut_int16([](float v) { return 1.0f / (1.0f + v); }, 1.0f / kRange, -32768, 2.0f / kRange));
  op.inputs = {in, exp_table, reciprocal_table};
}

}  // namespace

LoweredOp lower_Softmax(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const float beta = n.params.get_or_default<ops::SoftmaxAttrs>().beta;
  const int in = n.inputs[0], out = n.outputs[0];
  require_row_shapes(g, node, in, out);
  SoftmaxParams p{};
  p.beta = beta;
  LoweredOp op;
  op.inputs = {in};
  const DType type = g.tensors[in].type;
  if (type == DType::i16) {
    lower_int16(g, node, beta, p, op);
  } else if (type == DType::f32) {
    require_dtype(g, node, out, DType::f32, "output");
  } else if (type == DType::i8) {
    const TensorQuant qi = per_tensor_int8(g, node, in, "input");
    const TensorQuant qo = per_tensor_int8(g, node, out, "output");
    // softmax_common.cc CalculateSoftmaxParams: int8 output must be scale 1/256, zp -128.
    if (qo.zero_point != -128 || qo.scale != 1.0f / 256)
      refuse(g, node,
             fmt::format("int8 output has scale {} and zero point {}; expected 1/256 and -128",
                         qo.scale, qo.zero_point));
    // quantization_util.cc PreprocessSoftmaxScaling (double rounding build): the input
    // difference is scaled into Q5.26, the real multiplier capped at 2^31 - 1.
    const double real = std::min(static_cast<double>(beta) * static_cast<double>(qi.scale) *
                                     static_cast<double>(1 << (31 - kScaledDiffIntegerBits)),
                                 static_cast<double>((1LL << 31) - 1));
    if (!(real > 1.0))  // QuantizeMultiplierGreaterThanOne's requirement
      refuse(g, node,
             fmt::format("beta * input scale = {} is too small for the int8 reference "
                         "softmax (needs beta * scale * 2^26 > 1)",
                         static_cast<double>(beta) * qi.scale));
    const QuantizedMultiplier m = quantize_multiplier(real);
    p.input_multiplier = m.multiplier;
    p.input_left_shift = m.shift;
    p.diff_min = diff_min(m.shift);
  } else {
    refuse(g, node, fmt::format("input is {}; expected float32, int8 or int16", dtype_name(type)));
  }
  op.params = params_bytes(p);
  return op;
}

LoweredOp lower_LogSoftmax(ir::Graph& g, size_t node) {
  const ir::Node& n = node_with_arity(g, node, 1);
  const int in = n.inputs[0], out = n.outputs[0];
  require_row_shapes(g, node, in, out);
  LogSoftmaxParams p{};
  const DType type = g.tensors[in].type;
  if (type == DType::f32) {
    require_dtype(g, node, out, DType::f32, "output");
  } else if (type == DType::i8) {
    const TensorQuant qi = per_tensor_int8(g, node, in, "input");
    const TensorQuant qo = per_tensor_int8(g, node, out, "output");
    // tflite-micro log_softmax.cc CalculateOpData: output scale 16/256, zero point 127.
    if (qo.zero_point != kLogSoftmaxOutputZeroPoint || qo.scale != kLogSoftmaxOutputScale)
      refuse(g, node,
             fmt::format("int8 output has scale {} and zero point {}; expected 16/256 and 127",
                         qo.scale, qo.zero_point));
    // PreprocessLogSoftmaxScalingExp with beta 1: the input difference scaled into Q5.26 (the
    // real multiplier capped at 2^31 - 1), then the inverse of that multiplier.
    const double real = std::min(
        static_cast<double>(qi.scale) * static_cast<double>(1 << (31 - kScaledDiffIntegerBits)),
        static_cast<double>((1LL << 31) - 1));
    if (!(real > 1.0))  // QuantizeMultiplierGreaterThanOne's requirement
      refuse(g, node,
             fmt::format("input scale {} is too small for TFLite's int8 log softmax (needs "
                         "scale * 2^26 > 1)",
                         qi.scale));
    const QuantizedMultiplier m = quantize_multiplier(real);
    const QuantizedMultiplier reverse = quantize_multiplier(
        static_cast<double>(1LL << (31 - m.shift)) / static_cast<double>(m.multiplier));
    if (reverse.shift > 0)  // QuantizeMultiplierSmallerThanOneExp's requirement
      refuse(g, node,
             fmt::format("input scale {} rounds to an input multiplier of 1, which TFLite's "
                         "int8 log softmax cannot invert",
                         qi.scale));
    p.input_multiplier = m.multiplier;
    p.input_left_shift = m.shift;
    p.reverse_scaling_divisor = reverse.multiplier;
    p.reverse_scaling_left_shift = reverse.shift;
    p.diff_min = diff_min(m.shift);
  } else {
    refuse(g, node, fmt::format("input is {}; expected float32 or int8", dtype_name(type)));
  }
  LoweredOp op;
  op.inputs = {in};
  op.params = params_bytes(p);
  return op;
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// Softmax or LogSoftmax (`op`, its IR params `a`) along ONNX's `axis`: before opset 13 over
// the flattened dims [axis, rank).
void convert_along_axis(Context& ctx, OpCode op, const ir::Params& a) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) ctx.fail("scalar input");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", ctx.opset >= 13 ? -1 : 1), rank);
  const std::string name = ctx.node->output(0);
  if (x.is_constant()) ctx.unsupported(ctx.node->op_type() + " of a constant");
  const std::string inner_name = op == OpCode::Softmax ? "/softmax" : "/log_softmax";
  Value out;
  out.shape = x.shape;
  if (axis == 1 && ctx.prefers_nhwc(x) &&
      (ctx.opset >= 13 || elements_of(x.shape) == x.shape[0] * x.shape[1])) {
    out.nhwc = ctx.emit(op, {x.nhwc}, ctx.shape_of(x.nhwc), a, name);  // channels are last
  } else if (axis == rank - 1) {
    const int t = ctx.as_onnx(x, ctx.node->input(0));
    out.onnx = ctx.emit(op, {t}, ctx.shape_of(t), a, name);
  } else if (ctx.opset < 13) {  // softmax over the flattened dims [axis, rank)
    int64_t inner = 1;
    for (int64_t d = axis; d < rank; ++d) inner *= x.shape[d];
    const int t = ctx.reshape(ctx.as_onnx(x, ctx.node->input(0)),
                              ctx.ir_shape({elements_of(x.shape) / inner, inner}), name + "/2d");
    const int s = ctx.emit(op, {t}, ctx.shape_of(t), a, name + inner_name);
    out.onnx = ctx.reshape(s, ctx.ir_shape(x.shape), name);
  } else {  // move the axis last, softmax, move it back
    std::vector<int32_t> perm, inverse(static_cast<size_t>(rank));
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) perm.push_back(static_cast<int32_t>(d));
    perm.push_back(static_cast<int32_t>(axis));
    for (int64_t d = 0; d < rank; ++d) inverse[perm[d]] = static_cast<int32_t>(d);
    const int t = ctx.transpose(ctx.as_onnx(x, ctx.node->input(0)), perm, name + "/axis_last");
    const int s = ctx.emit(op, {t}, ctx.shape_of(t), a, name + inner_name);
    out.onnx = ctx.transpose(s, inverse, name);
  }
  ctx.set_output(0, std::move(out));
}

void convert_Softmax(Context& ctx) {
  convert_along_axis(ctx, OpCode::Softmax, ops::SoftmaxAttrs{});
}

// LogSoftmax (ONNX spec: log(softmax(x)) along `axis`) is the op itself: its int8 form is
// TFLite's, where a composition of exp, sum and log would quantize each step on its own.
void convert_LogSoftmax(Context& ctx) { convert_along_axis(ctx, OpCode::LogSoftmax, {}); }

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

void describe(const ir::Node& n, nlohmann::json& out) {
  out["beta"] = n.params.get_or_default<SoftmaxAttrs>().beta;
}

}  // namespace

const HostOp& host_op_Softmax() {
  // int8 probabilities as TFLite writes them: scale 1/256, zero point -128.
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::fixed, 1.0f / 256, -128, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::SOFTMAX), "SOFTMAX", read_tflite}},
      {{"Softmax", onnx_import::convert_Softmax, 1}},
      write_tflite,
      /*fused_activation=*/nullptr,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe};
  return op;
}

const HostOp& host_op_LogSoftmax() {
  // int8 log-probabilities as TFLite writes them: scale 16/256, zero point 127.
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::fixed, kLogSoftmaxOutputScale, kLogSoftmaxOutputZeroPoint, -1,
                   false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::LOG_SOFTMAX), "LOG_SOFTMAX", read_log_softmax}},
      {{"LogSoftmax", onnx_import::convert_LogSoftmax, 1}},
      write_log_softmax};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
