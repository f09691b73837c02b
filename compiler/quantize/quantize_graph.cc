#include "quantize/quantize_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

#include "ops/gru.h"
#include "ops/host_op.h"
#include "ops/lstm.h"
#include "plan/lower.h"
#include "quantize/bias_correction.h"
#include "quantize/quant_params.h"

namespace tinyforge::quantize {
namespace {

constexpr int kInserted = -1;  // origin of a node the rewrite added

bool same_params(const ir::Quant& a, const ir::Quant& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

std::string describe(const ir::Quant& q) {
  return fmt::format("scale {:.6g}, zero point {}", q.scale.at(0), q.zero_point.at(0));
}

// Refuses the float LSTMs that have no integer form: TFLM's integer LSTM (what the int8
// lowering runs) has the input gate, no peepholes, no projection, no layer normalization
// and the TANH activation; an ONNX LSTM restarts from zero state every invocation, which
// the TFLite LSTM the quantized model is written as does not.
void require_integer_lstm_form(const ir::Graph& g, size_t node) {
  using namespace ops::lstm_input;
  const ir::Node& n = g.nodes[node];
  const auto refuse = [&](const std::string& why) {
    throw tinyforge::Error(
        fmt::format("{}: {}: cannot quantize this LSTM: {}", g.source, g.node_label(node), why));
  };
  if (n.inputs.size() != kCount)
    refuse(fmt::format("{} inputs; expected {}", n.inputs.size(), kCount));
  const auto& a = n.params.get<ops::LstmAttrs>();
  if (a.zero_state)
    refuse(
        "it comes from ONNX and starts every invocation from zero state; the int8 model is a "
        "TFLite LSTM, which keeps its state between invocations (compile the float model)");
  std::array<const ir::Tensor*, kCount> in{};
  for (size_t k = 0; k < kCount; ++k) {
    const int t = n.inputs[k];
    in[k] = t >= 0 ? &g.tensors.at(static_cast<size_t>(t)) : nullptr;
    if (k >= kFirstLayerNorm && t >= 0)
      refuse("layer normalization (inputs 20-23): tinyforge's integer LSTM has none");
  }
  for (size_t k : {kInput, kOutputState, kCellState})
    if (in[k] == nullptr) refuse(fmt::format("input {} is missing", k));
  const std::string variant = ops::integer_variant_error(in, a);
  if (!variant.empty()) refuse(variant);
}

// Refuses graphs that are not float32 end to end (already quantized, int8 inputs, ...).
void require_float_graph(const ir::Graph& g) {
  auto name = [&](int t) { return g.tensors[static_cast<size_t>(t)].name; };
  auto type = [&](int t) { return g.tensors[static_cast<size_t>(t)].type; };
  for (int t : g.inputs) {
    if (type(t) == DType::i32)  // ONNX int64 indices (docs/onnx-import.md)
      throw tinyforge::Error(
          fmt::format("{}: model input '{}' is int32 indices: tinyforge does not quantize "
                      "models with integer inputs yet; compile the float model",
                      g.source, name(t)));
    if (type(t) != DType::f32)
      throw tinyforge::Error(
          fmt::format("{}: model input '{}' is {}: the model is already quantized; "
                      "expected a float32 model",
                      g.source, name(t), dtype_name(type(t))));
  }
  // Variable tensors are the state of the stateful ops the rewrite quantizes (SVDF, LSTM).
  std::vector<char> is_state(g.tensors.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (n.op == OpCode::Lstm) {
      require_integer_lstm_form(g, i);
      for (size_t k : {ops::lstm_input::kOutputState, ops::lstm_input::kCellState})
        is_state.at(static_cast<size_t>(n.inputs.at(k))) = 1;
    } else if (n.op == OpCode::Svdf && n.inputs.size() == 5 && n.inputs[4] >= 0) {
      is_state.at(static_cast<size_t>(n.inputs[4])) = 1;
    }
  }
  for (size_t t = 0; t < g.tensors.size(); ++t)
    if (g.tensors[t].variable && !is_state[t])
      throw tinyforge::Error(
          fmt::format("{}: '{}' is a variable tensor but not the state of an SVDF or LSTM: "
                      "tinyforge quantizes only those stateful ops",
                      g.source, g.tensors[t].name));
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (ops::is_gru_node(g, n))
      throw tinyforge::Error(
          fmt::format("{}: {}: part of an ONNX GRU (unrolled at import): tinyforge has no int8 "
                      "GRU; compile the float model",
                      g.source, g.node_label(i)));
    if (n.op == OpCode::Quantize || n.op == OpCode::Dequantize)
      throw tinyforge::Error(
          fmt::format("{}: {}: the model is already quantized; expected a float32 model", g.source,
                      g.node_label(i)));
    for (int t : n.outputs)
      if (type(t) != DType::f32)
        throw tinyforge::Error(fmt::format("{}: {}: output '{}' is {}; expected a float32 model",
                                           g.source, g.node_label(i), name(t),
                                           dtype_name(type(t))));
  }
}

struct Rewritten {
  ir::Graph graph;
  std::vector<int> origin;  // per node of `graph`: the source node, or kInserted
};

class Rewriter {
 public:
  Rewriter(const ir::Graph& g, const std::vector<TensorCalibration>& calibration,
           const RewriteOptions& options)
      : g_(g),
        calibration_(calibration),
        int8_io_(options.int8_io),
        bias_correction_(options.bias_correction),
        log_(options.log),
        params_(g.tensors.size()),
        int8_of_(g.tensors.size(), -1),
        float_of_(g.tensors.size(), -1),
        float_node_(g.nodes.size(), 0) {
    for (size_t n : options.float_nodes) float_node_.at(n) = 1;
  }

