// Small float graphs built directly in the IR with seeded random weights, and a helper to
// run any graph on the host with the device runtime: for the quantizer, pruning and
// TFLite writer tests, so they need no third-party files.
#pragma once
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "ir/graph.h"
#include "ops/conv.h"
#include "ops/pool.h"
#include "ops/softmax.h"
#include "plan/build_plan.h"

namespace tinyforge::testing {

class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed = 1) : rng_(seed) {}

  int activation(const std::string& name, std::vector<int32_t> shape) {
    ir::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    return g.add_tensor(std::move(t));
  }
  // Float constant with values uniform in [-range, range] (plus `offset`).
  int weights(const std::string& name, std::vector<int32_t> shape, float range, float offset = 0) {
    ir::Tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.constant = true;
    std::uniform_real_distribution<float> u(-range, range);
    std::vector<float> v(static_cast<size_t>(t.elements()));
    for (float& x : v) x = u(rng_) + offset;
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return g.add_tensor(std::move(t));
  }
  void node(OpCode op, std::vector<int> inputs, int output, ir::Params params = {}) {
    g.nodes.push_back(ir::Node{op, std::move(inputs), {output}, std::move(params), ""});
  }

  ir::Graph g;

 private:
  std::mt19937 rng_;
};

// input [1,8,8,2] -> Conv2D 3x3 SAME (8, relu) -> MaxPool 2x2 -> Conv2D 3x3 SAME (6, relu6)
// -> DepthwiseConv2D 3x3 SAME -> Reshape [1,96] -> FullyConnected (10) -> Softmax.
inline ir::Graph small_float_cnn(uint32_t seed = 1) {
  GraphBuilder b(seed);
  const int in = b.activation("input", {1, 8, 8, 2});
  const int c1 = b.activation("conv1", {1, 8, 8, 8});
  const int p1 = b.activation("pool1", {1, 4, 4, 8});
  const int c2 = b.activation("conv2", {1, 4, 4, 6});
  const int d1 = b.activation("dw", {1, 4, 4, 6});
  const int flat = b.activation("flat", {1, 96});
  const int logits = b.activation("logits", {1, 10});
  const int probs = b.activation("probs", {1, 10});
  ops::ConvAttrs conv;
  conv.window.padding = ir::Padding::same;
  conv.activation = ir::Activation::relu;
  b.node(OpCode::Conv2D, {in, b.weights("w1", {8, 3, 3, 2}, 0.5f), b.weights("b1", {8}, 0.1f)}, c1,
         conv);
  ops::PoolAttrs pool;
  pool.window.filter_h = pool.window.filter_w = 2;
  pool.window.stride_h = pool.window.stride_w = 2;
  b.node(OpCode::MaxPool2D, {c1}, p1, pool);
  conv.activation = ir::Activation::relu6;
  b.node(OpCode::Conv2D, {p1, b.weights("w2", {6, 3, 3, 8}, 0.3f), b.weights("b2", {6}, 0.1f)}, c2,
         conv);
  ops::ConvAttrs dw = conv;
  dw.activation = ir::Activation::none;
  b.node(OpCode::DepthwiseConv2D,
         {c2, b.weights("w3", {1, 3, 3, 6}, 0.5f), b.weights("b3", {6}, 0.1f)}, d1, dw);
  b.node(OpCode::Reshape, {d1}, flat);
  b.node(OpCode::FullyConnected,
         {flat, b.weights("w4", {10, 96}, 0.3f), b.weights("b4", {10}, 0.1f)}, logits);
  b.node(OpCode::Softmax, {logits}, probs, ops::SoftmaxAttrs{});
  b.g.inputs = {in};
  b.g.outputs = {probs};
  b.g.source = "small_float_cnn";
  b.g.check();
  return b.g;
}

// `cases` float32 tensors uniform in [lo, hi], as raw bytes.
inline std::vector<uint8_t> random_floats(size_t count, uint32_t seed, float lo = -1,
                                          float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<uint8_t> bytes(count * 4);
  for (size_t i = 0; i < count; ++i) {
    const float v = u(rng);
    std::memcpy(bytes.data() + i * 4, &v, 4);
  }
  return bytes;
}

// Compiles `g` and runs `cases` cases; returns every model output's bytes.
inline std::vector<std::vector<uint8_t>> run_graph_outputs(
    const ir::Graph& g, const std::vector<std::vector<uint8_t>>& inputs, uint32_t cases) {
  const std::vector<uint8_t> blob = emit::write_plan_blob(plan::build_plan(g));
  host::HostRunner runner(blob, g.source);
  return runner.run(inputs, cases);
}

// Compiles `g` and runs `cases` cases; returns output 0's bytes.
inline std::vector<uint8_t> run_graph(const ir::Graph& g,
                                      const std::vector<std::vector<uint8_t>>& inputs,
                                      uint32_t cases) {
  return run_graph_outputs(g, inputs, cases).at(0);
}

inline std::vector<float> as_floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

}  // namespace tinyforge::testing
