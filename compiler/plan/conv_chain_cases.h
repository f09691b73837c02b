// Random conv -> conv (-> residual add) graphs, the cases of strip-wise conv chains
// (plan/conv_chain.h): for plan/conv_chain_test.cc and the plan fuzzer's seeds.
#pragma once
#include <cmath>
#include <vector>

#include "plan/dsp_twin_cases.h"

namespace tinyforge::plan::twin_cases {

// A conv node of `oc` k x k filters after tensor `in`, with an output scale that keeps most
// results inside int8; returns its output.
inline int add_conv(GraphBuilder& b, int in, int32_t oc, int32_t k, const ops::ConvAttrs& conv,
                    const char* name) {
  const std::vector<int32_t> in_shape = b.g.tensors[in].shape;
  const float in_scale = b.g.tensors[in].quant.scale[0];
  float w_scale;
  const int filter = b.weights({oc, k, k, in_shape[3]}, oc, 0, &w_scale);
  const int64_t taps = int64_t{k} * k * in_shape[3];
  const int bias = b.bias(oc, taps * 127 * 64);
  const ops::WindowAttrs& a = conv.window;
  const float typical = in_scale * w_scale * 127.0f * std::sqrt(static_cast<float>(taps)) * 4.0f;
  const int out =
      b.activation(name,
                   {1, window_out(in_shape[1], k, a.stride_h, a.dilation_h, a.padding),
                    window_out(in_shape[2], k, a.stride_w, a.dilation_w, a.padding), oc},
                   typical * log_uniform(b.rng, 0.5f, 2.0f), uniform(b.rng, -128, 127));
  b.g.nodes.push_back(ir::Node{OpCode::Conv2D, {in, filter, bias}, {out}, conv, name});
  return out;
}

// input -> conv (random geometry) -> conv (random geometry) [-> add of the input]. A residual
// case keeps the shape: stride 1, same padding, as many channels as the input. The second
// conv pads "same", so no geometry leaves it without output rows.
inline Built conv_chain(Rng& rng) {
  GraphBuilder b{{}, rng};
  const bool residual = uniform(rng, 0, 1) == 1;
  const int32_t ch = uniform(rng, 1, 12);
  const int x = b.activation("x", {1, uniform(rng, 8, 14), uniform(rng, 6, 9), ch},
                             log_uniform(rng, 1e-2f, 1.0f), uniform(rng, -128, 127));
  auto geometry = [&](bool keep_shape, bool same) {
    ops::ConvAttrs conv;
    conv.activation = b.any_activation();
    conv.window.padding = same || uniform(rng, 0, 1) ? ir::Padding::same : ir::Padding::valid;
    conv.window.stride_h = conv.window.stride_w = keep_shape ? 1 : uniform(rng, 1, 2);
    conv.window.dilation_h = conv.window.dilation_w = keep_shape ? 1 : uniform(rng, 1, 2);
    return conv;
  };
  const int mid =
      add_conv(b, x, uniform(rng, 1, 12), uniform(rng, 1, 3), geometry(residual, residual), "mid");
  const int y =
      add_conv(b, mid, residual ? ch : uniform(rng, 1, 12), 3, geometry(residual, true), "second");
  b.g.inputs = {x};
  b.g.outputs = {y};
  if (residual) {
    const float s = b.g.tensors[x].quant.scale[0];
    const int sum = b.activation("sum", b.g.tensors[x].shape, s * log_uniform(rng, 1.0f, 4.0f),
                                 uniform(rng, -128, 127));
    const bool input_first = uniform(rng, 0, 1) == 1;
    b.g.nodes.push_back(ir::Node{OpCode::Add,
                                 {input_first ? x : y, input_first ? y : x},
                                 {sum},
                                 ops::AddAttrs{b.any_activation()},
                                 "add"});
    b.g.outputs = {sum};
  }
  return {std::move(b.g), OpCode::ConvChainDsp};
}

}  // namespace tinyforge::plan::twin_cases