  Rewritten run() {
    require_float_graph(g_);
    choose_params();
    out_.graph.source = g_.source;
    for (int t : g_.inputs) {
      ir::Tensor copy = g_.tensors[static_cast<size_t>(t)];
      if (int8_io_) {
        copy.type = DType::i8;
        copy.quant = params_[static_cast<size_t>(t)];
        int8_of_[static_cast<size_t>(t)] = out_.graph.add_tensor(std::move(copy));
        out_.graph.inputs.push_back(int8_of_[static_cast<size_t>(t)]);
      } else {
        float_of_[static_cast<size_t>(t)] = out_.graph.add_tensor(std::move(copy));
        out_.graph.inputs.push_back(float_of_[static_cast<size_t>(t)]);
      }
    }
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (float_node_[i])
        emit_float(i);
      else
        emit_int8(i);
    }
    for (int t : g_.outputs) {
      const auto s = static_cast<size_t>(t);
      out_.graph.outputs.push_back(int8_io_ ? int8(t) : as_float(t));
      // The float output keeps the model's tensor name; its int8 source gets a suffix.
      if (!int8_io_ && int8_of_[s] >= 0) {
        out_.graph.tensors[static_cast<size_t>(float_of_[s])].name = g_.tensors[s].name;
        out_.graph.tensors[static_cast<size_t>(int8_of_[s])].name = g_.tensors[s].name + "_int8";
      }
    }
    out_.graph.check();
    return std::move(out_);
  }

 private:
  void log(const std::string& line) const {
    if (log_) log_(line);
  }

  ir::Quant from_range(int t) const {
    const std::optional<Range>& r = calibration_.at(static_cast<size_t>(t)).range;
    const ir::Quant q = activation_params(r ? *r : Range{});
    log(fmt::format("tensor '{}': range {} -> {}", g_.tensors[static_cast<size_t>(t)].name,
                    r ? fmt::format("[{:.6g}, {:.6g}]", r->min, r->max) : "unobserved",
                    describe(q)));
    return q;
  }

  // Parameters of every activation, in execution order (an op's input is decided first).
  void choose_params() {
    for (int t : g_.inputs) params_[static_cast<size_t>(t)] = from_range(t);
    for (const ir::Node& n : g_.nodes) {
      const int in = n.inputs.empty() ? -1 : n.inputs[0];
      const bool in_is_activation = in >= 0 && !g_.tensors[static_cast<size_t>(in)].constant;
      const ir::OpTraits& traits = ops::traits(n.op);
      for (int out : n.outputs) {  // Split's pieces all keep the input's parameters
        if (traits.quant == ir::QuantRule::same_as_input && in_is_activation) {
          params_[static_cast<size_t>(out)] = params_[static_cast<size_t>(in)];
        } else if (traits.quant == ir::QuantRule::fixed) {
          ir::Quant q;
          q.scale = {traits.fixed_scale};
          q.zero_point = {traits.fixed_zero_point};
          params_[static_cast<size_t>(out)] = q;
        } else {
          params_[static_cast<size_t>(out)] = from_range(out);
        }
      }
    }
  }

