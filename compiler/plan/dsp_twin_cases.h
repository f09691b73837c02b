// Random one-op graphs for the DSP twins' tests (test helper, header only): one generator
// per op family, each drawing shapes, strides, paddings, activations, weights, biases and
// quantization from a seeded generator, and naming the twin the armv7em set must select.
// Used by plan/dsp_twins_test.cc (host) and emit/dsp_firmware_test.cc (on the emulated core).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/add.h"
#include "ops/conv.h"
#include "ops/fully_connected.h"
#include "ops/pool.h"

namespace tinyforge::plan::twin_cases {

using Rng = std::mt19937;

inline int32_t uniform(Rng& rng, int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
}
inline float log_uniform(Rng& rng, float lo, float hi) {
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
    for (uint8_t& b : t.data)
      b = static_cast<uint8_t>(static_cast<int8_t>(uniform(rng, -127, 127)));
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
    static const ir::Activation kAll[] = {ir::Activation::none, ir::Activation::relu,
                                          ir::Activation::relu6};
    return kAll[uniform(rng, 0, 2)];
  }
  // An output scale that keeps most results inside int8, occasionally one that makes the
  // multiplier exceed 1 (left shifts: the exact requant form) or tiny (large right shifts).
  float output_scale(float typical) {
    switch (uniform(rng, 0, 9)) {
      case 0:
        return typical * 1e-4f;
      case 1:
        return typical * 50.0f;
      default:
        return typical * log_uniform(rng, 0.02f, 1.0f);
    }
  }
};

inline int32_t window_out(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                          ir::Padding padding) {
  const int32_t effective = (filter - 1) * dilation + 1;
  return padding == ir::Padding::same ? (in + stride - 1) / stride
                                      : (in + stride - effective) / stride;
}

// A one-op graph of an op family; `expected` is the twin the armv7em set must select.
struct Built {
  ir::Graph graph;
  OpCode expected;
};
using Generator = std::function<Built(Rng&)>;

// deep: patches of 300..600 elements, past one dual-channel run (kDualChunkGroups).
inline Built conv(Rng& rng, bool pointwise, bool deep = false) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2);
  const int32_t ic = deep        ? uniform(rng, 36, 64)
                     : pointwise ? uniform(rng, 1, 40)
                                 : uniform(rng, 1, 36);
  const int32_t oc = uniform(rng, 1, 19);
  ops::ConvAttrs conv;
  conv.activation = b.any_activation();
  ops::WindowAttrs& a = conv.window;
  int32_t kh = 1, kw = 1;
  if (!pointwise) {
    kh = deep ? 3 : uniform(rng, 1, 4);
    kw = deep ? 3 : uniform(rng, 1, 4);
    a.stride_h = uniform(rng, 1, 2);
    a.stride_w = uniform(rng, 1, 2);
    a.dilation_h = uniform(rng, 1, 2);
    a.dilation_w = uniform(rng, 1, 2);
    a.padding = uniform(rng, 0, 1) ? ir::Padding::same : ir::Padding::valid;
  }
  const int32_t h = uniform(rng, (kh - 1) * a.dilation_h + 1, 11),
                w = uniform(rng, (kw - 1) * a.dilation_w + 1, 11);
  const float in_scale = log_uniform(rng, 1e-3f, 1.0f);
  const int in = b.activation("in", {n, h, w, ic}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({oc, kh, kw, ic}, oc, 0, &w_scale);
  const int64_t k = int64_t{kh} * kw * ic;
  const int bias = uniform(rng, 0, 5) == 0 ? -1 : b.bias(oc, k * 127 * 64);
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(k)) * 4.0f;
  const int out = b.activation("out",
                               {n, window_out(h, kh, a.stride_h, a.dilation_h, a.padding),
                                window_out(w, kw, a.stride_w, a.dilation_w, a.padding), oc},
                               b.output_scale(typical), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::Conv2D, {in, filter, bias}, {out}, conv, "conv"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::Conv2DDsp};
}

