#include "prune/magnitude_prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/host_op.h"

namespace tinyforge::prune {
namespace {

// The constant weight tensors of weighted nodes, each once, in node order.
std::vector<int> weight_tensors(const ir::Graph& g) {
  std::vector<int> out;
  for (const ir::Node& n : g.nodes) {
    if (!ops::has_weights(n.op) || n.inputs.size() < 2 || n.inputs[1] < 0) continue;
    const int w = n.inputs[1];
    const ir::Tensor& t = g.tensors[static_cast<size_t>(w)];
    if (!t.constant || (t.type != DType::f32 && t.type != DType::i8)) continue;
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  }
  return out;
}

// |real value| of element i (int8: per-channel scale along quant.axis).
std::vector<float> magnitudes(const ir::Tensor& t) {
  std::vector<float> m(static_cast<size_t>(t.elements()));
  if (t.type == DType::f32) {
    for (int64_t i = 0; i < t.elements(); ++i) m[static_cast<size_t>(i)] = std::abs(t.at<float>(i));
    return m;
  }
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(t.quant.axis) + 1; d < t.shape.size(); ++d)
    inner *= t.shape[d];
  const auto channels = static_cast<int64_t>(t.quant.scale.size());
  for (int64_t i = 0; i < t.elements(); ++i) {
    const float scale =
        channels == 0
            ? 1.0f
            : t.quant.scale[static_cast<size_t>(channels == 1 ? 0 : (i / inner) % channels)];
    m[static_cast<size_t>(i)] = std::abs(scale * static_cast<float>(t.at<int8_t>(i)));
  }
  return m;
}

bool is_zero(const ir::Tensor& t, int64_t i) {
  return t.type == DType::f32 ? t.at<float>(i) == 0.0f : t.at<int8_t>(i) == 0;
}

void set_zero(ir::Tensor& t, int64_t i) {
  const size_t size = dtype_size(t.type);
  // int8 zero point of weights is 0 (symmetric), so q = 0 is real 0 for both types.
  std::fill_n(t.data.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(i) * size), size,
              uint8_t{0});
}

}  // namespace

int64_t prune_unstructured(ir::Graph& graph, double sparsity, const LogFn& log) {
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    throw tinyforge::Error(
        fmt::format("sparsity {} is out of range; expected 0 <= S < 1", sparsity));
  int64_t zeroed = 0;
  for (int w : weight_tensors(graph)) {
    ir::Tensor& t = graph.tensors[static_cast<size_t>(w)];
    const std::vector<float> m = magnitudes(t);
    const auto n = static_cast<int64_t>(m.size());
    const auto k = static_cast<int64_t>(std::floor(sparsity * static_cast<double>(n) + 0.5));
    if (k == 0) continue;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    // Smallest magnitudes first; ties broken by position so the result is deterministic.
    std::nth_element(order.begin(), order.begin() + (k - 1), order.end(),
                     [&](int64_t a, int64_t b) {
                       const float ma = m[static_cast<size_t>(a)], mb = m[static_cast<size_t>(b)];
                       return ma < mb || (ma == mb && a < b);
                     });
    int64_t newly = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t i = order[static_cast<size_t>(j)];
      if (!is_zero(t, i)) ++newly;
      set_zero(t, i);
    }
    zeroed += newly;
    if (log)
      log(fmt::format("'{}': {} of {} weights zero ({:.1f}%)", t.name, k, n,
                      100.0 * static_cast<double>(k) / static_cast<double>(n)));
  }
  return zeroed;
}

double weight_sparsity(const ir::Graph& graph) {
  int64_t zeros = 0, total = 0;
  for (int w : weight_tensors(graph)) {
    const ir::Tensor& t = graph.tensors[static_cast<size_t>(w)];
    for (int64_t i = 0; i < t.elements(); ++i) zeros += is_zero(t, i) ? 1 : 0;
    total += t.elements();
  }
  return total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total);
}

}  // namespace tinyforge::prune
