#include "plan/select_kernels.h"

#include <algorithm>

#include "plan/pack_dsp.h"

namespace tinyforge::plan {
namespace {

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
    case OpCode::AveragePool2DDsp:
    case OpCode::AddDsp:
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
          filter->shape.size() != 4 || filter->shape[0] != 1 || filter->shape[3] != in->shape[3] ||
          !bias_ok(g, n))
        return std::nullopt;
      return OpCode::DepthwiseConv2DDsp;
    }
    case OpCode::FullyConnected: {
      const ir::Tensor* filter = tensor_at(g, n.inputs, 1);
      if (!in || in->type != DType::i8 || out->type != DType::i8 || !is_constant_int8(filter) ||
          filter->shape.size() != 2 || !bias_ok(g, n) || !dual_packable(as_int8(*filter)))
        return std::nullopt;
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

void select_kernels(ir::Graph& graph, KernelSet set) {
  if (set != KernelSet::armv7em) return;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (const std::optional<OpCode> twin = dsp_twin(graph, i)) graph.nodes[i].op = *twin;
}

}  // namespace tinyforge::plan
