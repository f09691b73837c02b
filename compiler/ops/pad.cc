// Pad: everything the compiler knows about it, in one file.
//
// Semantics: TFLite PAD / PADV2 (a constant border before and after each dim), rank <= 4;
// ONNX Pad in constant mode maps to it (reflect and edge modes to MirrorPad, mirror_pad.cc).
// Invariants: paddings are constant and >= 0, the output shape is the padded input shape; int8
// (or int16, TFLite's 16x8 scheme) input and output share one scale and zero point, and the
// border is round(value / s_out) + zp (0.0 pads with the zero point), which must fit the type.
// Quantization keeps the input's parameters; channels pass through for pruning unless the channel
// dim is padded. TFLite: builtins PAD (34) and PADV2 (60, border value as a one-element operand of
// the input's type), paddings an int32 [rank, 2] operand, version 2 for int8.
#include "ops/pad.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "ops/mirror_pad.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::constant_ints;
using tflite_import::kMaxWindow;
using tflite_import::OpMapper;

// PAD (border 0, the zero point for int8) and PADV2 (border from a one-element tensor).
ir::Node map_pad(OpMapper& m, bool v2) {
  m.require_arity(2, v2 ? 3 : 2);
  ir::Node n{OpCode::Pad, {}, {}, {}, {}};
  ops::PadAttrs a;
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  m.require_same_quant(in, m.in_label(0), out, m.out_label());
  const size_t rank = in.shape.size();
  const std::vector<int32_t> pairs = constant_ints(m, 1, 2 * static_cast<int64_t>(rank));
  std::vector<int32_t> expected(rank);
  a.pads.resize(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t before = pairs[2 * d], after = pairs[2 * d + 1];
    if (before < 0 || after < 0 || before > kMaxWindow || after > kMaxWindow)
      m.fail(fmt::format("paddings of dimension {} are ({}, {}); expected 0..{}", d, before, after,
                         kMaxWindow));
    a.pads[d] = before;
    a.pads[rank + d] = after;
    const int64_t padded = int64_t{in.shape[d]} + before + after;
    if (padded > INT32_MAX) m.fail(fmt::format("padded dimension {} is {}; too large", d, padded));
    expected[d] = static_cast<int32_t>(padded);
  }
  m.require_shape(out, m.out_label(), expected);
  if (m.input_index(2, /*optional=*/true) >= 0) {
    const ir::Tensor& value = m.input(2);
    if (!value.constant || value.elements() != 1)
      m.fail(fmt::format("{} has {} elements{}; expected one constant value", m.in_label(2),
                         value.elements(), value.constant ? "" : " and is not constant"));
    m.require_type(value, m.in_label(2), in.type);
    if (in.type != DType::f32) {
      // The border is stored in the input's quantization; real = s * (q - zp).
      const int32_t q = in.type == DType::i8 ? value.at<int8_t>(0) : value.at<int16_t>(0);
      a.value = in.quant.scale[0] * static_cast<float>(q - in.quant.zero_point[0]);
    } else {
      a.value = value.at<float>(0);
    }
  }
  n.params = std::move(a);
  n.inputs = {m.input_index(0)};  // the paddings and border value become attributes
  return n;
}

ir::Node read_pad(OpMapper& m) { return map_pad(m, /*v2=*/false); }
ir::Node read_padv2(OpMapper& m) { return map_pad(m, /*v2=*/true); }

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  using Builtin = tfl::BuiltinOperator;
  using Options = tfl::BuiltinOptions;
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::PadAttrs>();
  const ir::Tensor& in = in_tensor(b, node, 0);
  const ir::Tensor& out = out_tensor(b, node);
  const size_t rank = in.shape.size();
  if (a.pads.size() != 2 * rank)
    refuse(b, node, fmt::format("pads has {} entries; expected {}", a.pads.size(), 2 * rank));
  std::vector<int32_t> paddings;  // [rank, 2]: (before, after) per dimension
  for (size_t d = 0; d < rank; ++d) {
    paddings.push_back(a.pads[d]);
    paddings.push_back(a.pads[rank + d]);
  }
  const int32_t pads =
      b.constant_i32(out.name + "/paddings", {static_cast<int32_t>(rank), 2}, paddings);
  refuse_int16x8(b, node);
  const int32_t version = is_int8(b, node) ? 2 : 1;
  if (a.value == 0.0f) {
    b.add_operator(Builtin::PAD, version, {b.tensor(n.inputs[0]), pads}, io_of(b, n.outputs),
                   Options::PadOptions, tfl::CreatePadOptions(b.fbb()).Union());
    return;
  }
  // PADV2: the border value is a one-element tensor of the input's type and quantization.
  ir::Tensor value;
  value.name = out.name + "/pad_value";
  value.type = in.type;
  value.shape = {1};
  value.constant = true;
  value.quant = in.quant;
  if (in.type == DType::i8) {
    const float q = std::round(a.value / in.quant.scale.at(0)) +
                    static_cast<float>(in.quant.zero_point.empty() ? 0 : in.quant.zero_point[0]);
    value.data = {static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f)))};
  } else if (in.type == DType::f32) {
    value.data.resize(4);
    std::memcpy(value.data.data(), &a.value, 4);
  } else {
    refuse(b, node, fmt::format("a non-zero pad value on {} data", dtype_name(in.type)));
  }
  b.add_operator(Builtin::PADV2, version, {b.tensor(n.inputs[0]), pads, b.constant(value)},
                 io_of(b, n.outputs), Options::PadV2Options,
                 tfl::CreatePadV2Options(b.fbb()).Union());
}

}  // namespace

