// FullyConnected: everything the compiler knows about it, in one file.
//
// Semantics: TFLite FULLY_CONNECTED: rows of the input (its elements in rows of the
// weights' depth) times weights [OUT,IN], optional bias, a fused activation; ONNX Gemm and
// MatMul map to it (import/onnx/convert_dense.cc). int8 as TFLite Micro's
// CalculateOpDataFullyConnected (micro/kernels/fully_connected_common.cc): per-channel
// weights use the conv multipliers, per-tensor weights multiply the two scales in float
// first (GetQuantizedConvolutionMultipler). Invariants the reader checks: DEFAULT weights
// format, the output is [rows, units] or (keep_num_dims) the input's shape with the last
// dim replaced, weights symmetric int8, bias scale input x weight scale. Quantized from
// calibrated ranges with per-tensor weights; channels are consumed. TFLite: builtin
// FULLY_CONNECTED (9), version 4 for int8, 5 with keep_num_dims, 6 without bias
// (tensorflow/lite/tools/versioning/op_version.cc).
#include "ops/fully_connected.h"

#include <fmt/format.h>

#include "export/tflite_builder.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower_conv.h"

namespace tinyforge {
namespace {

using tflite_import::OpMapper;
using tflite_import::shape_string;

ir::Node read_tflite(OpMapper& m) {
  m.require_arity(2, 3);
  const auto* o = m.options(m.op().builtin_options_as_FullyConnectedOptions(),
                            tfl::BuiltinOptions::FullyConnectedOptions);
  ir::Node n{OpCode::FullyConnected, {}, {}, {}, {}};
  ops::FullyConnectedAttrs a;
  bool keep_num_dims = false;
  if (o) {
    a.activation = m.activation(o->fused_activation_function());
    if (o->weights_format() != tfl::FullyConnectedOptionsWeightsFormat::DEFAULT)
      m.fail(fmt::format("weights_format {} is not supported; expected DEFAULT (0)",
                         static_cast<int>(o->weights_format())));
    keep_num_dims = o->keep_num_dims();
  }
  const ir::Tensor& in = m.input(0);
  const ir::Tensor& out = m.output();
  m.require_activation_types(in, out);
  const ir::Tensor& w = m.input(1);
  m.require_rank(w, m.in_label(1), 2);
  const int32_t units = w.shape[0], depth = w.shape[1];
  if (in.shape.empty() || in.elements() % depth != 0)
    m.fail(fmt::format("{} has shape {}; expected a whole number of rows of {} elements",
                       m.in_label(0), shape_string(in.shape), depth));
  const int64_t rows = in.elements() / depth;
  tflite_import::check_weights(m, in, 0, units);
  if (keep_num_dims) {
    std::vector<int32_t> expected = in.shape;
    expected.back() = units;
    m.require_shape(out, m.out_label(), expected);
  } else if (out.shape.empty() || out.shape.back() != units || out.elements() != rows * units) {
    m.fail(fmt::format("{} has shape {}; expected {} rows of {} units ([{},{}])", m.out_label(),
                       shape_string(out.shape), rows, units, rows, units));
  }
  n.params = a;
  n.inputs = {m.input_index(0), m.input_index(1), m.input_index(2, /*optional=*/true)};
  return n;
}

void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  using namespace tflite_export;
  const ir::Node& n = b.graph().nodes[node];
  const auto& in = in_tensor(b, node, 0).shape;
  const auto& out = out_tensor(b, node).shape;
  // keep_num_dims: the output keeps the input's leading dims (rank > 2), else [rows, units].
  std::vector<int32_t> kept = in;
  if (!kept.empty()) kept.back() = out.empty() ? 0 : out.back();
  const bool keep_num_dims = out.size() != 2 && out == kept;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const int32_t version = !has_bias ? 6 : keep_num_dims ? 5 : is_int8(b, node) ? 4 : 1;
  std::vector<int32_t> inputs = io_of(b, n.inputs);
  if (!has_bias) inputs.resize(2);
  const ir::Activation act = n.params.get_or_default<ops::FullyConnectedAttrs>().activation;
  const auto options = tfl::CreateFullyConnectedOptions(
      b.fbb(), activation(act), tfl::FullyConnectedOptionsWeightsFormat::DEFAULT, keep_num_dims);
  b.add_operator(tfl::BuiltinOperator::FULLY_CONNECTED, version, inputs, io_of(b, n.outputs),
                 tfl::BuiltinOptions::FullyConnectedOptions, options.Union());
}

}  // namespace

namespace plan {

using namespace conv_lowering;

LoweredOp lower_FullyConnected(ir::Graph& g, size_t node) {
  const Operands o = operands(g, node, true);
  require_rank(g, node, o.filter, "filter", 2);
  require_positive_dims(g, node, o.input, "input");
  require_positive_dims(g, node, o.output, "output");
  const DType type = activation_type(g, node, o);
  const ir::Tensor& in = g.tensors[o.input];
  const ir::Tensor& out = g.tensors[o.output];
  const int32_t units = g.tensors[o.filter].shape[0];
  const int32_t depth = g.tensors[o.filter].shape[1];
  if (in.shape.empty() || in.elements() % depth != 0)
    refuse(g, node,
           fmt::format("{} has shape {}; expected whole rows of {} elements",
                       label(g, o.input, "input"), shape_str(in.shape), depth));
  const int64_t rows = in.elements() / depth;
  if (out.shape.empty() || out.shape.back() != units || out.elements() != rows * units)
    refuse(g, node,
           fmt::format("{} has shape {}; expected {} rows of {} units",
                       label(g, o.output, "output"), shape_str(out.shape), rows, units));
  require_bias_size(g, node, o.bias, units);

  FullyConnectedParams p{};
  p.act_min = -128;
  p.act_max = 127;
  std::vector<double> scales;
  if (type == DType::i8) {
    const ActQuant qi = activation_quant(g, node, o.input, "input");
    const ActQuant qo = activation_quant(g, node, o.output, "output");
    const std::vector<float> fs = filter_scales(g, node, o.filter, units, 0);
    if (g.tensors[o.filter].quant.per_channel()) {
      for (float s : fs)
        scales.push_back(static_cast<double>(qi.scale) * static_cast<double>(s) /
                         static_cast<double>(qo.scale));
    } else {
      const float product = qi.scale * fs[0];  // float, as GetQuantizedConvolutionMultipler
      scales.assign(static_cast<size_t>(units),
                    static_cast<double>(product) / static_cast<double>(qo.scale));
    }
  }
  LoweredOp lowered;
  fill_output_stage(g, node, o, type,
                    g.nodes[node].params.get_or_default<ops::FullyConnectedAttrs>().activation,
                    scales, p, lowered);
  lowered.params = params_bytes(p);
  return lowered;
}

}  // namespace plan

namespace ops {

const HostOp& host_op_FullyConnected() {
  static const HostOp op{ir::OpTraits{ir::QuantRule::calibrated, 0.0f, 0, 0,
                                      /*per_tensor_weights=*/true, ir::ChannelRule::consumes},
                         {{static_cast<int32_t>(tfl::BuiltinOperator::FULLY_CONNECTED),
                           "FULLY_CONNECTED", read_tflite}},
                         write_tflite,
                         activation_field<FullyConnectedAttrs>};
  return op;
}

}  // namespace ops
}  // namespace tinyforge
