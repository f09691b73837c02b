// Mean, Sum and ReduceMax: everything the compiler knows about them, in one file.
//
// Semantics: TFLite MEAN, SUM and REDUCE_MAX over a constant list of axes, keep_dims or not,
// rank <= 4; ONNX ReduceMean and ReduceMax map to Mean and ReduceMax. ReduceMax compares
// stored values: int8 (or int16, TFLite's 16x8 scheme) input and output share one scale and
// zero point (TFLM's
// EvalMaxHelper requires it; checked at import and lowering; the quantizer gives the output
// the input's parameters). Lowering picks the path
// TFLite Micro's reduce kernel takes (tensorflow/lite/micro/kernels/reduce_common.cc) and
// computes its constants as TFLM's Prepare does (PrepareMeanOrSumHelper:
// QuantizeMultiplier(double(s_in) / double(s_out)); QuantizedMeanOrSum's float scale and
// bias), see runtime/kernels/reference/reduce.cc:
// - int8 Mean with keep_dims, a 4-D input and the axis list exactly {1, 2} or {2, 1}:
//   ReduceMode::mean_spatial;
// - int8 Mean with input and output quantized alike: ReduceMode::mean_same_quant;
// - any other int8 Mean, and every int8 Sum: ReduceMode::requantize;
// - int16 Mean and Sum (TFLite's 16x8 scheme): the same three paths (TFLM's EvalMeanHelper
//   and EvalSumHelper take them for int16 too).
// Invariants, checked at import and lowering: at least one axis, each in [-rank, rank); the
// output shape is the reduced one; the reduced element count is at most 2^23 (int16: 2^16,
// zero points 0); for mean_spatial, s_in / s_out < 128. Quantized from the calibrated output range;
// channels do not pass through for pruning. TFLite: MEAN (40), SUM (74) and REDUCE_MAX (82), axis
// an int32 operand, ReducerOptions, version 2 for int8.
#include "ops/reduce.h"

#include <fmt/format.h>

#include <algorithm>

#include "export/tflite_builder.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/quant_math.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;

constexpr int64_t kMaxCount = int64_t{1} << 23;
constexpr int64_t kMaxInt16Count = int64_t{1} << 16;  // int16 values per int32 sum

// Bit d set for each reduced dim d, or an error message.
struct Resolved {
  int32_t mask = 0;
  std::string problem;
};

Resolved resolve(const std::vector<int32_t>& axes, size_t rank) {
  Resolved r;
  if (axes.empty()) r.problem = "has no axes; expected at least one";
  for (int32_t a : axes) {
    const int64_t d = a < 0 ? a + static_cast<int64_t>(rank) : a;
    if (d < 0 || d >= static_cast<int64_t>(rank) || rank > kMaxRank) {
      r.problem = fmt::format("axis {} is outside [-{}, {}) (rank <= 4)", a, rank, rank);
      return r;
    }
    r.mask |= 1 << d;
  }
  return r;
}

std::vector<int32_t> reduced_shape(const std::vector<int32_t>& in, int32_t mask, bool keep) {
  std::vector<int32_t> out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!(mask & (1 << d)))
      out.push_back(in[d]);
    else if (keep)
      out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const std::vector<int32_t>& in, int32_t mask) {
  int64_t n = 1;
  for (size_t d = 0; d < in.size(); ++d)
    if (mask & (1 << d)) n *= in[d];
  return n;
}

// Empty when the kernel can run it, else what is wrong.
std::string problem(const ops::ReduceOptions& o, const ir::Tensor& in, const ir::Tensor& out) {
  const Resolved r = resolve(o.axes, in.shape.size());
  if (!r.problem.empty()) return r.problem;
  const std::vector<int32_t> expected = reduced_shape(in.shape, r.mask, o.keep_dims);
  if (out.shape != expected)
    return fmt::format("output has shape {}; expected {}", tflite_import::shape_string(out.shape),
                       tflite_import::shape_string(expected));
  const bool int16 = in.type == DType::i16;
  if (reduced_count(in.shape, r.mask) > (int16 ? kMaxInt16Count : kMaxCount))
    return fmt::format("reduces {} elements per output; expected at most {}",
                       reduced_count(in.shape, r.mask), int16 ? "2^16 (int16)" : "2^23");
  const auto nonzero = [](const ir::Tensor& t) {
    return !t.quant.zero_point.empty() && t.quant.zero_point[0] != 0;
  };
  if (int16 && (nonzero(in) || nonzero(out)))
    return "int16 input and output need zero point 0 (TFLite's 16x8 scheme)";
  return {};
}