// with_multiplier: depth multiplier 2, 4 or 8 over 1 input channel (half the cases) or 2..4;
// else multiplier 1. The armv7em set runs a multiplier above 1 or a single input channel
// as a Conv2DDsp (select_kernels.cc).
inline Built depthwise(Rng& rng, bool with_multiplier = false) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2);
  const int32_t c = !with_multiplier     ? uniform(rng, 1, 21)
                    : uniform(rng, 0, 1) ? 1
                                         : uniform(rng, 2, 4);
  const int32_t multiplier = with_multiplier ? 1 << uniform(rng, 1, 3) : 1, oc = c * multiplier;
  ops::ConvAttrs dw;
  dw.activation = b.any_activation();
  ops::WindowAttrs& a = dw.window;
  const bool k3 = uniform(rng, 0, 2) != 0;
  const int32_t kh = k3 ? 3 : uniform(rng, 1, 5), kw = k3 ? 3 : uniform(rng, 1, 5);
  a.stride_h = uniform(rng, 1, 2);
  a.stride_w = uniform(rng, 1, 2);
  a.dilation_h = k3 ? 1 : uniform(rng, 1, 2);
  a.dilation_w = k3 ? 1 : uniform(rng, 1, 2);
  a.padding = uniform(rng, 0, 3) ? ir::Padding::same : ir::Padding::valid;
  const int32_t h = uniform(rng, (kh - 1) * a.dilation_h + 1, 12),
                w = uniform(rng, (kw - 1) * a.dilation_w + 1, 12);
  const float in_scale = log_uniform(rng, 1e-3f, 1.0f);
  const int in = b.activation("in", {n, h, w, c}, in_scale, uniform(rng, -128, 127));
  float w_scale;
  const int filter = b.weights({1, kh, kw, oc}, oc, 3, &w_scale);
  const int bias = uniform(rng, 0, 5) == 0 ? -1 : b.bias(oc, int64_t{kh} * kw * 127 * 64);
  const float typical = in_scale * w_scale * 127.0f * static_cast<float>(kh * kw);
  const int out = b.activation("out",
                               {n, window_out(h, kh, a.stride_h, a.dilation_h, a.padding),
                                window_out(w, kw, a.stride_w, a.dilation_w, a.padding), oc},
                               b.output_scale(typical), uniform(rng, -128, 127));
  dw.depth_multiplier = multiplier;
  b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {in, filter, bias}, {out}, dw, "dw"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  const bool conv_form = multiplier > 1 || c == 1;  // plan/select_kernels.cc (no -128 here)
  return {std::move(b.g), conv_form ? OpCode::Conv2DDsp : OpCode::DepthwiseConv2DDsp};
}

