// Svdf: everything the compiler knows about it, in one file.
//
// Semantics: TFLite SVDF (builtin 27; inputs input [B,IN], weights_feature [F,IN],
// weights_time [F,M], optional bias [F/rank], activation state [B,F*M], a variable tensor;
// options rank and fused activation), run by TFLM's kernel (micro/kernels/svdf_common.cc):
// every invocation shifts the state by one frame, writes the feature matmul into the newest
// frame and sums the time-weighted memory of `rank` filters per output unit. The state is a
// Storage::state tensor of the plan: zero at init, kept between invocations
// (docs/plan-format.md). Invariants the reader checks: the shapes above, the state a
// variable tensor without initial value, float32 throughout or TFLM's int8 form (int8 input,
// weights_feature and output; int16 weights_time and state; int32 bias), weights and state
// symmetric per tensor, the bias scale state x weights_time (TFLM's PrepareSvdf). Refused by
// name: the hybrid form (float input, int8 weights) and int8 state. `tinyforge quantize`
// makes the int8 form from a float SVDF (compiler/quantize/quantize_graph.cc). TFLite versions
// (tensorflow/lite/tools/versioning/op_version.cc): 3 for int8, else 1.
#include "ops/svdf.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "export/tflite_builder.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_checks.h"
#include "plan/lower_conv.h"
#include "plan/quant_math.h"

namespace tinyforge {

namespace ops {

std::string svdf_shape_error(const SvdfTensors& t, int rank) {
  const auto& in = t.input->shape;
  const auto& wf = t.weights_feature->shape;
  const auto& wt = t.weights_time->shape;
  const auto& state = t.state->shape;
  const auto& out = t.output->shape;
  if (rank < 1) return fmt::format("rank {}; expected >= 1", rank);
  if (in.size() != 2 || wf.size() != 2 || wt.size() != 2 || state.size() != 2 || out.size() != 2)
    return "input, weights, state and output must be matrices (rank 2)";
  const int64_t filters = wf[0], memory = wt[1];
  if (wf[1] != in[1] || wt[0] != filters || filters % rank != 0)
    return fmt::format(
        "weights_feature [{},{}] and weights_time [{},{}] for input [{},{}] and rank {}; "
        "expected [F,{}] and [F,M] with F a multiple of the rank",
        wf[0], wf[1], wt[0], wt[1], in[0], in[1], rank, in[1]);
  const int64_t units = filters / rank;
  if (state[0] != in[0] || state[1] != filters * memory)
    return fmt::format("state [{},{}]; expected [{},{}] (batch, filters x memory)", state[0],
                       state[1], in[0], filters * memory);
  if (out[0] != in[0] || out[1] != units)
    return fmt::format("output [{},{}]; expected [{},{}]", out[0], out[1], in[0], units);
  if (t.bias && t.bias->elements() != units)
    return fmt::format("bias of {} elements; expected {}", t.bias->elements(), units);
  return "";
}

}  // namespace ops

namespace {

using tflite_import::OpMapper;

constexpr size_t kInput = 0, kWeightsFeature = 1, kWeightsTime = 2, kBias = 3, kState = 4;

// The dtypes of the float form and of TFLM's integer form, by input position.
constexpr DType kFloatTypes[] = {DType::f32, DType::f32, DType::f32, DType::f32, DType::f32};
constexpr DType kInt8Types[] = {DType::i8, DType::i8, DType::i16, DType::i32, DType::i16};

ir::Node read_svdf(OpMapper& m) {
  m.require_arity(5, 5);
  const auto* o =
      m.options(m.op().builtin_options_as_SVDFOptions(), tfl::BuiltinOptions::SVDFOptions);
  if (!o) m.fail("SVDFOptions missing; expected the rank");
  const ir::Tensor& in = m.input(kInput);
  if (in.type == DType::f32 && m.input(kWeightsFeature).type == DType::i8)
    m.unsupported(
        "the hybrid form (float input, int8 weights) is not supported; use float32 "
        "or the fully int8 model");
  if (in.type == DType::i8 && m.input(kState).type == DType::i8)
    m.unsupported("an int8 activation state is not supported; expected TFLM's int16 state");
  m.require_activation_types(in, m.output());
  const DType* types = in.type == DType::i8 ? kInt8Types : kFloatTypes;
  for (size_t k = kWeightsFeature; k <= kState; ++k)
    if (k != kBias || m.input_index(kBias, true) >= 0)
      m.require_type(m.input(k), m.in_label(k), types[k]);
  const ir::Tensor& state = m.input(kState);
  if (!state.variable)
    m.fail(
        fmt::format("{} is the activation state; expected a variable tensor", m.in_label(kState)));
  const int bias = m.input_index(kBias, true);
  if (in.type == DType::i8 && bias >= 0) {
    // PrepareSvdf: the bias is in units of state x time weights (TFLM allows 1e-5 off).
    const auto scale = [&](size_t k) {
      const ir::Quant& q = m.input(k).quant;
      return q.scale.size() == 1 ? static_cast<double>(q.scale[0]) : -1.0;
    };
    if (std::abs(scale(kBias) - scale(kState) * scale(kWeightsTime)) >= 1e-5)
      m.fail(fmt::format("{} has scale {}; expected state x time weights scale {}",
                         m.in_label(kBias), scale(kBias), scale(kState) * scale(kWeightsTime)));
  }
  ops::SvdfAttrs a;
  a.rank = o->rank();
  a.activation = m.activation(o->fused_activation_function());
  const std::string shapes =
      ops::svdf_shape_error({&in, &m.input(kWeightsFeature), &m.input(kWeightsTime),
                             bias >= 0 ? &m.input(kBias) : nullptr, &state, &m.output()},
                            a.rank);
  if (!shapes.empty()) m.fail(shapes);
  ir::Node n{OpCode::Svdf, {}, {}, {}, {}};
  n.params = a;
  n.inputs = {m.input_index(kInput), m.input_index(kWeightsFeature), m.input_index(kWeightsTime),
              bias, m.input_index(kState)};
  return n;
}

void write_svdf(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto& a = n.params.get<ops::SvdfAttrs>();
  const auto options = tfl::CreateSVDFOptions(b.fbb(), a.rank, activation(a.activation), false);
  b.add_operator(tfl::BuiltinOperator::SVDF, is_int8(b, node) ? 3 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), tfl::BuiltinOptions::SVDFOptions, options.Union());
}

void describe(const ir::Node& n, nlohmann::json& out) {
  out["rank"] = n.params.get<ops::SvdfAttrs>().rank;
}

}  // namespace

