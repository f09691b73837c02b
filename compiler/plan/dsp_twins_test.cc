// The DSP twins against their reference kernels, bit for bit, on random shapes, strides,
// paddings, activations and quantization (one table of op families, in the spirit of
// ggml's test-backend-ops). Each case is a one-op graph compiled twice -- reference kernels
// and the armv7em set -- through the whole compiler (selection, packing, requantization
// records, scratch, in-place memory planning, blob), validated and run by the runtime on
// random inputs; the outputs must be equal. A case also checks that the twin really was
// selected, so the comparison cannot pass vacuously.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "plan/build_plan.h"

namespace tinyforge::plan {
namespace {

using Rng = std::mt19937;

int32_t uniform(Rng& rng, int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); }
float log_uniform(Rng& rng, float lo, float hi) {
  return std::exp(std::uniform_real_distribution<float>(std::log(lo), std::log(hi))(rng));
}

struct GraphBuilder {
  ir::Graph g;
  Rng& rng;

  int activation(const std::string& name, std::vector<int32_t> shape, float scale, int32_t zp) {
    ir::Tensor t;
    t.name = name;
    t.type = DType::i8;
    t.shape = std::move(shape);
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
    return g.add_tensor(std::move(t));
  }
  // Random int8 weights in [-127, 127] (TFLite's weight range), per-channel scales.
  int weights(std::vector<int32_t> shape, int32_t channels, int32_t axis, float* mean_scale) {
    ir::Tensor t;
    t.name = "w";
    t.type = DType::i8;
    t.shape = std::move(shape);
    t.constant = true;
    t.data.resize(static_cast<size_t>(t.elements()));
    for (uint8_t& b : t.data) b = static_cast<uint8_t>(static_cast<int8_t>(uniform(rng, -127, 127)));
    float sum = 0;
    for (int32_t c = 0; c < channels; ++c) {
      t.quant.scale.push_back(log_uniform(rng, 1e-3f, 5e-2f));
      t.quant.zero_point.push_back(0);
      sum += t.quant.scale.back();
    }
    t.quant.axis = axis;
    *mean_scale = sum / static_cast<float>(channels);
    return g.add_tensor(std::move(t));
  }
  // Random int32 bias of typical size, sometimes huge (the saturating requant paths).
  int bias(int32_t channels, int64_t typical) {
    ir::Tensor t;
    t.name = "b";
    t.type = DType::i32;
    t.shape = {channels};
    t.constant = true;
    const bool huge = uniform(rng, 0, 9) == 0;
    std::vector<int32_t> v(static_cast<size_t>(channels));
    for (int32_t& b : v) {
      const int64_t r = huge ? (int64_t{1} << 31) - 1 : std::max<int64_t>(typical, 1);
      b = static_cast<int32_t>(std::uniform_int_distribution<int64_t>(-r, r)(rng));
    }
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return g.add_tensor(std::move(t));
  }
  ir::Activation any_activation() {
    static const ir::Activation kAll[] = {ir::Activation::none, ir::Activation::relu, ir::Activation::relu6};
    return kAll[uniform(rng, 0, 2)];
  }
  // An output scale that keeps most results inside int8, occasionally one that makes the
  // multiplier exceed 1 (left shifts: the exact requant form) or tiny (large right shifts).
  float output_scale(float typical) {
    switch (uniform(rng, 0, 9)) {
      case 0: return typical * 1e-4f;
      case 1: return typical * 50.0f;
      default: return typical * log_uniform(rng, 0.02f, 1.0f);
    }
  }
};

int32_t window_out(int32_t in, int32_t filter, int32_t stride, int32_t dilation, ir::Padding padding) {
  const int32_t effective = (filter - 1) * dilation + 1;
  return padding == ir::Padding::same ? (in + stride - 1) / stride : (in + stride - effective) / stride;
}

// A one-op graph of an op family; `expected` is the twin the armv7em set must select.
struct Built {
  ir::Graph graph;
  OpCode expected;
};
using Generator = std::function<Built(Rng&)>;

Built conv(Rng& rng, bool pointwise) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2), ic = pointwise ? uniform(rng, 1, 40) : uniform(rng, 1, 36);
  const int32_t oc = uniform(rng, 1, 19);
  ir::Attrs a;
  a.activation = b.any_activation();
  int32_t kh = 1, kw = 1;
  if (!pointwise) {
    kh = uniform(rng, 1, 4);
    kw = uniform(rng, 1, 4);
    a.stride_h = uniform(rng, 1, 2);
    a.stride_w = uniform(rng, 1, 2);
    a.dilation_h = uniform(rng, 1, 2);
    a.dilation_w = uniform(rng, 1, 2);
    a.padding = uniform(rng, 0, 1) ? ir::Padding::same : ir::Padding::valid;
  }
  const int32_t h = uniform(rng, (kh - 1) * a.dilation_h + 1, 11), w = uniform(rng, (kw - 1) * a.dilation_w + 1, 11);
  const float in_scale = log_uniform(rng, 1e-3f, 1.0f);
  const int in = b.activation("in", {n, h, w, ic}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({oc, kh, kw, ic}, oc, 0, &w_scale);
  const int64_t k = int64_t{kh} * kw * ic;
  const int bias = uniform(rng, 0, 5) == 0 ? -1 : b.bias(oc, k * 127 * 64);
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(k)) * 4.0f;
  const int out = b.activation("out", {n, window_out(h, kh, a.stride_h, a.dilation_h, a.padding),
                                       window_out(w, kw, a.stride_w, a.dilation_w, a.padding), oc},
                               b.output_scale(typical), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::Conv2D, {in, filter, bias}, {out}, a, "conv"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::Conv2DDsp};
}

