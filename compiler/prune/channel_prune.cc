#include "prune/channel_prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "ops/host_op.h"

namespace tinyforge::prune {
namespace {

// Why a layer cannot be pruned (for the log), or nothing.
using Refusal = std::optional<std::string>;

// Keeps the entries of `t` whose index along `axis` is marked in `keep`; per-channel
// quantization along that axis is sliced too.
void slice_axis(ir::Tensor& t, size_t axis, const std::vector<char>& keep) {
  const size_t elem = dtype_size(t.type);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= t.shape[d];
  for (size_t d = axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  const int32_t n = t.shape[axis];
  const auto kept = static_cast<int32_t>(std::count(keep.begin(), keep.end(), 1));
  if (t.constant) {
    std::vector<uint8_t> data;
    data.reserve(static_cast<size_t>(outer * kept * inner) * elem);
    const size_t run = static_cast<size_t>(inner) * elem;
    for (int64_t o = 0; o < outer; ++o)
      for (int32_t c = 0; c < n; ++c)
        if (keep[static_cast<size_t>(c)]) {
          const size_t at = static_cast<size_t>((o * n + c) * inner) * elem;
          data.insert(data.end(), t.data.begin() + static_cast<ptrdiff_t>(at),
                      t.data.begin() + static_cast<ptrdiff_t>(at + run));
        }
    t.data = std::move(data);
  }
  if (t.quant.per_channel() && static_cast<size_t>(t.quant.axis) == axis) {
    ir::Quant q;
    q.axis = t.quant.axis;
    for (int32_t c = 0; c < n; ++c)
      if (keep[static_cast<size_t>(c)]) {
        q.scale.push_back(t.quant.scale[static_cast<size_t>(c)]);
        q.zero_point.push_back(
            t.quant.zero_point.empty() ? 0 : t.quant.zero_point[static_cast<size_t>(c)]);
      }
    t.quant = std::move(q);
  }
  t.shape[axis] = kept;
}

// FullyConnected weights [OUT, IN]: keeps column j when channel j % period is kept.
void slice_columns(ir::Tensor& w, int32_t period, const std::vector<char>& keep) {
  std::vector<char> columns(static_cast<size_t>(w.shape[1]));
  for (int32_t j = 0; j < w.shape[1]; ++j)
    columns[static_cast<size_t>(j)] = keep[static_cast<size_t>(j % period)];
  slice_axis(w, 1, columns);
}

// Squared L2 norm of each slice of `w` along axis 0 (int8: dequantized).
std::vector<double> row_norms(const ir::Tensor& w) {
  const int32_t rows = w.shape[0];
  const int64_t per_row = w.elements() / rows;
  std::vector<double> norms(static_cast<size_t>(rows), 0.0);
  for (int64_t i = 0; i < w.elements(); ++i) {
    const int64_t r = i / per_row;
    double v = 0;
    if (w.type == DType::f32) {
      v = w.at<float>(i);
    } else if (w.type == DType::i8) {
      const size_t s = w.quant.scale.size() > 1 ? static_cast<size_t>(r) : 0;
      v = static_cast<double>(w.quant.scale.empty() ? 1.0f : w.quant.scale[s]) * w.at<int8_t>(i);
    }
    norms[static_cast<size_t>(r)] += v * v;
  }
  return norms;
}

class Pruner {
 public:
  using LogFn = std::function<void(const std::string&)>;

  Pruner(ir::Graph& g, double sparsity) : g_(g), sparsity_(sparsity) {}

  // One step of the channel's way from the pruned layer to the next weighted layer.
  struct Step {
    size_t node;
    int32_t period;  // channel period of the node's input (its last dim holds k * period)
  };
  struct Chain {
    std::vector<Step> pass;    // nodes the channels flow through
    Step end{};                // the next weighted layer
    std::vector<int> tensors;  // activations whose last dim shrinks (through the end's input)
  };

  Refusal prune_layer(size_t p, const LogFn& log, ChannelPruneResult& result) {
    const ir::Node& n = g_.nodes[p];
    const int w = n.inputs.at(1);
    if (Refusal r = weight_refusal(p, w)) return r;
    const ir::Tensor& weights = g_.tensors[static_cast<size_t>(w)];
    if (weights.shape.size() == 4 &&  // conv filter [OC,KH,KW,IC/groups]
        g_.tensors[static_cast<size_t>(n.inputs[0])].shape.back() != weights.shape.back())
      return "grouped convolution";
    const int32_t channels = weights.shape[0];
    const auto remove = static_cast<int32_t>(std::floor(sparsity_ * channels));
    const int32_t kept = std::max(channels - remove, 1);
    if (kept == channels) return "nothing to remove at this sparsity";
    Chain chain;
    if (Refusal r = find_chain(n.outputs[0], channels, chain)) return r;

    const std::vector<double> norms = row_norms(weights);
    std::vector<int32_t> order(static_cast<size_t>(channels));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return norms[static_cast<size_t>(a)] > norms[static_cast<size_t>(b)];
    });
    std::vector<char> keep(static_cast<size_t>(channels), 0);
    for (int32_t i = 0; i < kept; ++i) keep[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;

    apply(p, chain, channels, keep);
    std::vector<int32_t> kept_indices;
    for (int32_t c = 0; c < channels; ++c)
      if (keep[static_cast<size_t>(c)]) kept_indices.push_back(c);
    result.kept_channels[p] = kept_indices;
    for (const Step& s : chain.pass)
      if (ops::traits(g_.nodes[s.node].op).channels == ir::ChannelRule::depthwise)
        result.kept_channels[s.node] = kept_indices;
    ++result.layers;
    result.channels_removed += channels - kept;
    if (log)
      log(fmt::format("{}: {} -> {} output channels (next: {})", g_.node_label(p), channels, kept,
                      g_.node_label(chain.end.node)));
    return std::nullopt;
  }

 private:
  std::vector<size_t> consumers(int t) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      for (int in : g_.nodes[i].inputs)
        if (in == t) {
          out.push_back(i);
          break;
        }
    return out;
  }