  // A Quantize or Dequantize node (no params).
  int add_node(OpCode op, std::vector<int> inputs, std::vector<int> outputs, std::string name,
               int origin) {
    out_.graph.nodes.push_back(
        ir::Node{op, std::move(inputs), std::move(outputs), {}, std::move(name)});
    out_.origin.push_back(origin);
    return static_cast<int>(out_.graph.nodes.size()) - 1;
  }

  // Node n of the source graph (its attributes kept) over other tensors.
  void copy_node(const ir::Node& n, std::vector<int> inputs, std::vector<int> outputs, int origin) {
    ir::Node copy = n;
    copy.inputs = std::move(inputs);
    copy.outputs = std::move(outputs);
    out_.graph.nodes.push_back(std::move(copy));
    out_.origin.push_back(origin);
  }

  // The int8 version of source activation t (a Quantize after its float version if needed).
  int int8(int t) {
    const auto s = static_cast<size_t>(t);
    if (int8_of_[s] >= 0) return int8_of_[s];
    ir::Tensor q = g_.tensors[s];
    q.name += "_int8";
    q.type = DType::i8;
    q.quant = params_[s];
    int8_of_[s] = out_.graph.add_tensor(std::move(q));
    add_node(OpCode::Quantize, {float_of_[s]}, {int8_of_[s]}, g_.tensors[s].name + "/quantize",
             kInserted);
    return int8_of_[s];
  }

  // The float version of source activation t (a Dequantize after its int8 version if needed).
  int as_float(int t) {
    const auto s = static_cast<size_t>(t);
    if (float_of_[s] >= 0) return float_of_[s];
    ir::Tensor f = g_.tensors[s];
    f.name += "_float";
    float_of_[s] = out_.graph.add_tensor(std::move(f));
    add_node(OpCode::Dequantize, {int8(t)}, {float_of_[s]}, g_.tensors[s].name + "/dequantize",
             kInserted);
    return float_of_[s];
  }

  int copy_constant(int t) { return out_.graph.add_tensor(g_.tensors[static_cast<size_t>(t)]); }

  // A source constant quantized with given per-tensor parameters.
  int constant_with(int t, const ir::Quant& q) {
    ir::Tensor c = g_.tensors[static_cast<size_t>(t)];
    if (c.type != DType::f32)
      throw tinyforge::Error(fmt::format("{}: constant '{}' is {}; expected float32", g_.source,
                                         c.name, dtype_name(c.type)));
    ir::Tensor out = c;
    out.type = DType::i8;
    out.quant = q;
    out.data.assign(static_cast<size_t>(c.elements()), 0);
    for (int64_t i = 0; i < c.elements(); ++i)
      out.data[static_cast<size_t>(i)] =
          static_cast<uint8_t>(quantize_value(c.at<float>(i), q.scale[0], q.zero_point[0]));
    return out_.graph.add_tensor(std::move(out));
  }

  void emit_float(size_t i) {
    const ir::Node& n = g_.nodes[i];
    std::vector<int> inputs;
    for (int t : n.inputs)
      inputs.push_back(t < 0 ? -1
                       : g_.tensors[static_cast<size_t>(t)].constant ||
                               g_.tensors[static_cast<size_t>(t)].variable
                           ? copy_constant(t)  // a float op's state stays float
                           : as_float(t));
    std::vector<int> outputs;
    for (int t : n.outputs) {
      float_of_[static_cast<size_t>(t)] = out_.graph.add_tensor(g_.tensors[static_cast<size_t>(t)]);
      outputs.push_back(float_of_[static_cast<size_t>(t)]);
    }
    log(fmt::format("{}: kept in float32 (Dequantize before, Quantize after)", g_.node_label(i)));
    copy_node(n, std::move(inputs), std::move(outputs), static_cast<int>(i));
  }

