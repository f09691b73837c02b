#include "quantize/calibrate.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "quantize/graph_probe.h"
#include "quantize/state_replay.h"

namespace tinyforge::quantize {

namespace {

// Raw float32 samples: every value finite and of a magnitude real inputs have (bytes of
// another dtype read as float32 give huge or subnormal values), and not all one value.
void check_float_samples(const std::string& label, const std::vector<uint8_t>& bytes,
                         uint32_t per_case) {
  const size_t n = bytes.size() / 4;
  float first = 0;
  bool all_equal = true;
  for (size_t k = 0; k < n; ++k) {
    float v;
    std::memcpy(&v, bytes.data() + 4 * k, 4);
    const auto where = [&] {
      return fmt::format("case {}, element {}", k / per_case, k % per_case);
    };
    if (!std::isfinite(v))
      throw tinyforge::Error(
          fmt::format("{}: {} at {} (calibration data must be finite float32)", label, v, where()));
    if (std::fabs(v) > 1e30f || std::fpclassify(v) == FP_SUBNORMAL)
      throw tinyforge::Error(
          fmt::format("{}: {:g} at {} does not look like float32 data (the file must "
                      "hold float32 tensors, as the model input)",
                      label, v, where()));
    if (k == 0) first = v;
    all_equal = all_equal && v == first;
  }
  if (all_equal)
    throw tinyforge::Error(
        fmt::format("{}: all {} values are {:g}, a degenerate range (give real input "
                    "samples)",
                    label, n, first));
}

}  // namespace

CalibrationSet make_calibration_set(const ir::Graph& graph,
                                    std::vector<std::vector<uint8_t>> inputs,
                                    const std::vector<std::string>& names) {
  const std::vector<uint32_t> bytes = input_tensor_bytes(graph);
  if (inputs.size() != bytes.size())
    throw tinyforge::Error(
        fmt::format("{}: the model has {} input(s), {} calibration file(s) given", graph.source,
                    bytes.size(), inputs.size()));
  CalibrationSet set;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string label = i < names.size() ? names[i] : fmt::format("calibration input {}", i);
    const ir::Tensor& t = graph.tensors.at(static_cast<size_t>(graph.inputs[i]));
    if (bytes[i] == 0 || inputs[i].empty() || inputs[i].size() % bytes[i] != 0)
      throw tinyforge::Error(fmt::format(
          "{}: {} bytes is not a whole number of '{}' tensors of {} bytes "
          "({} [{}])",
          label, inputs[i].size(), t.name, bytes[i], dtype_name(t.type), fmt::join(t.shape, ",")));
    const auto cases = static_cast<uint32_t>(inputs[i].size() / bytes[i]);
    if (i > 0 && cases != set.cases)
      throw tinyforge::Error(
          fmt::format("{}: holds {} case(s) while the first calibration file holds {}; "
                      "expected the same number for every input",
                      label, cases, set.cases));
    set.cases = cases;
    if (t.type == DType::f32) check_float_samples(label, inputs[i], bytes[i] / 4);
  }
  set.inputs = std::move(inputs);
  return set;
}

namespace {

// Channel period of each tensor for the means: a fully-connected input's row length (its
// weights' IN), otherwise the last dim (NHWC channels).
std::vector<size_t> mean_periods(const ir::Graph& graph) {
  std::vector<size_t> period(graph.tensors.size(), 0);
  for (size_t t = 0; t < graph.tensors.size(); ++t)
    if (!graph.tensors[t].shape.empty())
      period[t] = static_cast<size_t>(graph.tensors[t].shape.back());
  for (const ir::Node& n : graph.nodes) {
    if (n.op != OpCode::FullyConnected || n.inputs.size() < 2 || n.inputs[0] < 0 || n.inputs[1] < 0)
      continue;
    const ir::Tensor& w = graph.tensors[static_cast<size_t>(n.inputs[1])];
    if (w.shape.size() == 2)
      period[static_cast<size_t>(n.inputs[0])] = static_cast<size_t>(w.shape[1]);
  }
  return period;
}

}  // namespace

std::vector<TensorStats> calibrate(const ir::Graph& graph, const CalibrationSet& data,
                                   RangeMethod method, const ProgressFn& progress) {
  GraphProbe probe(graph);
  const std::vector<uint32_t> bytes = input_tensor_bytes(graph);
  std::vector<TensorStats> stats(graph.tensors.size());
  const std::vector<size_t> period = mean_periods(graph);
  const int passes = needs_histogram(method) ? 2 : 1;
  StateReplay states(graph);
  std::vector<const std::vector<float>*> by_tensor(graph.tensors.size(), nullptr);
  for (int pass = 0; pass < passes; ++pass) {
    const char* phase = pass == 0 ? "ranges" : "histograms";
    probe.reset_state();
    states.reset();
    for (uint32_t c = 0; c < data.cases; ++c) {
      // A model with an LSTM takes a whole sequence per invocation: each case is an
      // independent sequence. An SVDF takes one frame: the cases are one stream of frames.
      if (states.has_lstm()) {
        probe.reset_state();
        states.reset();
      }
      std::vector<std::vector<uint8_t>> inputs;
      for (size_t i = 0; i < bytes.size(); ++i) {
        const auto* begin = data.inputs[i].data() + uint64_t{c} * bytes[i];
        inputs.emplace_back(begin, begin + bytes[i]);
      }
      const std::vector<std::vector<float>> values = probe.run(inputs);
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k].empty()) continue;
        const auto t = static_cast<size_t>(probe.tensors()[k]);
        TensorStats& s = stats[t];
        if (pass == 0) {
          s.observe_extremes(values[k].data(), values[k].size());
          s.observe_means(values[k].data(), values[k].size(), period[t]);
        } else {
          s.observe_histogram(values[k].data(), values[k].size());
        }
      }
      // The states' ranges are their extremes (minmax, as TFLite's converter takes them).
      if (pass == 0 && !states.empty()) {
        for (size_t k = 0; k < values.size(); ++k)
          by_tensor[static_cast<size_t>(probe.tensors()[k])] = &values[k];
        for (const auto& [t, v] : states.observe(by_tensor))
          stats[static_cast<size_t>(t)].observe_extremes(v.data(), v.size());
      }
      if (progress) progress({phase, c + 1, data.cases});
    }
  }
  return stats;
}

}  // namespace tinyforge::quantize