inline Built fully_connected(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int32_t rows = uniform(rng, 1, 3), units = uniform(rng, 1, 21);
  // Depths past 256 run several dual-channel chunks (kDualChunkGroups); half of those are
  // whole groups of 512 inputs or more, which the Armv7E-M assembly runs in several runs.
  const int32_t depth = uniform(rng, 0, 3) != 0 ? uniform(rng, 1, 70)
                        : uniform(rng, 0, 1)    ? 4 * uniform(rng, 128, 175)
                                                : uniform(rng, 250, 700);
  const ops::FullyConnectedAttrs a{b.any_activation()};
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
  const int out =
      b.activation("out", {rows, units}, b.output_scale(typical), uniform(rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::FullyConnected, {in, filter, bias}, {out}, a, "fc"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::FullyConnectedDsp};
}

// A pruned FullyConnected: most weights zero (some rows entirely), gaps past 255 columns in
// deep rows, so FullyConnectedSparse is selected with its gap fillers and empty rows.
inline Built sparse_fully_connected(Rng& rng) {
  // A unit's output stage costs the sparse kernel about 18 entries: shallow layers stay
  // dense however many zeros they have (plan/select_kernels.cc).
  Built built = fully_connected(rng);
  auto filter_of = [](Built& b) -> ir::Tensor& {
    return b.graph.tensors[b.graph.nodes[0].inputs[1]];
  };
  while (filter_of(built).shape[1] < 250) built = fully_connected(rng);
  ir::Tensor& filter = filter_of(built);
  const int32_t units = filter.shape[0], depth = filter.shape[1];
  const int keep_per_mille = uniform(rng, 0, 150);
  for (int32_t u = 0; u < units; ++u) {
    const bool empty_row = uniform(rng, 0, 7) == 0;
    int32_t kept = 0;
    for (int32_t i = 0; i < depth; ++i) {
      uint8_t& w = filter.data[static_cast<size_t>(u) * depth + i];
      // At most a tenth of a row stays.
      const bool keep =
          !empty_row && (kept + 1) * 10 <= depth && uniform(rng, 0, 999) < keep_per_mille && w != 0;
      if (keep)
        ++kept;
      else
        w = 0;
    }
  }
  built.expected = OpCode::FullyConnectedSparse;
  return built;
}

inline Built average_pool(Rng& rng) {
  GraphBuilder b{{}, rng};
  const int32_t n = uniform(rng, 1, 2), c = uniform(rng, 1, 21);
  const int32_t h = uniform(rng, 1, 20), w = uniform(rng, 1, 20);
  ops::PoolAttrs pool;
  pool.activation = b.any_activation();
  ops::WindowAttrs& a = pool.window;
  const bool global = uniform(rng, 0, 2) == 0;
  a.filter_h = global ? h : uniform(rng, 1, std::min(h, 4));
  a.filter_w = global ? w : uniform(rng, 1, std::min(w, 4));
  a.stride_h = uniform(rng, 1, 3);
  a.stride_w = uniform(rng, 1, 3);
  a.padding = uniform(rng, 0, 1) ? ir::Padding::same : ir::Padding::valid;
  const float scale = log_uniform(rng, 1e-3f, 1.0f);
  const int32_t zp = uniform(rng, -128, 127);
  const int in = b.activation("in", {n, h, w, c}, scale, zp);
  const int out = b.activation("out",
                               {n, window_out(h, a.filter_h, a.stride_h, 1, a.padding),
                                window_out(w, a.filter_w, a.stride_w, 1, a.padding), c},
                               scale, zp);
  b.g.nodes.push_back(ir::Node{OpCode::AveragePool2D, {in}, {out}, pool, "pool"});
  b.g.inputs = {in};
  b.g.outputs = {out};
  return {std::move(b.g), OpCode::AveragePool2DDsp};
}

inline Built add(Rng& rng) {
  GraphBuilder b{{}, rng};
  std::vector<int32_t> shape;
  for (int32_t r = uniform(rng, 1, 4); r > 0; --r) shape.push_back(uniform(rng, 1, 9));
  const ops::AddAttrs a{b.any_activation()};
  const float sa = log_uniform(rng, 1e-3f, 1.0f), sb = sa * log_uniform(rng, 0.1f, 10.0f);
  const int in0 = b.activation("a", shape, sa, uniform(rng, -128, 127));
  const int in1 = b.activation("b", shape, sb, uniform(rng, -128, 127));
  const int out = b.activation("out", shape, std::max(sa, sb) * log_uniform(rng, 0.05f, 300.0f),
                               uniform(rng, -128, 127));
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

inline const Family kFamilies[] = {
    {"Conv2D pointwise", 400, [](Rng& r) { return conv(r, true); }},
    {"Conv2D im2col", 600, [](Rng& r) { return conv(r, false); }},
    {"Conv2D deep", 100, [](Rng& r) { return conv(r, false, true); }},
    {"DepthwiseConv2D", 600, [](Rng& r) { return depthwise(r); }},
    {"Depthwise M 2-8", 400, [](Rng& r) { return depthwise(r, true); }},
    {"FullyConnected", 500, fully_connected},
    {"FullyConnected sparse", 300, sparse_fully_connected},
    {"AveragePool2D", 400, average_pool},
    {"Add", 400, add},
};

// Appends `part`'s tensors, nodes, inputs and outputs to `whole` (indices shifted): several
// independent ops in one graph, so one firmware image tests them all.
inline void append_graph(ir::Graph& whole, const ir::Graph& part) {
  const int base = static_cast<int>(whole.tensors.size());
  auto shift = [base](int t) { return t < 0 ? t : t + base; };
  for (const ir::Tensor& t : part.tensors) whole.tensors.push_back(t);
  for (ir::Node n : part.nodes) {
    for (int& t : n.inputs) t = shift(t);
    for (int& t : n.outputs) t = shift(t);
    whole.nodes.push_back(std::move(n));
  }
  for (int t : part.inputs) whole.inputs.push_back(shift(t));
  for (int t : part.outputs) whole.outputs.push_back(shift(t));
}

}  // namespace tinyforge::plan::twin_cases