  // Conv2D / DepthwiseConv2D / FullyConnected: per-channel weights and int32 bias.
  void weighted_inputs(size_t i, int axis, std::vector<int>& inputs) {
    const ir::Node& n = g_.nodes[i];
    const ir::Tensor& w = g_.tensors[static_cast<size_t>(n.inputs.at(1))];
    const int b = n.inputs.size() > 2 ? n.inputs[2] : -1;
    const ir::Tensor* bias = b >= 0 ? &g_.tensors[static_cast<size_t>(b)] : nullptr;
    if (!w.constant || (bias && !bias->constant))
      throw tinyforge::Error(fmt::format("{}: {}: weights and bias must be constants to quantize",
                                         g_.source, g_.node_label(i)));
    const auto in = static_cast<size_t>(n.inputs[0]);
    const float input_scale = params_[in].scale.at(0);
    std::vector<float> scales = weight_scales(w, axis);
    if (ops::traits(n.op).per_tensor_weights) scales = {per_tensor_scale(scales)};
    fit_bias_range(bias, input_scale, scales);
    ir::Tensor wq = quantize_weights(w, axis, scales);
    const std::vector<double>& means = calibration_[in].means;
    const auto geometry = ops::host_op(n.op).weight_geometry;
    if (bias_correction_ && !means.empty() && geometry) {
      const ir::Tensor corrected = corrected_bias(geometry(g_, i), w, wq, bias, means);
      inputs = {int8(n.inputs[0]), out_.graph.add_tensor(std::move(wq)),
                out_.graph.add_tensor(quantize_bias(corrected, input_scale, scales))};
      return;
    }
    inputs.push_back(int8(n.inputs[0]));
    inputs.push_back(out_.graph.add_tensor(std::move(wq)));
    inputs.push_back(bias ? out_.graph.add_tensor(quantize_bias(*bias, input_scale, scales)) : -1);
  }

  const ir::Tensor& tensor(int t) const { return g_.tensors.at(static_cast<size_t>(t)); }

  // Source state tensor t (a variable) as `type` with parameters q.
  int state_tensor(int t, DType type, const ir::Quant& q) {
    ir::Tensor s = tensor(t);
    s.type = type;
    s.quant = q;
    log(fmt::format("state '{}': {} {}", s.name, dtype_name(type), describe(q)));
    return out_.graph.add_tensor(std::move(s));
  }

  // The calibrated range of state tensor t (StateReplay in calibrate.cc).
  Range state_range(int t) const {
    const std::optional<Range>& r = calibration_.at(static_cast<size_t>(t)).range;
    log(fmt::format("state '{}': range {}", tensor(t).name,
                    r ? fmt::format("[{:.6g}, {:.6g}]", r->min, r->max) : "unobserved"));
    return r ? *r : Range{};
  }

  // The int8 versions of node n's outputs.
  std::vector<int> int8_outputs(const ir::Node& n) {
    std::vector<int> outputs;
    for (int t : n.outputs) {
      ir::Tensor q = g_.tensors[static_cast<size_t>(t)];
      q.type = DType::i8;
      q.quant = params_[static_cast<size_t>(t)];
      int8_of_[static_cast<size_t>(t)] = out_.graph.add_tensor(std::move(q));
      outputs.push_back(int8_of_[static_cast<size_t>(t)]);
    }
    return outputs;
  }

