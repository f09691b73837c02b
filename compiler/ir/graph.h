// Graph IR: what every importer produces and every pass and the planner consume.
// Layout conventions are TFLite's (NHWC activations; conv filters [OC,KH,KW,IC/groups];
// depthwise filters [1,KH,KW,IC*M]; fully-connected weights [OUT,IN]); importers of other
// formats convert once, offline. Nodes are kept in a valid execution order.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/params.h"
#include "tinyforge/dtype.h"
#include "tinyforge/ops.h"

namespace tinyforge::ir {

struct Quant {
  std::vector<float> scale;         // 1 entry per tensor, or 1 per channel along `axis`
  std::vector<int32_t> zero_point;  // same count as scale
  int32_t axis = 0;
  bool present() const { return !scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
};

struct Tensor {
  std::string name;
  DType type = DType::f32;
  std::vector<int32_t> shape;
  Quant quant;
  bool constant = false;      // data holds its value
  std::vector<uint8_t> data;  // little-endian elements, for constants
  // A stateful op's memory (TFLite's variable tensor, e.g. SVDF's activation state): zero
  // before the first invocation, updated in place by the op, kept between invocations.
  bool variable = false;

  int64_t elements() const {
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    return n;
  }
  int64_t bytes() const { return elements() * dtype_size(type); }
  template <typename T>
  T at(int64_t i) const {
    T v;
    std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
    return v;
  }
};

enum class Activation : uint8_t { none, relu, relu_n1_to_1, relu6 };
enum class Padding : uint8_t { valid, same, explicit_pads };

struct Node {
  OpCode op;
  std::vector<int> inputs;  // tensor indices; -1 for an absent optional input
  std::vector<int> outputs;
  Params params{};        // the op's attributes, its own struct (ir/params.h)
  std::string name;       // for messages; may be empty
  int source_index = -1;  // the model operator it came from, for messages; -1: made by a pass
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<int> inputs;  // model inputs (tensor indices), in model order
  std::vector<int> outputs;
  std::string source;  // file name, for messages

  int add_tensor(Tensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }
  // Throws Error unless every index is in range, every non-constant tensor read by a node
  // is a model input or written by an earlier node, and no tensor is written twice
  // (which also rules out cycles).
  void check() const;
  std::string node_label(size_t node_index) const;  // "op 3 (CONV_2D 'name')"
};

}  // namespace tinyforge::ir
