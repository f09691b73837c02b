#include "plan/conv_chain.h"

#include <algorithm>
#include <limits>

#include "ir/error.h"
#include "plan/overlap.h"
#include "plan/plan.h"
#include "tinyforge/packed.h"

namespace tinyforge::plan {
namespace {

// A chain starting at node `first`: its length (2 or 3 nodes) and its fused op, whose
// inputs 1 and 2 are made by fuse() from the packed constants listed here.
struct Chain {
  size_t first = 0, length = 0;
  LoweredOp fused;
  std::vector<int> filters, records;  // in the order ConvChainDspParams documents
  ConvChainDspParams params{};
  int64_t macs = 0;
  int32_t out_h = 0;
};

// How many times tensor `t` is read by a node or is a model output.
int uses(const ir::Graph& g, const std::vector<LoweredOp>& lowered, int t) {
  int n = static_cast<int>(std::count(g.outputs.begin(), g.outputs.end(), t));
  for (const LoweredOp& op : lowered)
    n += static_cast<int>(std::count(op.inputs.begin(), op.inputs.end(), t));
  return n;
}

int64_t conv_macs(const ir::Graph& g, const LoweredOp& op, int output) {
  const Conv2DDspParams p = params_of<Conv2DDspParams>(op);
  return g.tensors[output].elements() * p.filter_h * p.filter_w * g.tensors[op.inputs[0]].shape[3];
}

std::optional<Chain> match_chain(const ir::Graph& g, const std::vector<LoweredOp>& lowered,
                                 size_t i) {
  if (i + 1 >= g.nodes.size() || g.nodes[i].op != OpCode::Conv2DDsp ||
      g.nodes[i + 1].op != OpCode::Conv2DDsp)
    return std::nullopt;
  const int input = lowered[i].inputs[0], mid = g.nodes[i].outputs[0];
  const int second = g.nodes[i + 1].outputs[0];
  const ir::Tensor& in = g.tensors[input];
  if (lowered[i + 1].inputs[0] != mid || uses(g, lowered, mid) != 1 || in.shape.size() != 4 ||
      in.shape[0] != 1 || in.variable)
    return std::nullopt;
  Chain c;
  c.first = i;
  c.length = 2;
  ConvChainDspParams& p = c.params;
  p.first = params_of<Conv2DDspParams>(lowered[i]);
  p.second = params_of<Conv2DDspParams>(lowered[i + 1]);
  p.mid_h = g.tensors[mid].shape[1];
  p.mid_w = g.tensors[mid].shape[2];
  p.mid_c = g.tensors[mid].shape[3];
  c.filters = {lowered[i].inputs[1], lowered[i + 1].inputs[1]};
  c.records = {lowered[i].inputs[2], lowered[i + 1].inputs[2]};
  c.macs = conv_macs(g, lowered[i], mid) + conv_macs(g, lowered[i + 1], second);
  int output = second;
  // The residual add of the chain's input, when the second conv's output feeds only it.
  if (i + 2 < g.nodes.size() && g.nodes[i + 2].op == OpCode::AddDsp &&
      uses(g, lowered, second) == 1 && g.tensors[g.nodes[i + 2].outputs[0]].shape == in.shape) {
    const std::vector<int>& add_in = lowered[i + 2].inputs;
    const bool input_first = add_in[0] == input && add_in[1] == second;
    if (input_first || (add_in[0] == second && add_in[1] == input)) {
      c.length = 3;
      p.add = params_of<AddDspParams>(lowered[i + 2]);
      p.add_input =
          static_cast<int32_t>(input_first ? ChainAdd::input_first : ChainAdd::input_second);
      c.records.push_back(add_in[2]);
      output = g.nodes[i + 2].outputs[0];
    }
  }
  c.fused.inputs = {input};  // then the packed constants (fuse)
  const std::vector<int32_t>& out = g.tensors[output].shape;
  c.out_h = out[1];
  c.fused.params = params_bytes(p);
  c.fused.scratch_size = conv_chain_dsp_scratch_bytes(p, in.shape[3], out[2], out[3]);
  c.fused.in_place = {{0, conv_chain_gap(p, in.shape, out)}};
  return c;
}

// A new int32 constant [n]: the words of `parts`, one after the other.
int concatenated(ir::Graph& g, const std::vector<int>& parts, const std::string& name) {
  ir::Tensor t;
  t.name = name;
  t.type = DType::i32;
  t.constant = true;
  for (int p : parts) {
    const std::vector<uint8_t>& d = g.tensors.at(p).data;
    t.data.insert(t.data.end(), d.begin(), d.end());
  }
  t.shape = {static_cast<int32_t>(t.data.size() / 4)};
  return g.add_tensor(std::move(t));
}

void fuse(ir::Graph& g, std::vector<LoweredOp>& lowered, Chain c) {
  const std::string base = g.tensors[g.nodes[c.first].outputs[0]].name;
  c.fused.inputs = {c.fused.inputs[0], concatenated(g, c.filters, base + "/chain_filters"),
                    concatenated(g, c.records, base + "/chain_records")};
  ir::Node& n = g.nodes[c.first];
  for (size_t k = 1; k < c.length; ++k) n.name += " + " + g.nodes[c.first + k].name;
  n.op = OpCode::ConvChainDsp;
  n.inputs = c.fused.inputs;
  n.outputs = g.nodes[c.first + c.length - 1].outputs;
  lowered[c.first] = std::move(c.fused);
  const auto from = static_cast<std::ptrdiff_t>(c.first + 1);
  const auto to = static_cast<std::ptrdiff_t>(c.first + c.length);
  g.nodes.erase(g.nodes.begin() + from, g.nodes.begin() + to);
  lowered.erase(lowered.begin() + from, lowered.begin() + to);
}

}  // namespace

const char* optimize_name(Optimize o) {
  switch (o) {
    case Optimize::speed:
      return "speed";
    case Optimize::balanced:
      return "balanced";
    case Optimize::ram:
      return "ram";
  }
  return "?";
}

std::optional<Optimize> parse_optimize(const std::string& name) {
  for (Optimize o : {Optimize::speed, Optimize::balanced, Optimize::ram})
    if (name == optimize_name(o)) return o;
  return std::nullopt;
}

int64_t conv_chain_gap(const ConvChainDspParams& p, const std::vector<int32_t>& in_nhwc,
                       const std::vector<int32_t>& out_nhwc) {
  const int64_t in_row = int64_t{in_nhwc[2]} * in_nhwc[3];
  const int64_t out_row = int64_t{out_nhwc[2]} * out_nhwc[3];
  const int64_t span = int64_t{p.second.filter_h - 1} * p.second.dilation_h + 1;
  const bool add = p.add_input != static_cast<int32_t>(ChainAdd::none);
  // The add writes each output element after reading the input's: truly in place.
  int64_t gap = add ? 0 : kAnyGap;
  int64_t filled = 0;  // middle rows computed so far
  for (int64_t y = 0; y < out_nhwc[1]; ++y) {
    const int64_t top = y * p.second.stride_h - p.second.pad_top;
    filled = std::max({filled, std::min<int64_t>(top + span, p.mid_h)});
    // After output row y is written, the first input byte still to be read: the next
    // middle row's window, and the add's next input row.
    int64_t next = std::numeric_limits<int64_t>::max();
    if (filled < p.mid_h)
      next = std::max<int64_t>(0, filled * p.first.stride_h - p.first.pad_top) * in_row;
    if (add && y + 1 < out_nhwc[1]) next = std::min(next, (y + 1) * in_row);
    if (next != std::numeric_limits<int64_t>::max()) gap = std::max(gap, (y + 1) * out_row - next);
  }
  return gap;
}

bool chain_is_cheap(const ConvChainDspParams& p, int64_t macs, int32_t out_h) {
  const int64_t kept = conv_chain_dsp_mid_rows(p);
  const int64_t moved_rows = std::max<int64_t>(0, kept - p.second.stride_h);
  const int64_t moved_bytes = int64_t{out_h} * moved_rows * p.mid_w * p.mid_c;
  return 100 * moved_bytes <= macs;
}

LoweredOp lower_ConvChainDsp(ir::Graph& g, size_t node_index) {
  throw tinyforge::Error(g.node_label(node_index) +
                         ": a conv chain is formed by the planner from lowered convs, not lowered "
                         "from a node");
}

void fuse_conv_chains(ir::Graph& graph, std::vector<LoweredOp>& lowered, Optimize optimize,
                      const ArenaOf& arena_of) {
  if (optimize == Optimize::speed) return;
  std::optional<uint32_t> arena;  // planned at the first candidate: most graphs have none
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    std::optional<Chain> chain = match_chain(graph, lowered, i);
    if (!chain) continue;
    if (optimize == Optimize::balanced && !chain_is_cheap(chain->params, chain->macs, chain->out_h))
      continue;
    if (!arena) arena = arena_of(graph, lowered);
    ir::Graph g = graph;
    std::vector<LoweredOp> l = lowered;
    fuse(g, l, std::move(*chain));
    const uint32_t fused = arena_of(g, l);
    if (fused < *arena) {
      graph = std::move(g);
      lowered = std::move(l);
      arena = fused;
    }
  }
}

}  // namespace tinyforge::plan