  bool is_model_output(int t) const {
    return std::find(g_.outputs.begin(), g_.outputs.end(), t) != g_.outputs.end();
  }

  // A weight (or bias) tensor we may reshape: constant and read by one node only.
  Refusal weight_refusal(size_t node, int t) const {
    if (t < 0) return std::nullopt;
    if (!g_.tensors[static_cast<size_t>(t)].constant)
      return fmt::format("{} has non-constant weights", g_.node_label(node));
    if (consumers(t).size() != 1) return fmt::format("{} shares its weights", g_.node_label(node));
    return std::nullopt;
  }

  Refusal find_chain(int t, int32_t channels, Chain& chain) const {
    int32_t period = channels;
    for (;;) {
      if (is_model_output(t)) return "its channels reach a model output";
      const std::vector<size_t> next = consumers(t);
      if (next.size() != 1) return fmt::format("its output is read by {} ops", next.size());
      const size_t c = next[0];
      const ir::Node& n = g_.nodes[c];
      if (n.inputs.empty() || n.inputs[0] != t)
        return fmt::format("its output is a secondary operand of {}", g_.node_label(c));
      const std::vector<int32_t>& shape = g_.tensors[static_cast<size_t>(t)].shape;
      if (shape.empty() || shape.back() % period != 0)
        return fmt::format("tensor '{}' does not hold channels last",
                           g_.tensors[static_cast<size_t>(t)].name);
      const bool channels_last = shape.back() == period;
      const Step step{c, period};
      chain.tensors.push_back(t);
      switch (ops::traits(n.op).channels) {
        case ir::ChannelRule::consumes: {
          // Conv filters [OC,KH,KW,IC/groups] read channels on their last axis; FC weights
          // [OUT,IN] in rows of the flattened input.
          const ir::Tensor& w = g_.tensors[static_cast<size_t>(n.inputs.at(1))];
          if (w.shape.size() == 4 && (!channels_last || w.shape.back() != period))
            return fmt::format("{} is grouped", g_.node_label(c));
          if (w.shape.size() == 2 && w.shape[1] != shape.back())
            return fmt::format("{} reads rows other than the channel layout", g_.node_label(c));
          if (w.shape.size() != 4 && w.shape.size() != 2)
            return fmt::format("{} has weights of rank {}", g_.node_label(c), w.shape.size());
          if (Refusal r = weight_refusal(c, n.inputs[1])) return r;
          chain.end = step;
          return std::nullopt;
        }
        case ir::ChannelRule::depthwise:
          if (!channels_last) return fmt::format("{} filters a flattened tensor", g_.node_label(c));
          if (const char* why = ops::host_op(n.op).blocks_channels(n))
            return fmt::format("{} {}", g_.node_label(c), why);
          if (Refusal r = weight_refusal(c, n.inputs.at(1))) return r;
          if (n.inputs.size() > 2)
            if (Refusal r = weight_refusal(c, n.inputs[2])) return r;
          break;
        case ir::ChannelRule::window:
          if (!channels_last) return fmt::format("{} pools a flattened tensor", g_.node_label(c));
          break;
        case ir::ChannelRule::pad:
          if (const auto blocks = ops::host_op(n.op).blocks_channels)
            if (const char* why = blocks(n)) return fmt::format("{} {}", g_.node_label(c), why);
          break;
        case ir::ChannelRule::flatten: {
          // A flatten of trailing dims: the output's last dim holds whole input rows.
          const std::vector<int32_t>& out = g_.tensors[static_cast<size_t>(n.outputs[0])].shape;
          int64_t trailing = 1;
          bool flatten = false;
          for (size_t d = shape.size(); d-- > 0;) {
            trailing *= shape[d];
            if (!out.empty() && trailing == out.back()) flatten = true;
          }
          if (!flatten) return fmt::format("{} does not flatten trailing dims", g_.node_label(c));
          break;
        }
        case ir::ChannelRule::elementwise:
          break;
        case ir::ChannelRule::blocks:
          return fmt::format("its channels flow into {}", g_.node_label(c));
      }
      chain.pass.push_back(step);
      t = n.outputs[0];
    }
  }