Built depthwise(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2), c = uniform(rng, 1, 21);
  ir::Attrs a;
  a.activation = b.any_activation();
  const bool k3 = uniform(rng, 0, 2) != 0;
  const int32_t kh = k3 ? 3 : uniform(rng, 1, 5), kw = k3 ? 3 : uniform(rng, 1, 5);
  a.stride_h = uniform(rng, 1, 2);
  a.stride_w = uniform(rng, 1, 2);
  a.dilation_h = k3 ? 1 : uniform(rng, 1, 2);
  a.dilation_w = k3 ? 1 : uniform(rng, 1, 2);
  a.padding = uniform(rng, 0, 3) ? ir::Padding::same : ir::Padding::valid;
  const int32_t h = uniform(rng, (kh - 1) * a.dilation_h + 1, 12), w = uniform(rng, (kw - 1) * a.dilation_w + 1, 12);
  const float in_scale = log_uniform(rng, 1e-3f, 1.0f);
  const int in = b.activation("in", {n, h, w, c}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({1, kh, kw, c}, c, 3, &w_scale);
  const int bias = uniform(rng, 0, 5) == 0 ? -1 : b.bias(c, int64_t{kh} * kw * 127 * 64);
  const float typical = in_scale * w_scale * 127.0f * static_cast<float>(kh * kw);
  const int out = b.activation("out", {n, window_out(h, kh, a.stride_h, a.dilation_h, a.padding),
                                       window_out(w, kw, a.stride_w, a.dilation_w, a.padding), c},
                               b.output_scale(typical), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {in, filter, bias}, {out}, a, "dw"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::DepthwiseConv2DDsp};
}

Built fully_connected(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int32_t rows = uniform(rng, 1, 3), units = uniform(rng, 1, 21);
  // Depths past 256 run several dual-channel chunks (kDualChunkGroups).
  const int32_t depth = uniform(rng, 0, 3) == 0 ? uniform(rng, 250, 700) : uniform(rng, 1, 70);
  ir::Attrs a;
  a.activation = b.any_activation();
  const float in_scale = log_uniform(rng, 1e-3f, 1.0f);
  const int in = b.activation("in", {rows, depth}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({units, depth}, units, 0, &w_scale);
  if (uniform(rng, 0, 1)) {  // per-tensor weights, as most TFLite FC layers have
    ir::Tensor& t = b.g.tensors[filter];
    t.quant.scale.assign(1, t.quant.scale[0]);
    t.quant.zero_point.assign(1, 0);
  }
  const int bias = uniform(rng, 0, 5) == 0 ? -1 : b.bias(units, int64_t{depth} * 127 * 64);
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(depth)) * 4.0f;
  const int out = b.activation("out", {rows, units}, b.output_scale(typical), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::FullyConnected, {in, filter, bias}, {out}, a, "fc"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::FullyConnectedDsp};
}

