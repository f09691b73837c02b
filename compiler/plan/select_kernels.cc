#include "plan/select_kernels.h"

#include <algorithm>

#include "ops/conv.h"
#include "plan/pack_dsp.h"

namespace tinyforge::plan {
namespace {

// A depthwise layer of multiplier above 1 runs as a Conv2DDsp whose filter is block
// diagonal: C input channels cost C times the depthwise MACs and filter bytes, all but 1/C
// of them zeros. On a Cortex-M4 that is 3-5x faster than the reference kernel up to C = 8
// and still 2.5x at C = 16 (bench/results/depthwise_multiplier.md); this bound keeps the
// filter's flash within 8x, wider layers keep the reference kernel.
constexpr int32_t kMaxConvFormInputChannels = 8;

// A pruned FullyConnected [units][depth] runs as FullyConnectedSparse when that saves both
// cycles and flash. Costs measured on the emulated Cortex-M4 (bench/results/sparsity.md,
// ad01 per layer): FullyConnectedDsp about 1.5 cycles a weight; FullyConnectedSparse about
// 5.5 an entry plus 100 a unit (its output stage), 2 bytes an entry against 1 a weight.
bool sparse_pays(const std::vector<int8_t>& filter, int32_t units, int32_t depth) {
  int64_t entries = 0;
  for (int32_t e : sparse_fc_filter(filter, units, depth).entries) entries += e;
  const int64_t weights = int64_t{units} * depth;
  return 11 * entries + 200 * int64_t{units} < 3 * weights && 2 * entries < weights;
}

bool valid_index(const ir::Graph& g, int t) {
  return t >= 0 && t < static_cast<int>(g.tensors.size());
}

const ir::Tensor* tensor_at(const ir::Graph& g, const std::vector<int>& indices, size_t i) {
  if (i >= indices.size() || !valid_index(g, indices[i])) return nullptr;
  return &g.tensors[indices[i]];
}

bool is_int8_rank(const ir::Tensor* t, size_t rank) {
  return t && t->type == DType::i8 && t->shape.size() == rank;
}

bool is_constant_int8(const ir::Tensor* t) {
  return t && t->constant && t->type == DType::i8 &&
         t->data.size() == static_cast<size_t>(t->bytes());
}

// The optional bias (input 2) is absent or a constant int32 tensor.
bool bias_ok(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() < 3 || n.inputs[2] < 0) return true;
  const ir::Tensor* b = tensor_at(g, n.inputs, 2);
  return b && b->constant && b->type == DType::i32 &&
         b->data.size() == static_cast<size_t>(b->bytes());
}

std::vector<int8_t> as_int8(const ir::Tensor& t) {
  std::vector<int8_t> v(t.data.size());
  std::transform(t.data.begin(), t.data.end(), v.begin(),
                 [](uint8_t b) { return static_cast<int8_t>(b); });
  return v;
}

// Rewrites depthwise node `node_index` (multiplier M = output / input channels) into the Conv2D it
// equals, with the filter [C*M, KH, KW, C] of depthwise_filter_as_conv (pack_dsp.h), so it
// lowers to Conv2DDsp. Why the results are equal bit for bit: output channel oc of the
// depthwise reference sums (x[c] + input_offset) * w over the window of input channel
// c = oc / M; the conv's channel oc sums over the window of every input channel, with the
// same weights for channel c and weight 0 for the others, whose products add 0 (sums are
// modulo 2^32, so their order does not matter either). Padding taps add nothing in both
// (skipped by the references, zero pairs in Conv2DDsp); strides, dilations, bias,
// per-channel multipliers, zero points and the activation clamp are per output channel and
// carried over unchanged. With C = 1 the filter is only reshaped (no zero products).
void depthwise_as_conv(ir::Graph& g, size_t node_index) {
  ir::Node& n = g.nodes[node_index];
  const ir::Tensor& depthwise = g.tensors[n.inputs[1]];
  const int32_t in_c = g.tensors[n.inputs[0]].shape[3], out_c = depthwise.shape[3];
  const int32_t kh = depthwise.shape[1], kw = depthwise.shape[2];
  const std::vector<int8_t> weights =
      depthwise_filter_as_conv(as_int8(depthwise), kh * kw, in_c, out_c / in_c);
  ir::Tensor conv;
  conv.name = depthwise.name + "/as_conv";
  conv.type = DType::i8;
  conv.shape = {out_c, kh, kw, in_c};
  conv.quant = depthwise.quant;
  conv.quant.axis = 0;  // the output channels' axis of a conv filter
  conv.constant = true;
  conv.data.assign(weights.begin(), weights.end());
  const int filter = g.add_tensor(std::move(conv));  // invalidates `depthwise`
  n.inputs[1] = filter;
  n.params.get_or_set_default<ops::ConvAttrs>().depth_multiplier = 1;
  n.op = OpCode::Conv2DDsp;
}

}  // namespace

KernelSet kernel_set_for(const std::vector<std::string>& cpu_flags) {
  static const char* const kDspCores[] = {"cortex-m4",   "cortex-m7",  "cortex-m33",
                                          "cortex-m35p", "cortex-m55", "cortex-m85"};
  const std::string prefix = "-mcpu=";
  for (const std::string& flag : cpu_flags) {
    if (flag.rfind(prefix, 0) != 0) continue;
    const std::string cpu = flag.substr(prefix.size());
    if (cpu.find("+nodsp") != std::string::npos) return KernelSet::reference;
    const std::string core = cpu.substr(0, cpu.find('+'));
    for (const char* c : kDspCores)
      if (core == c) return KernelSet::armv7em;
  }
  return KernelSet::reference;
}