bool spatial_case(const ops::ReduceOptions& o, size_t rank) {
  return o.keep_dims && rank == 4 && o.axes.size() == 2 &&
         ((o.axes[0] == 1 && o.axes[1] == 2) || (o.axes[0] == 2 && o.axes[1] == 1));
}

// --- TFLite import and export ---------------------------------------------------------

template <OpCode Op>
ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 2);
  const auto* o =
      m.options(m.op().builtin_options_as_ReducerOptions(), tfl::BuiltinOptions::ReducerOptions);
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out, /*int16=*/true);
  const ir::Tensor& axis = m.input(1);
  const ops::ReduceOptions params{tflite_import::constant_ints(m, 1, axis.elements()),
                                  o && o->keep_dims()};
  const std::string why = problem(params, in, out);
  if (!why.empty()) m.fail(why);
  if (Op == OpCode::ReduceMax) m.require_same_quant(in, m.in_label(0), out, m.out_label());
  if (Op == OpCode::Mean && in.type != DType::f32 && spatial_case(params, in.shape.size()) &&
      !(static_cast<double>(in.quant.scale[0]) / out.quant.scale[0] < 128.0))
    m.fail(fmt::format("input scale / output scale is 128 or more; expected less for the {} mean",
                       dtype_name(in.type)));
  ir::Node n{Op, {m.input_index(0)}, {}, {}, {}};  // the axis operand lives in the params
  n.params = params;
  return n;
}

template <tfl::BuiltinOperator Builtin>
void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  refuse_int16x8(b, node);
  const ir::Node& n = b.graph().nodes[node];
  const auto& o = n.params.get<ops::ReduceOptions>();
  const int32_t axis = b.constant_i32(out_tensor(b, node).name + "/axis",
                                      {static_cast<int32_t>(o.axes.size())}, o.axes);
  b.add_operator(Builtin, is_int8(b, node) ? 2 : 1, {b.tensor(n.inputs[0]), axis},
                 io_of(b, n.outputs), tfl::BuiltinOptions::ReducerOptions,
                 tfl::CreateReducerOptions(b.fbb(), o.keep_dims).Union());
}

// --- lowering -------------------------------------------------------------------------

plan::LoweredOp lower(ir::Graph& g, size_t node, OpCode op) {
  using namespace plan::lowering;
  const ir::Node& n = checked(g, node, 1, 1, 1, /*int16=*/true);
  const auto& o = n.params.get<ops::ReduceOptions>();
  const ir::Tensor& in = g.tensors[n.inputs[0]];
  const ir::Tensor& out = g.tensors[n.outputs[0]];
  const std::string why = problem(o, in, out);
  if (!why.empty()) refuse(g, node, why);
  ReduceParams p{};
  p.axes_mask = resolve(o.axes, in.shape.size()).mask;
  p.mode = static_cast<int32_t>(ReduceMode::float_values);
  if (out.type == DType::f32) return lowered(p, {n.inputs[0]});
  const bool mean = op == OpCode::Mean;
  const Q qi = per_tensor(g, node, n.inputs[0], "input"),
          qo = per_tensor(g, node, n.outputs[0], "output");
  p.input_zero_point = qi.zero_point;
  p.output_zero_point = qo.zero_point;
  if (op == OpCode::ReduceMax) {
    same_quantization(g, node, "input");
    return lowered(p, {n.inputs[0]});
  }
  const float scale = qi.scale / qo.scale;  // float, as QuantizedMeanOrSum
  if (mean && spatial_case(o, in.shape.size())) {
    const plan::QuantizedMultiplier m =
        plan::quantize_multiplier(static_cast<double>(qi.scale) / static_cast<double>(qo.scale));
    if (m.shift > 7) refuse(g, node, "input scale / output scale is 128 or more");
    p.mode = static_cast<int32_t>(ReduceMode::mean_spatial);
    p.multiplier = m.multiplier;
    p.shift = m.shift;
  } else if (mean && qi.zero_point == qo.zero_point && qi.scale == qo.scale) {
    p.mode = static_cast<int32_t>(ReduceMode::mean_same_quant);
  } else {
    p.mode = static_cast<int32_t>(ReduceMode::requantize);
    p.scale = scale;
    const float minus_zp = static_cast<float>(-qi.zero_point);
    if (mean) {
      p.bias = minus_zp * scale + 0.5f;
    } else {
      const float count = static_cast<float>(reduced_count(in.shape, p.axes_mask));
      p.bias = minus_zp * scale * count + 0.5f;
    }
  }
  return lowered(p, {n.inputs[0]});
}

