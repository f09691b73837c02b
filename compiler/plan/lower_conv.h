// What the lowering of the weighted and windowed ops (conv, depthwise, fully connected,
// pools; their host files under compiler/ops/) shares: operand and quantization checks,
// TFLite's window arithmetic and the int8 output stage. Each refuses with a message naming
// the node. The arithmetic and its sources are described in lower_conv.cc.
#pragma once
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ops/window.h"
#include "plan/lower.h"
#include "plan/plan.h"
#include "plan/quant_math.h"

namespace tinyforge::plan::conv_lowering {

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what);
std::string shape_str(const std::vector<int32_t>& s);
std::string label(const ir::Graph& g, int t, const char* role);  // "input 'x'"

// Tensor indices of a conv-family node; bias is -1 when absent. Refuses missing or
// out-of-range indices.
struct Operands {
  int input = -1, filter = -1, bias = -1, output = -1;
};
Operands operands(const ir::Graph& g, size_t node, bool has_weights);

void require_positive_dims(const ir::Graph& g, size_t node, int t, const char* role);
void require_rank(const ir::Graph& g, size_t node, int t, const char* role, size_t rank);
void require_bias_size(const ir::Graph& g, size_t node, int bias, int32_t channels);

// The activation dtype of the op (input = output type), after refusing what the core does
// not run: uint8, hybrid (quantized weights under float activations), mixed types. With
// `int16`, also TFLite's 16x8 scheme: int16 activations, int8 weights, a bias (int64 in
// TFLite, int32 here when its values fit).
DType activation_type(const ir::Graph& g, size_t node, const Operands& o, bool int16 = false);

// (scale, zero point) of an int8 or int16 (zero point 0) activation tensor.
struct ActQuant {
  float scale;
  int32_t zero_point;
};
ActQuant activation_quant(const ir::Graph& g, size_t node, int t, const char* role);

// The filter's scales, one per output channel (a per-tensor scale is broadcast). Refuses
// asymmetric weights: TFLite's int8 kernels ignore a filter zero point.
std::vector<float> filter_scales(const ir::Graph& g, size_t node, int filter, int32_t channels,
                                 int32_t axis);

// Adds the per-channel multipliers and shifts as constant int32 tensors [channels];
// returns their indices. Invalidates references into g.tensors.
std::pair<int, int> add_multipliers(ir::Graph& g, int output,
                                    const std::vector<QuantizedMultiplier>& m);

// TFLite's CalculateActivationRange<float>: unbounded sides are the finite float extremes.
FloatRange float_clamp(ir::Activation act);

// v as a params int16 field; refuses a value outside 0..INT16_MAX.
int16_t to_int16(const ir::Graph& g, size_t node, int64_t v, const char* what);

// One spatial axis of a windowed op: output extent and padding before the first element.
struct Axis {
  int32_t out, pad_before;
};
struct Window2D {
  Axis h, w;
};
// Output spatial extents and padding of a 2-D windowed op; refuses an output tensor whose
// shape disagrees with them.
Window2D window_2d(const ir::Graph& g, size_t node, const Operands& o, const ops::WindowAttrs& a,
                   int32_t filter_h, int32_t filter_w, int dilation_h, int dilation_w,
                   int32_t out_channels);

// Per-channel effective scales of conv and depthwise (PopulateConvolutionQuantizationParams).
std::vector<double> conv_scales(const ir::Graph& g, size_t node, const Operands& o,
                                int32_t channels, int32_t axis);

// Fields shared by Conv2DParams and DepthwiseConv2DParams.
template <typename Params>
void fill_window(const ir::Graph& g, size_t node, const ops::WindowAttrs& a, const Window2D& win,
                 Params& p) {
  p.stride_h = to_int16(g, node, a.stride_h, "stride_h");
  p.stride_w = to_int16(g, node, a.stride_w, "stride_w");
  p.dilation_h = to_int16(g, node, a.dilation_h, "dilation_h");
  p.dilation_w = to_int16(g, node, a.dilation_w, "dilation_w");
  p.pad_top = to_int16(g, node, win.h.pad_before, "top padding");
  p.pad_left = to_int16(g, node, win.w.pad_before, "left padding");
}

// The output stage of conv, depthwise and FC: offsets, clamp bounds of the fused
// activation `act` and, for int8 and int16, the per-channel multiplier/shift tensors
// (effective scales given per channel).
template <typename Params>
void fill_output_stage(ir::Graph& g, size_t node, const Operands& o, DType type, ir::Activation act,
                       const std::vector<double>& effective_scales, Params& p, LoweredOp& lowered) {
  const FloatRange f = float_clamp(act);
  p.f_act_min = f.min;
  p.f_act_max = f.max;
  lowered.inputs = {o.input, o.filter, o.bias};
  if (type != DType::i8 && type != DType::i16) return;
  const ActQuant in = activation_quant(g, node, o.input, "input");
  const ActQuant out = activation_quant(g, node, o.output, "output");
  p.input_offset = -in.zero_point;
  p.output_offset = out.zero_point;
  const ClampRange r = activation_range(act, out.scale, out.zero_point, type);
  if (r.min > r.max)
    refuse(g, node,
           fmt::format("fused activation leaves an empty {} range [{}, {}] for {}",
                       dtype_name(type), r.min, r.max, label(g, o.output, "output")));
  p.act_min = r.min;
  p.act_max = r.max;
  std::vector<QuantizedMultiplier> m;
  for (double s : effective_scales) m.push_back(quantize_multiplier(s));
  const auto [mi, si] = add_multipliers(g, o.output, m);
  lowered.inputs.push_back(mi);
  lowered.inputs.push_back(si);
}

}  // namespace tinyforge::plan::conv_lowering