  void shrink_last_dim(int t, int32_t channels, int32_t kept) {
    std::vector<int32_t>& shape = g_.tensors[static_cast<size_t>(t)].shape;
    shape.back() = shape.back() / channels * kept;
  }

  void apply(size_t p, const Chain& chain, int32_t channels, const std::vector<char>& keep) {
    const auto kept = static_cast<int32_t>(std::count(keep.begin(), keep.end(), 1));
    const ir::Node& n = g_.nodes[p];
    slice_axis(g_.tensors[static_cast<size_t>(n.inputs[1])], 0, keep);
    if (n.inputs.size() > 2 && n.inputs[2] >= 0)
      slice_axis(g_.tensors[static_cast<size_t>(n.inputs[2])], 0, keep);
    for (const Step& s : chain.pass) {
      const ir::Node& m = g_.nodes[s.node];
      if (ops::traits(m.op).channels == ir::ChannelRule::depthwise) {
        slice_axis(g_.tensors[static_cast<size_t>(m.inputs[1])], 3, keep);
        if (m.inputs.size() > 2 && m.inputs[2] >= 0)
          slice_axis(g_.tensors[static_cast<size_t>(m.inputs[2])], 0, keep);
      }
    }
    for (int t : chain.tensors) shrink_last_dim(t, channels, kept);
    const ir::Node& end = g_.nodes[chain.end.node];
    ir::Tensor& w = g_.tensors[static_cast<size_t>(end.inputs[1])];
    if (w.shape.size() == 4)  // conv filter: input channels last
      slice_axis(w, 3, keep);
    else
      slice_columns(w, chain.end.period, keep);
  }

  ir::Graph& g_;
  double sparsity_;
};

}  // namespace

ChannelPruneResult prune_channels(ir::Graph& graph, double sparsity,
                                  const std::function<void(const std::string&)>& log) {
  if (!(sparsity >= 0.0 && sparsity < 1.0))
    throw tinyforge::Error(
        fmt::format("sparsity {} is out of range; expected 0 <= S < 1", sparsity));
  graph.check();
  ChannelPruneResult result;
  result.kept_channels.resize(graph.nodes.size());
  Pruner pruner(graph, sparsity);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const OpCode op = graph.nodes[i].op;
    if (ops::traits(op).channels != ir::ChannelRule::consumes) continue;
    if (graph.nodes[i].inputs.size() < 2 || graph.nodes[i].inputs[1] < 0) continue;
    const Refusal why = pruner.prune_layer(i, log, result);
    if (why && log) log(fmt::format("{}: kept whole ({})", graph.node_label(i), *why));
  }
  return result;
}

}  // namespace tinyforge::prune
