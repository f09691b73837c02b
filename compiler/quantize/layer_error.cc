#include "quantize/layer_error.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "quantize/graph_probe.h"
#include "quantize/quant_params.h"

namespace tinyforge::quantize {
namespace {

std::string source_name(const std::string& name) {
  const std::string suffix = "_int8";
  if (name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    return name.substr(0, name.size() - suffix.size());
  return name;
}

// One case of float input bytes as the quantized model's input `t` wants them.
std::vector<uint8_t> converted_input(const ir::Tensor& t, const uint8_t* floats, size_t count) {
  if (t.type != DType::i8) return std::vector<uint8_t>(floats, floats + count * 4);
  std::vector<uint8_t> q(count);
  for (size_t i = 0; i < count; ++i) {
    float v;
    std::memcpy(&v, floats + i * 4, 4);
    q[i] = static_cast<uint8_t>(quantize_value(v, t.quant.scale.at(0), t.quant.zero_point.at(0)));
  }
  return q;
}

struct Sums {
  double signal = 0, noise = 0;
};

}  // namespace

double sqnr_db(const std::vector<float>& reference, const std::vector<float>& test) {
  Sums s;
  for (size_t i = 0; i < reference.size() && i < test.size(); ++i) {
    const double r = reference[i], d = r - static_cast<double>(test[i]);
    s.signal += r * r;
    s.noise += d * d;
  }
  if (s.noise == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(s.signal / s.noise);
}

std::vector<LayerError> layer_errors(const ir::Graph& float_graph, const ir::Graph& quantized,
                                     const CalibrationSet& data) {
  GraphProbe fp(float_graph), qp(quantized);
  // Probe slot in the quantized graph of each probed float tensor, by name.
  std::map<std::string, size_t> q_slot;
  for (size_t k = 0; k < qp.tensors().size(); ++k) {
    const ir::Tensor& t = quantized.tensors[static_cast<size_t>(qp.tensors()[k])];
    if (t.type == DType::i8) q_slot.emplace(source_name(t.name), k);
  }
  std::vector<std::pair<size_t, size_t>> pairs;  // (float slot, quantized slot)
  for (size_t k = 0; k < fp.tensors().size(); ++k) {
    const auto found = q_slot.find(float_graph.tensors[static_cast<size_t>(fp.tensors()[k])].name);
    if (found != q_slot.end()) pairs.emplace_back(k, found->second);
  }
  std::vector<Sums> sums(pairs.size());
  const std::vector<uint32_t> bytes = input_tensor_bytes(float_graph);
  for (uint32_t c = 0; c < data.cases; ++c) {
    std::vector<std::vector<uint8_t>> f_in, q_in;
    for (size_t i = 0; i < bytes.size(); ++i) {
      const uint8_t* begin = data.inputs[i].data() + uint64_t{c} * bytes[i];
      f_in.emplace_back(begin, begin + bytes[i]);
      q_in.push_back(converted_input(
          quantized.tensors.at(static_cast<size_t>(quantized.inputs.at(i))), begin, bytes[i] / 4));
    }
    const auto fv = fp.run(f_in);
    const auto qv = qp.run(q_in);
    for (size_t p = 0; p < pairs.size(); ++p) {
      const std::vector<float>& r = fv[pairs[p].first];
      const std::vector<float>& q = qv[pairs[p].second];
      for (size_t i = 0; i < r.size() && i < q.size(); ++i) {
        const double d = static_cast<double>(r[i]) - q[i];
        sums[p].signal += static_cast<double>(r[i]) * r[i];
        sums[p].noise += d * d;
      }
    }
  }
  std::vector<LayerError> out;
  for (size_t p = 0; p < pairs.size(); ++p) {
    const double db = sums[p].noise == 0 ? std::numeric_limits<double>::infinity()
                                         : 10.0 * std::log10(sums[p].signal / sums[p].noise);
    out.push_back(
        {float_graph.tensors[static_cast<size_t>(fp.tensors()[pairs[p].first])].name, db});
  }
  return out;
}

}  // namespace tinyforge::quantize