  // TFLite's integer LSTM without layer norm (8x8_16; tools/optimize/operator_property.cc,
  // UNIDIRECTIONAL_SEQUENCE_LSTM): int8 input and output from calibration, the output state
  // with the output's parameters (restrict_scale {18, 0}), int8 symmetric per-tensor weights,
  // each gate's int32 bias at input scale x its input weights' scale, the int16 cell state
  // symmetric with a power-of-two scale covering its calibrated range. The gates' int16
  // intermediates need no parameters: the kernel fixes them (2^-12, 2^-15; lstm.cc).
  void emit_lstm(size_t i) {
    using namespace ops::lstm_input;
    const ir::Node& n = g_.nodes[i];
    const ir::Quant& out_params = params_[static_cast<size_t>(n.outputs.at(0))];
    std::vector<int> inputs(n.inputs.size(), -1);
    inputs[kInput] = int8(n.inputs[kInput]);
    const float input_scale = params_[static_cast<size_t>(n.inputs[kInput])].scale.at(0);
    const auto per_tensor = [](const ir::Tensor& w) {
      return std::vector<float>{per_tensor_scale(weight_scales(w, 0))};
    };
    for (size_t gate = 0; gate < 4; ++gate) {
      const ir::Tensor& w = tensor(n.inputs[kInputToInput + gate]);
      const ir::Tensor& b = tensor(n.inputs[kInputGateBias + gate]);
      const ir::Tensor& r = tensor(n.inputs[kRecurrentToInput + gate]);
      std::vector<float> scales = per_tensor(w);
      fit_bias_range(&b, input_scale, scales);
      inputs[kInputToInput + gate] = out_.graph.add_tensor(quantize_weights(w, 0, scales));
      inputs[kInputGateBias + gate] = out_.graph.add_tensor(quantize_bias(b, input_scale, scales));
      inputs[kRecurrentToInput + gate] =
          out_.graph.add_tensor(quantize_weights(r, 0, per_tensor(r)));
    }
    inputs[kOutputState] = state_tensor(n.inputs[kOutputState], DType::i8, out_params);
    inputs[kCellState] = state_tensor(n.inputs[kCellState], DType::i16,
                                      int16_state_params(state_range(n.inputs[kCellState]), true));
    std::vector<int> outputs = int8_outputs(n);
    copy_node(n, std::move(inputs), std::move(outputs), static_cast<int>(i));
  }

  // TFLite's int8 SVDF (operator_property.cc, SVDF; TFLM svdf.cc): int8 input and output,
  // int8 symmetric per-tensor feature weights, int16 time weights at max|w| / 512, the int16
  // state symmetric over its calibrated range, the int32 bias at state x time-weight scale.
  void emit_svdf(size_t i) {
    const ir::Node& n = g_.nodes[i];
    if (n.inputs.size() != 5)
      throw tinyforge::Error(fmt::format("{}: {}: has {} inputs; expected 5", g_.source,
                                         g_.node_label(i), n.inputs.size()));
    const ir::Tensor& wf = tensor(n.inputs[1]);
    const std::vector<float> scales = {per_tensor_scale(weight_scales(wf, 0))};
    ir::Tensor wt = quantize_int16_weights(tensor(n.inputs[2]), 512.0f);
    const ir::Quant state = int16_state_params(state_range(n.inputs[4]), false);
    const int bias = n.inputs[3] < 0 ? -1
                                     : out_.graph.add_tensor(quantize_bias(
                                           tensor(n.inputs[3]), state.scale[0], wt.quant.scale));
    std::vector<int> inputs = {
        int8(n.inputs[0]), out_.graph.add_tensor(quantize_weights(wf, 0, scales)),
        out_.graph.add_tensor(std::move(wt)), bias, state_tensor(n.inputs[4], DType::i16, state)};
    std::vector<int> outputs = int8_outputs(n);
    copy_node(n, std::move(inputs), std::move(outputs), static_cast<int>(i));
  }

  void emit_int8(size_t i) {
    const ir::Node& n = g_.nodes[i];
    if (n.op == OpCode::Lstm) return emit_lstm(i);
    if (n.op == OpCode::Svdf) return emit_svdf(i);
    const int out = n.outputs.at(0);
    const ir::Quant& out_params = params_[static_cast<size_t>(out)];
    std::vector<int> inputs;
    const int axis = ops::traits(n.op).weight_channel_axis;
    const bool shared_by_inputs = ops::traits(n.op).quant == ir::QuantRule::shared_by_inputs;
    if (axis >= 0) {
      weighted_inputs(i, axis, inputs);
    } else {
      for (int t : n.inputs) {
        if (t < 0) {
          inputs.push_back(-1);
        } else if (g_.tensors[static_cast<size_t>(t)].constant &&
                   g_.tensors[static_cast<size_t>(t)].type != DType::f32) {
          inputs.push_back(copy_constant(t));  // integer operands (Gather's indices) stay
        } else if (g_.tensors[static_cast<size_t>(t)].constant) {
          inputs.push_back(shared_by_inputs ? constant_with(t, out_params)
                                            : out_.graph.add_tensor(quantize_constant(
                                                  g_.tensors[static_cast<size_t>(t)])));
        } else if (shared_by_inputs && !same_params(params_[static_cast<size_t>(t)], out_params)) {
          inputs.push_back(requantized(t, out_params));
        } else {
          inputs.push_back(int8(t));
        }
      }
    }
    std::vector<int> outputs = int8_outputs(n);
    copy_node(n, std::move(inputs), std::move(outputs), static_cast<int>(i));
  }