namespace plan {

using lowering::checked;
using lowering::lowered;
using lowering::Q;
using lowering::refuse;
using lowering::same_quantization;

LoweredOp lower_Pad(ir::Graph& g, size_t node) {
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  const auto& in = g.tensors[n.inputs[0]].shape;
  const auto& out = g.tensors[n.outputs[0]].shape;
  const auto& a = n.params.get<ops::PadAttrs>();
  const size_t rank = in.size();
  if (a.pads.size() != 2 * rank || out.size() != rank)
    refuse(g, node, fmt::format("pads has {} entries; expected {}", a.pads.size(), 2 * rank));
  PadParams p{};
  for (size_t i = 0; i < rank; ++i) {
    p.before[i] = a.pads[i];
    p.after[i] = a.pads[rank + i];
    if (p.before[i] < 0 || p.after[i] < 0) refuse(g, node, "negative pads");
    if (int64_t{in[i]} + p.before[i] + p.after[i] != out[i])
      refuse(g, node, "output shape is not the padded input shape");
  }
  p.f_value = a.value;
  const DType type = g.tensors[n.outputs[0]].type;
  if (type != DType::f32) {
    const Q qo = same_quantization(g, node, "input");
    const ClampRange range = activation_range(ir::Activation::none, qo.scale, 0, type);
    const double q = std::round(static_cast<double>(a.value) / qo.scale) + qo.zero_point;
    if (q < range.min || q > range.max)
      refuse(g, node,
             fmt::format("pad value {} is outside the {} range", a.value, dtype_name(type)));
    p.q_value = static_cast<int32_t>(q);
  }
  return lowered(p, {n.inputs[0]});
}

}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

void convert_Pad(Context& ctx) {
  Value& x = ctx.input(0);
  const size_t rank = x.shape.size();
  const std::string mode = ctx.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    ctx.unsupported(fmt::format("mode '{}' (only 'constant', 'reflect' and 'edge')", mode));
  std::vector<int64_t> pads;
  float value = 0.0f;
  if (ctx.opset < 11) {
    pads = ctx.attr_ints("pads");
    value = ctx.attr_float("value", 0.0f);
  } else {
    pads = ctx.ints_input(1, "pads");
    if (ctx.has_input(2)) {
      const Constant& c = ctx.constant_input(2, "constant_value");
      if (c.elements() != 1) ctx.fail("constant_value must be a scalar");
      value = c.is_float ? c.f[0] : static_cast<float>(c.i[0]);
    }
    if (ctx.has_input(3)) ctx.unsupported("the axes input");
  }
  if (pads.size() != 2 * rank)
    ctx.fail(fmt::format("pads has {} values; expected {}", pads.size(), 2 * rank));
  for (int64_t p : pads) {
    if (p < 0) ctx.unsupported("negative pads (cropping)");
    if (p > kMaxDim) ctx.fail(fmt::format("pad {} out of range", p));
  }
  if (x.is_constant()) ctx.unsupported("Pad of a constant");
  Value out;
  out.shape = x.shape;
  for (size_t d = 0; d < rank; ++d) out.shape[d] += pads[d] + pads[rank + d];
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }))
    return ctx.set_output(0, x);
  ops::PadAttrs a;
  a.value = value;
  if (mode != "constant" && value != 0.0f) ctx.fail("a constant value outside constant mode");
  const bool nhwc = ctx.prefers_nhwc(x);
  const std::vector<int32_t> to_last = to_channels_last(rank);
  a.pads.resize(2 * rank);
  for (size_t d = 0; d < rank; ++d) {
    const size_t src = nhwc ? static_cast<size_t>(to_last[d]) : d;
    a.pads[d] = static_cast<int32_t>(pads[src]);
    a.pads[rank + d] = static_cast<int32_t>(pads[rank + src]);
  }
  const int t = nhwc ? x.nhwc : ctx.as_onnx(x, ctx.node->input(0));
  std::vector<int32_t> shape = ctx.shape_of(t);
  for (size_t d = 0; d < rank; ++d) shape[d] += a.pads[d] + a.pads[rank + d];
  ctx.ir_shape(out.shape);
  ir::Params params = a;
  OpCode op = OpCode::Pad;
  if (mode != "constant") {  // reflect and edge repeat the input's values: MirrorPad
    const ops::MirrorPadAttrs m{mode == "edge" ? MirrorPadMode::edge : MirrorPadMode::reflect,
                                a.pads};
    const std::string why = ops::mirror_pad_problem(m.mode, ctx.shape_of(t), m.pads);
    if (!why.empty()) ctx.unsupported(why);
    params = m;
    op = OpCode::MirrorPad;
  }
  (nhwc ? out.nhwc : out.onnx) = ctx.emit(op, {t}, shape, params, ctx.node->output(0));
  ctx.set_output(0, std::move(out));
}

}  // namespace
}  // namespace onnx_import

namespace ops {
namespace {

const char* pads_channels(const ir::Node& n) {
  const auto& pads = n.params.get<PadAttrs>().pads;
  const size_t rank = pads.size() / 2;
  return rank == 0 || pads[rank - 1] != 0 || pads[2 * rank - 1] != 0 ? "pads the channels"
                                                                     : nullptr;
}

}  // namespace

const HostOp& host_op_Pad() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::pad},
      {{static_cast<int32_t>(tfl::BuiltinOperator::PAD), "PAD", read_pad},
       {static_cast<int32_t>(tfl::BuiltinOperator::PADV2), "PADV2", read_padv2}},
      {{"Pad", onnx_import::convert_Pad, 2}},
      write_tflite,
      /*fused_activation=*/nullptr,
      /*copies_input=*/nullptr,
      pads_channels};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