bool is_dsp_twin(OpCode op) {
  switch (op) {
    case OpCode::Conv2DDsp:
    case OpCode::DepthwiseConv2DDsp:
    case OpCode::FullyConnectedDsp:
    case OpCode::FullyConnectedSparse:
    case OpCode::AveragePool2DDsp:
    case OpCode::AddDsp:
    case OpCode::ConvChainDsp:
      return true;
    default:
      return false;
  }
}

std::optional<OpCode> dsp_twin(const ir::Graph& g, size_t node_index) {
  const ir::Node& n = g.nodes.at(node_index);
  if (n.outputs.size() != 1 || !valid_index(g, n.outputs[0])) return std::nullopt;
  const ir::Tensor* in = tensor_at(g, n.inputs, 0);
  const ir::Tensor* out = &g.tensors[n.outputs[0]];
  switch (n.op) {
    case OpCode::Conv2D: {
      const ir::Tensor* filter = tensor_at(g, n.inputs, 1);
      if (!is_int8_rank(in, 4) || !is_int8_rank(out, 4) || !is_constant_int8(filter) ||
          filter->shape.size() != 4 || filter->shape[3] != in->shape[3] || !bias_ok(g, n) ||
          !dual_packable(as_int8(*filter)))
        return std::nullopt;
      return OpCode::Conv2DDsp;
    }
    case OpCode::DepthwiseConv2D: {
      const ir::Tensor* filter = tensor_at(g, n.inputs, 1);
      if (!is_int8_rank(in, 4) || !is_int8_rank(out, 4) || !is_constant_int8(filter) ||
          filter->shape.size() != 4 || filter->shape[0] != 1 || !bias_ok(g, n))
        return std::nullopt;
      const int32_t in_c = in->shape[3], out_c = filter->shape[3];
      const bool multiplier_one = out_c == in_c;
      // Multiplier above 1, or 1 input channel (where DepthwiseConv2DDsp would fill 1 lane
      // of 4): as a Conv2D (depthwise_as_conv), when the block-diagonal filter costs few
      // enough zero products and the reference's own checks would pass on it.
      const bool axis_ok = !filter->quant.per_channel() || filter->quant.axis == 3;
      if ((!multiplier_one || in_c == 1) && in_c >= 1 && in_c <= kMaxConvFormInputChannels &&
          out_c % in_c == 0 && out->shape[3] == out_c && axis_ok && dual_packable(as_int8(*filter)))
        return OpCode::Conv2DDsp;
      if (multiplier_one) return OpCode::DepthwiseConv2DDsp;
      return std::nullopt;
    }
    case OpCode::FullyConnected: {
      const ir::Tensor* filter = tensor_at(g, n.inputs, 1);
      if (!in || in->type != DType::i8 || out->type != DType::i8 || !is_constant_int8(filter) ||
          filter->shape.size() != 2 || !bias_ok(g, n))
        return std::nullopt;
      const std::vector<int8_t> w = as_int8(*filter);
      const int32_t units = filter->shape[0], depth = filter->shape[1];
      if (sparse_pays(w, units, depth)) return OpCode::FullyConnectedSparse;
      if (!dual_packable(w)) return std::nullopt;
      return OpCode::FullyConnectedDsp;
    }
    case OpCode::AveragePool2D:
      if (!is_int8_rank(in, 4) || !is_int8_rank(out, 4)) return std::nullopt;
      return OpCode::AveragePool2DDsp;
    case OpCode::Add: {
      const ir::Tensor* b = tensor_at(g, n.inputs, 1);
      if (!in || !b || in->type != DType::i8 || b->type != DType::i8 || out->type != DType::i8 ||
          in->shape != out->shape || b->shape != out->shape)
        return std::nullopt;
      return OpCode::AddDsp;
    }
    default:
      return std::nullopt;
  }
}

bool is_int16_twin(OpCode op) {
  return op == OpCode::Conv2DInt16 || op == OpCode::DepthwiseConv2DInt16 ||
         op == OpCode::FullyConnectedInt16;
}

std::optional<OpCode> int16_twin(const ir::Graph& g, size_t node_index) {
  const ir::Node& n = g.nodes.at(node_index);
  const ir::Tensor* in = tensor_at(g, n.inputs, 0);
  if (!in || in->type != DType::i16) return std::nullopt;
  switch (n.op) {
    case OpCode::Conv2D:
      return OpCode::Conv2DInt16;
    case OpCode::DepthwiseConv2D:
      return OpCode::DepthwiseConv2DInt16;
    case OpCode::FullyConnected:
      return OpCode::FullyConnectedInt16;
    default:
      return std::nullopt;
  }
}

void select_kernels(ir::Graph& graph, KernelSet set) {
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (const std::optional<OpCode> twin = int16_twin(graph, i)) graph.nodes[i].op = *twin;
  if (set != KernelSet::armv7em) return;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const std::optional<OpCode> twin = dsp_twin(graph, i);
    if (!twin) continue;
    if (graph.nodes[i].op == OpCode::DepthwiseConv2D && *twin == OpCode::Conv2DDsp)
      depthwise_as_conv(graph, i);
    else
      graph.nodes[i].op = *twin;
  }
}

}  // namespace tinyforge::plan