namespace plan {

using lowering::refuse;

LoweredOp lower_Svdf(ir::Graph& g, size_t node) {
  const ir::Node& n = g.nodes.at(node);
  if (n.inputs.size() != 5 || n.outputs.size() != 1)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected 5 and 1", n.inputs.size(),
                       n.outputs.size()));
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if ((n.inputs[k] < 0 && k != kBias) || n.inputs[k] >= static_cast<int>(g.tensors.size()))
      refuse(g, node, fmt::format("input {} is missing or out of range", k));
  const auto& a = n.params.get<ops::SvdfAttrs>();
  const auto tensor = [&](size_t k) { return &g.tensors[static_cast<size_t>(n.inputs[k])]; };
  const ir::Tensor& out = g.tensors.at(static_cast<size_t>(n.outputs[0]));
  const std::string shapes =
      ops::svdf_shape_error({tensor(kInput), tensor(kWeightsFeature), tensor(kWeightsTime),
                             n.inputs[kBias] >= 0 ? tensor(kBias) : nullptr, tensor(kState), &out},
                            a.rank);
  if (!shapes.empty()) refuse(g, node, shapes);
  const bool is_int8 = out.type == DType::i8;
  if (out.type != DType::f32 && !is_int8)
    refuse(g, node, fmt::format("output is {}; expected float32 or int8", dtype_name(out.type)));
  const DType* types = is_int8 ? kInt8Types : kFloatTypes;
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if (n.inputs[k] >= 0 && tensor(k)->type != types[k])
      refuse(g, node,
             fmt::format("input {} ('{}') is {}; the {} kernel takes {}", k, tensor(k)->name,
                         dtype_name(tensor(k)->type), dtype_name(out.type), dtype_name(types[k])));
  SvdfParams p{};
  p.rank = a.rank;
  const FloatRange f = conv_lowering::float_clamp(a.activation);
  p.f_act_min = f.min;
  p.f_act_max = f.max;
  p.act_min = -128;
  p.act_max = 127;
  if (is_int8) {
    const lowering::Q in = lowering::per_tensor(g, node, n.inputs[kInput], "input");
    const lowering::Q wf = lowering::per_tensor(g, node, n.inputs[kWeightsFeature], "weights");
    const lowering::Q wt = lowering::per_tensor(g, node, n.inputs[kWeightsTime], "time weights");
    const lowering::Q state = lowering::per_tensor(g, node, n.inputs[kState], "state");
    const lowering::Q o = lowering::per_tensor(g, node, n.outputs[0], "output");
    if (wf.zero_point != 0 || wt.zero_point != 0 || state.zero_point != 0)
      refuse(g, node, "weights, time weights and state need zero point 0 (symmetric)");
    // TFLM's PrepareSvdf forms both effective scales in float, then widens to double.
    const float feature_scale = in.scale * wf.scale / state.scale;
    const float output_scale = state.scale * wt.scale / o.scale;
    const QuantizedMultiplier m1 = quantize_multiplier(static_cast<double>(feature_scale));
    const QuantizedMultiplier m2 = quantize_multiplier(static_cast<double>(output_scale));
    p.feature_multiplier = m1.multiplier;
    p.feature_shift = m1.shift;
    p.output_multiplier = m2.multiplier;
    p.output_shift = m2.shift;
    p.input_offset = -in.zero_point;
    p.output_offset = o.zero_point;
    const ClampRange r = activation_range_int8(a.activation, o.scale, o.zero_point);
    p.act_min = r.min;
    p.act_max = r.max;
  }
  return lowering::lowered(p, n.inputs);
}

}  // namespace plan

namespace ops {

const HostOp& host_op_Svdf() {
  static const HostOp op{
      ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, -1, false, ir::ChannelRule::blocks},
      {{static_cast<int32_t>(tfl::BuiltinOperator::SVDF), "SVDF", read_svdf}},
      {},
      write_svdf,
      activation_field<SvdfAttrs>,
      /*copies_input=*/nullptr,
      /*blocks_channels=*/nullptr,
      describe,
      /*weight_geometry=*/nullptr};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