Built average_pool(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2), c = uniform(rng, 1, 21);
  const int32_t h = uniform(rng, 1, 20), w = uniform(rng, 1, 20);
  ir::Attrs a;
  a.activation = b.any_activation();
  const bool global = uniform(rng, 0, 2) == 0;
  a.filter_h = global ? h : uniform(rng, 1, std::min(h, 4));
  a.filter_w = global ? w : uniform(rng, 1, std::min(w, 4));
  a.stride_h = uniform(rng, 1, 3);
  a.stride_w = uniform(rng, 1, 3);
  a.padding = uniform(rng, 0, 1) ? ir::Padding::same : ir::Padding::valid;
  const float scale = log_uniform(rng, 1e-3f, 1.0f);
  const int32_t zp = uniform(rng, -128, 127);
  const int in = b.activation("in", {n, h, w, c}, scale, zp);
  const int out = b.activation("out", {n, window_out(h, a.filter_h, a.stride_h, 1, a.padding),
                                       window_out(w, a.filter_w, a.stride_w, 1, a.padding), c},
                               scale, zp);
  b.g.nodes.push_back(ir::Node{OpCode::AveragePool2D, {in}, {out}, a, "pool"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::AveragePool2DDsp};
}

Built add(Rng& rng) {
  GraphBuilder b{{}, rng};
  std::vector<int32_t> shape;
  for (int32_t r = uniform(rng, 1, 4); r > 0; --r) shape.push_back(uniform(rng, 1, 9));
  ir::Attrs a;
  a.activation = b.any_activation();
  const float sa = log_uniform(rng, 1e-3f, 1.0f), sb = sa * log_uniform(rng, 0.1f, 10.0f);
  const int in0 = b.activation("a", shape, sa, uniform(rng, -128, 127));
  const int in1 = b.activation("b", shape, sb, uniform(rng, -128, 127));
  const int out = b.activation("out", shape, std::max(sa, sb) * log_uniform(rng, 0.05f, 300.0f), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::Add, {in0, in1}, {out}, a, "add"});
  b.g.inputs = {in0, in1};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::AddDsp};
}

struct Family {
  const char* name;
  int cases;
  Generator make;
};

const Family kFamilies[] = {
    {"Conv2D pointwise", 400, [](Rng& r) { return conv(r, true); }},
    {"Conv2D im2col", 600, [](Rng& r) { return conv(r, false); }},
    {"DepthwiseConv2D", 600, depthwise},
    {"FullyConnected", 500, fully_connected},
    {"AveragePool2D", 400, average_pool},
    {"Add", 400, add},
};

// The RequantMode a DSP op was compiled with (-1 for ops without an output stage).
template <typename P>
int32_t requant_field(const PlanOp& op) {
  P p;
  std::memcpy(&p, op.params.data(), sizeof p);
  return p.requant;
}
int32_t requant_mode(const PlanOp& op) {
  switch (op.op) {
    case OpCode::Conv2DDsp: return requant_field<Conv2DDspParams>(op);
    case OpCode::DepthwiseConv2DDsp: return requant_field<DepthwiseConv2DDspParams>(op);
    case OpCode::FullyConnectedDsp: return requant_field<FullyConnectedDspParams>(op);
    case OpCode::AddDsp: return requant_field<AddDspParams>(op);
    default: return -1;
  }
}

std::vector<std::vector<uint8_t>> run(const ir::Graph& g, KernelSet set, const std::vector<std::vector<uint8_t>>& inputs,
                                      uint32_t cases, PlanOp* first_op) {
  PlanOptions options;
  options.kernels = set;
  const Plan plan = build_plan(g, options);
  *first_op = plan.ops.at(0);
  host::HostRunner runner(emit::write_plan_blob(plan), "twin test");
  return runner.run(inputs, cases);
}