  // Source activation t requantized (int8 -> int8) to parameters q.
  int requantized(int t, const ir::Quant& q) {
    ir::Tensor r = g_.tensors[static_cast<size_t>(t)];
    r.name += "_requantized";
    r.type = DType::i8;
    r.quant = q;
    const int index = out_.graph.add_tensor(std::move(r));
    add_node(OpCode::Quantize, {int8(t)}, {index},
             g_.tensors[static_cast<size_t>(t)].name + "/requantize", kInserted);
    return index;
  }

  const ir::Graph& g_;
  const std::vector<TensorCalibration>& calibration_;
  bool int8_io_, bias_correction_;
  LogFn log_;
  std::vector<ir::Quant> params_;  // per source tensor (activations)
  std::vector<int> int8_of_, float_of_;
  std::vector<char> float_node_;
  Rewritten out_;
};

Rewritten rewrite(const ir::Graph& graph, const std::vector<TensorCalibration>& calibration,
                  const RewriteOptions& options) {
  if (calibration.size() != graph.tensors.size())
    throw tinyforge::Error(fmt::format("{}: calibration for {} tensors; the graph has {}",
                                       graph.source, calibration.size(), graph.tensors.size()));
  graph.check();
  return Rewriter(graph, calibration, options).run();
}

// Source nodes whose int8 version the lowering refuses, with the first reason.
std::vector<std::pair<size_t, std::string>> unlowerable(const Rewritten& r) {
  std::vector<std::pair<size_t, std::string>> failed;
  ir::Graph scratch = r.graph;  // lowering appends constants
  for (size_t i = 0; i < scratch.nodes.size(); ++i) {
    try {
      plan::lower_node(scratch, i);
    } catch (const tinyforge::Error& e) {
      if (r.origin[i] == kInserted) throw;
      failed.emplace_back(static_cast<size_t>(r.origin[i]), e.what());
    }
  }
  return failed;
}

}  // namespace

ir::Graph quantize_graph(const ir::Graph& graph, const std::vector<TensorCalibration>& calibration,
                         const RewriteOptions& options) {
  return rewrite(graph, calibration, options).graph;
}

ir::Graph quantize_model(const ir::Graph& graph, const CalibrationSet& data,
                         const QuantizeOptions& options) {
  require_float_graph(graph);
  const std::vector<TensorStats> stats = calibrate(graph, data, options.method, options.progress);
  std::vector<TensorCalibration> calibration(graph.tensors.size());
  for (size_t t = 0; t < stats.size(); ++t) {
    // A state's range is its extremes (StateReplay records no histogram).
    if (stats[t].seen())
      calibration[t].range = graph.tensors[t].variable
                                 ? stats[t].extremes()
                                 : stats[t].choose(options.method, options.percentile);
    calibration[t].means = stats[t].means();
  }

  RewriteOptions rewrite_options;
  rewrite_options.int8_io = options.int8_io;
  rewrite_options.bias_correction = options.bias_correction;
  rewrite_options.log = options.log;
  Rewritten r = rewrite(graph, calibration, rewrite_options);
  // Ops the int8 lowering refuses stay float; one retry settles it since float ops lower
  // whenever the float model did.
  const auto failed = unlowerable(r);
  if (failed.empty()) return std::move(r.graph);
  for (const auto& [node, reason] : failed) {
    if (options.log)
      options.log(fmt::format("{}: no int8 lowering ({})", graph.node_label(node), reason));
    rewrite_options.float_nodes.push_back(node);
  }
  rewrite_options.log = {};
  r = rewrite(graph, calibration, rewrite_options);
  if (options.log)
    for (size_t node : rewrite_options.float_nodes)
      options.log(fmt::format("{}: kept in float32 (Dequantize before, Quantize after)",
                              graph.node_label(node)));
  const auto still = unlowerable(r);
  if (!still.empty()) throw tinyforge::Error(still.front().second);
  return std::move(r.graph);
}

}  // namespace tinyforge::quantize
