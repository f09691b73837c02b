#include "quantize/graph_probe.h"

#include <fmt/format.h>

#include <cstring>

namespace tinyforge::quantize {
namespace {

// float32 values as they are, int8 values dequantized (real = scale * (q - zero point)).
std::vector<float> as_floats(const ir::Tensor& t, const uint8_t* bytes, size_t size) {
  if (t.type == DType::f32) {
    std::vector<float> v(size / 4);
    if (!v.empty()) std::memcpy(v.data(), bytes, v.size() * 4);
    return v;
  }
  if (t.type == DType::i8 && t.quant.scale.size() == 1) {
    const float scale = t.quant.scale[0];
    const int32_t zp = t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0];
    std::vector<float> v(size);
    for (size_t i = 0; i < size; ++i)
      v[i] = scale * static_cast<float>(static_cast<int8_t>(bytes[i]) - zp);
    return v;
  }
  return {};
}

}  // namespace

std::vector<uint32_t> input_tensor_bytes(const ir::Graph& graph) {
  std::vector<uint32_t> bytes;
  for (int t : graph.inputs) bytes.push_back(static_cast<uint32_t>(graph.tensors.at(t).bytes()));
  return bytes;
}

GraphProbe::GraphProbe(const ir::Graph& graph) : graph_(graph) {
  graph.check();
  ir::Graph probe = graph;
  probe.outputs.clear();
  for (const ir::Node& n : graph.nodes)
    for (int t : n.outputs) probe.outputs.push_back(t);
  tensors_ = graph.inputs;
  tensors_.insert(tensors_.end(), probe.outputs.begin(), probe.outputs.end());
  runner_ = passes::prepare_graph(probe, graph.source + " (calibration probe)");
}

GraphProbe::~GraphProbe() = default;

std::vector<std::vector<float>> GraphProbe::run(const std::vector<std::vector<uint8_t>>& inputs) {
  const std::vector<std::vector<uint8_t>> outputs = runner_->run(inputs, 1);
  std::vector<std::vector<float>> values;
  for (size_t i = 0; i < graph_.inputs.size(); ++i) {
    const ir::Tensor& t = graph_.tensors[static_cast<size_t>(graph_.inputs[i])];
    values.push_back(as_floats(t, inputs[i].data(), static_cast<size_t>(t.bytes())));
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const ir::Tensor& t = graph_.tensors[static_cast<size_t>(tensors_[graph_.inputs.size() + k])];
    values.push_back(as_floats(t, outputs[k].data(), outputs[k].size()));
  }
  return values;
}

}  // namespace tinyforge::quantize