TEST(DspTwins, BitExactWithTheReferenceKernelsOnRandomCases) {
  Rng rng(20240611);
  for (const Family& family : kFamilies) {
    int modes[2] = {0, 0};  // cases compiled with RequantMode::exact, ::fast
    for (int i = 0; i < family.cases; ++i) {
      Built built = family.make(rng);
      SCOPED_TRACE(testing::Message() << family.name << " case " << i);
      constexpr uint32_t kCases = 3;
      std::vector<std::vector<uint8_t>> inputs;
      for (int t : built.graph.inputs) {
        std::vector<uint8_t> bytes(static_cast<size_t>(built.graph.tensors[t].bytes()) * kCases);
        for (uint8_t& v : bytes) v = static_cast<uint8_t>(uniform(rng, 0, 255));
        inputs.push_back(std::move(bytes));
      }
      PlanOp ref_op, dsp_op;
      std::vector<std::vector<uint8_t>> want, got;
      try {
        want = run(built.graph, KernelSet::reference, inputs, kCases, &ref_op);
        got = run(built.graph, KernelSet::armv7em, inputs, kCases, &dsp_op);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        continue;
      }
      ASSERT_EQ(dsp_op.op, built.expected) << "the twin was not selected";
      ASSERT_EQ(want.size(), got.size());
      for (size_t o = 0; o < want.size(); ++o) ASSERT_EQ(want[o], got[o]) << "output " << o;
      const int32_t mode = requant_mode(dsp_op);
      if (mode == 0 || mode == 1) ++modes[mode];
    }
    std::printf("%-18s %3d cases bit-exact (output stage: %d fast, %d exact)\n", family.name, family.cases, modes[1],
                modes[0]);
    if (std::string(family.name) != "AveragePool2D") {
      EXPECT_GT(modes[0], 0) << family.name << ": no case exercised the exact output stage";
      EXPECT_GT(modes[1], 0) << family.name << ": no case exercised the fast output stage";
    }
  }
}

// A filter holding -128 cannot use the dual-channel layout: the reference kernel stays.
TEST(DspTwins, FilterWithMinus128KeepsTheReferenceKernel) {
  Rng rng(7);
  Built built = conv(rng, true);
  ir::Tensor& filter = built.graph.tensors[built.graph.nodes[0].inputs[1]];
  filter.data[0] = static_cast<uint8_t>(static_cast<int8_t>(-128));
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  EXPECT_EQ(build_plan(built.graph, options).ops.at(0).op, OpCode::Conv2D);
}

// In place: a chain of a pointwise conv and a depthwise conv of equal shapes plans its
// activations on top of each other (gap 0) and still gives the reference's bytes.
TEST(DspTwins, InPlaceChainSharesMemoryAndStaysExact) {
  Rng rng(11);
  GraphBuilder b{{}, rng};
  const int32_t c = 16;
  const int x = b.activation("x", {1, 9, 7, c}, 0.05f, -3);
  float ws;
  const int w1 = b.weights({c, 1, 1, c}, c, 0, &ws);
  const int y = b.activation("y", {1, 9, 7, c}, 0.1f, 5);
  const int w2 = b.weights({1, 3, 3, c}, c, 3, &ws);
  const int z = b.activation("z", {1, 9, 7, c}, 0.05f, -7);
  ir::Attrs same;
  same.padding = ir::Padding::same;
  b.g.nodes.push_back(ir::Node{OpCode::Conv2D, {x, w1, -1}, {y}, {}, "pw"});
  b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {y, w2, -1}, {z}, same, "dw"});
  b.g.inputs = {x};
  b.g.outputs = {z};
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  const Plan plan = build_plan(b.g, options);
  const uint32_t tensor_bytes = 9 * 7 * c;
  // Three tensors of 1008 bytes, never more than one of them plus scratch in the arena.
  EXPECT_LT(plan.arena_size, 2 * tensor_bytes);
  std::vector<std::vector<uint8_t>> inputs(1, std::vector<uint8_t>(tensor_bytes * 4));
  for (uint8_t& v : inputs[0]) v = static_cast<uint8_t>(uniform(rng, 0, 255));
  PlanOp op;
  EXPECT_EQ(run(b.g, KernelSet::armv7em, inputs, 4, &op), run(b.g, KernelSet::reference, inputs, 4, &op));
}

}  // namespace
}  // namespace tinyforge::plan