constexpr ir::OpTraits kTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false,
                               ir::ChannelRule::blocks};

}  // namespace

namespace plan {
LoweredOp lower_Mean(ir::Graph& g, size_t node) { return lower(g, node, OpCode::Mean); }
LoweredOp lower_Sum(ir::Graph& g, size_t node) { return lower(g, node, OpCode::Sum); }
LoweredOp lower_ReduceMax(ir::Graph& g, size_t node) { return lower(g, node, OpCode::ReduceMax); }
}  // namespace plan

// ONNX import: the ONNX op types that become this op.
namespace onnx_import {
namespace {

// `op` over the attribute `axes` (default all) in ONNX layout.
void convert_reduce(Context& ctx, OpCode op) {
  Value& x = ctx.input(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) ctx.fail("scalar input");
  if (x.is_constant()) ctx.unsupported("a reduction of a constant");
  std::vector<int64_t> axes = ctx.attr_ints("axes");
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  const bool keep = ctx.attr_int("keepdims", 1) != 0;
  ops::ReduceOptions o;
  o.keep_dims = keep;
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    const int64_t d = normalize_axis(ctx, a, rank);
    reduced[static_cast<size_t>(d)] = true;
    o.axes.push_back(static_cast<int32_t>(d));
  }
  Value out;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[static_cast<size_t>(d)])
      out.shape.push_back(x.shape[d]);
    else if (keep)
      out.shape.push_back(1);
  }
  if (out.shape.empty()) ctx.unsupported("a scalar result (keepdims = 0 over every axis)");
  const std::string name = ctx.node->output(0);
  const int t = ctx.as_onnx(x, ctx.node->input(0));
  out.onnx = ctx.emit(op, {t}, ctx.ir_shape(out.shape), o, name);
  ctx.set_output(0, std::move(out));
}

void convert_ReduceMean(Context& ctx) { convert_reduce(ctx, OpCode::Mean); }
void convert_ReduceMax(Context& ctx) { convert_reduce(ctx, OpCode::ReduceMax); }

}  // namespace
}  // namespace onnx_import

namespace ops {

const HostOp& host_op_Mean() {
  static const HostOp op{
      kTraits,
      {{static_cast<int32_t>(tfl::BuiltinOperator::MEAN), "MEAN", read_tflite<OpCode::Mean>}},
      {{"ReduceMean", onnx_import::convert_ReduceMean, 1}},
      write_tflite<tfl::BuiltinOperator::MEAN>};
  return op;
}

const HostOp& host_op_Sum() {
  static const HostOp op{
      kTraits,
      {{static_cast<int32_t>(tfl::BuiltinOperator::SUM), "SUM", read_tflite<OpCode::Sum>}},
      {},
      write_tflite<tfl::BuiltinOperator::SUM>};
  return op;
}

const HostOp& host_op_ReduceMax() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::same_as_input, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::REDUCE_MAX), "REDUCE_MAX",
        read_tflite<OpCode::ReduceMax>}},
      {{"ReduceMax", onnx_import::convert_ReduceMax, 1}},
      write_tflite<tfl::BuiltinOperator::REDUCE_MAX>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
