// What the lowering of Conv2D, DepthwiseConv2D, FullyConnected, AveragePool2D and MaxPool2D
// (their host files under compiler/ops/) shares: what TensorFlow Lite Micro's Prepare()
// computes at run time, computed here once, with the same arithmetic so the reference
// kernels reproduce TFLM bit for bit.
//
// Facts used (tensorflow/tflite-micro, read via its public sources):
// - Padding (tensorflow/lite/kernels/padding.h, ComputePaddingHeightWidth):
//     effective = (filter - 1) * dilation + 1
//     SAME: out = ceil(in / stride); VALID: out = (in + stride - effective) / stride
//     pad_before = max(0, (out - 1) * stride + effective - in) / 2 (the odd pixel goes after)
//   Pools use the same rule with dilation 1 (micro/kernels/pooling_common.cc).
// - Conv and depthwise multipliers (tensorflow/lite/kernels/kernel_util.cc,
//   PopulateConvolutionQuantizationParams, called by micro/kernels/conv_common.cc and
//   depthwise_conv_common.cc): per output channel, per-tensor filter scales broadcast,
//     QuantizeMultiplier(double(input_scale) * double(filter_scale[c]) / double(output_scale))
// - FullyConnected (micro/kernels/fully_connected_common.cc, CalculateOpDataFullyConnected):
//   per-channel filters use the conv expression above; per-tensor filters use
//   GetQuantizedConvolutionMultipler, which multiplies the two scales in FLOAT first:
//     QuantizeMultiplier(double(float(input_scale * filter_scale)) / double(output_scale))
//   We expand that single multiplier to one entry per output unit.
// - Clamp bounds: CalculateActivationRangeQuantized (int8) and CalculateActivationRange
//   (float, whose "no activation" bounds are the finite float extremes).
// - Pools require input and output quantization to agree (|scale difference| <= 1e-6,
//   equal zero points; pooling_common.cc PoolingPrepare).
#include "plan/lower_conv.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace tinyforge::plan {
namespace conv_lowering {
namespace {

constexpr const char* kHybridMessage =
    "hybrid model: int8 weights with float32 activations; the core runs fully-int8 or "
    "fully-float models — dequantize the weights or quantize the model";

}  // namespace

[[noreturn]] void refuse(const ir::Graph& g, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", g.node_label(node), what));
}

std::string shape_str(const std::vector<int32_t>& s) {
  return fmt::format("[{}]", fmt::join(s, ","));
}

Operands operands(const ir::Graph& g, size_t node, bool has_weights) {
  const ir::Node& n = g.nodes.at(node);
  const size_t required = has_weights ? 2 : 1;
  const size_t allowed = has_weights ? 3 : 1;
  if (n.inputs.size() < required || n.inputs.size() > allowed || n.outputs.size() != 1)
    refuse(g, node,
           fmt::format("has {} inputs and {} outputs; expected {} to {} inputs and 1 output",
                       n.inputs.size(), n.outputs.size(), required, allowed));
  const int count = static_cast<int>(g.tensors.size());
  auto index = [&](int t, bool optional, const char* role) {
    if (t == -1 && optional) return -1;
    if (t < 0 || t >= count)
      refuse(g, node, fmt::format("{} is tensor {}; expected 0..{}", role, t, count - 1));
    return t;
  };
  Operands o;
  o.input = index(n.inputs[0], false, "input");
  if (has_weights) {
    o.filter = index(n.inputs[1], false, "filter");
    if (n.inputs.size() > 2) o.bias = index(n.inputs[2], true, "bias");
  }
  o.output = index(n.outputs[0], false, "output");
  return o;
}

std::string label(const ir::Graph& g, int t, const char* role) {
  return fmt::format("{} '{}'", role, g.tensors[t].name);
}

void require_positive_dims(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& tensor = g.tensors[t];
  for (int32_t d : tensor.shape)
    if (d < 1)
      refuse(g, node,
             fmt::format("{} has shape {}; expected positive dims", label(g, t, role),
                         shape_str(tensor.shape)));
}

void require_rank(const ir::Graph& g, size_t node, int t, const char* role, size_t rank) {
  const ir::Tensor& tensor = g.tensors[t];
  if (tensor.shape.size() != rank)
    refuse(g, node,
           fmt::format("{} has shape {}; expected rank {}", label(g, t, role),
                       shape_str(tensor.shape), rank));
  require_positive_dims(g, node, t, role);
}

// The activation dtype of the op (input = output type), after refusing what the core does
// not run: uint8, hybrid (quantized weights under float activations), mixed types.
DType activation_type(const ir::Graph& g, size_t node, const Operands& o, bool int16) {
  const DType in = g.tensors[o.input].type;
  const DType out = g.tensors[o.output].type;
  const bool has_weights = o.filter >= 0;
  const DType w = has_weights ? g.tensors[o.filter].type : in;
  if (in == DType::u8 || out == DType::u8 || w == DType::u8)
    refuse(g, node,
           "uint8 (asymmetric) quantization is not supported; the core runs int8 "
           "(TFLite's current quantization scheme) — requantize the model to int8");
  if (in == DType::f32 && has_weights && (w == DType::i8 || w == DType::i16))
    refuse(g, node, kHybridMessage);
  if (in != DType::f32 && in != DType::i8 && !(int16 && in == DType::i16))
    refuse(g, node,
           fmt::format("{} is {}; expected float32{}", label(g, o.input, "input"), dtype_name(in),
                       int16 ? ", int8 or int16" : " or int8"));
  if (out != in)
    refuse(g, node,
           fmt::format("{} is {} while the input is {}; expected the same type",
                       label(g, o.output, "output"), dtype_name(out), dtype_name(in)));
  // 16x8: int16 activations under int8 weights (a pool has none).
  const DType want_w = in == DType::i16 ? DType::i8 : in;
  if (has_weights && w != want_w)
    refuse(g, node,
           fmt::format("{} is {} while the input is {}; expected {}", label(g, o.filter, "filter"),
                       dtype_name(w), dtype_name(in), dtype_name(want_w)));
  // int16: TFLite's 16x8 kernels accumulate in 64 bits with the int64 bias the converter
  // emits (imported as int32 when its values fit); without one TFLite accumulates in 32 bits,
  // which these kernels do not.
  if (in == DType::i16 && has_weights && o.bias < 0)
    refuse(g, node, "a 16x8 op without bias is not supported; expected an int64 bias");
  if (o.bias >= 0) {
    const DType want = in == DType::f32 ? DType::f32 : DType::i32;
    if (g.tensors[o.bias].type != want)
      refuse(g, node,
             fmt::format("{} is {}; expected {}", label(g, o.bias, "bias"),
                         dtype_name(g.tensors[o.bias].type), dtype_name(want)));
  }
  return in;
}

void require_bias_size(const ir::Graph& g, size_t node, int bias, int32_t channels) {
  if (bias >= 0 && g.tensors[bias].elements() != channels)
    refuse(g, node,
           fmt::format("{} has shape {}; expected {} elements (one per output channel)",
                       label(g, bias, "bias"), shape_str(g.tensors[bias].shape), channels));
}

ActQuant activation_quant(const ir::Graph& g, size_t node, int t, const char* role) {
  const ir::Tensor& tensor = g.tensors[t];
  if (tensor.quant.scale.size() != 1)
    refuse(g, node,
           fmt::format("{} has {} quantization scales; expected per-tensor quantization "
                       "(1 scale)",
                       label(g, t, role), tensor.quant.scale.size()));
  const float scale = tensor.quant.scale[0];
  const int32_t zp = tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0];
  if (!(scale > 0.0f) || !std::isfinite(scale))
    refuse(
        g, node,
        fmt::format("{} has scale {}; expected a positive finite value", label(g, t, role), scale));
  if (tensor.type == DType::i16 && zp != 0)
    refuse(g, node,
           fmt::format("{} has zero point {}; expected 0 (int16 activations are symmetric in "
                       "TFLite's 16x8 scheme)",
                       label(g, t, role), zp));
  if (zp < -128 || zp > 127)
    refuse(g, node, fmt::format("{} has zero point {}; expected -128..127", label(g, t, role), zp));
  return {scale, zp};
}

// The filter's scales, one per output channel (a per-tensor scale is broadcast). Refuses
// asymmetric weights: TFLite's int8 kernels ignore a filter zero point.
std::vector<float> filter_scales(const ir::Graph& g, size_t node, int filter, int32_t channels,
                                 int32_t axis) {
  const ir::Quant& q = g.tensors[filter].quant;
  const size_t n = q.scale.size();
  if (n != 1 && n != static_cast<size_t>(channels))
    refuse(g, node,
           fmt::format("{} has {} quantization scales; expected 1 or {} (one per output "
                       "channel)",
                       label(g, filter, "filter"), n, channels));
  if (n > 1 && q.axis != axis)
    refuse(g, node,
           fmt::format("{} is quantized along dimension {}; expected dimension {}",
                       label(g, filter, "filter"), q.axis, axis));
  for (int32_t zp : q.zero_point)
    if (zp != 0)
      refuse(g, node,
             fmt::format("{} has zero point {}; expected 0 (symmetric int8 weights, as "
                         "the TFLite quantization spec requires)",
                         label(g, filter, "filter"), zp));
  for (float s : q.scale)
    if (!(s >= 0.0f) || !std::isfinite(s))
      refuse(g, node,
             fmt::format("{} has scale {}; expected a finite non-negative value",
                         label(g, filter, "filter"), s));
  std::vector<float> scales(static_cast<size_t>(channels));
  for (int32_t c = 0; c < channels; ++c) scales[c] = q.scale[n == 1 ? 0 : c];
  return scales;
}

// Adds the per-channel multipliers and shifts as constant int32 tensors [channels];
// returns their indices. Invalidates references into g.tensors.
std::pair<int, int> add_multipliers(ir::Graph& g, int output,
                                    const std::vector<QuantizedMultiplier>& m) {
  const std::string base = g.tensors[output].name;
  std::vector<int32_t> mult, shift;
  for (const QuantizedMultiplier& q : m) {
    mult.push_back(q.multiplier);
    shift.push_back(q.shift);
  }
  auto constant = [&](const std::string& name, const std::vector<int32_t>& values) {
    ir::Tensor t;
    t.name = name;
    t.type = DType::i32;
    t.shape = {static_cast<int32_t>(values.size())};
    t.constant = true;
    t.data.resize(values.size() * sizeof(int32_t));
    std::memcpy(t.data.data(), values.data(), t.data.size());  // host is little-endian
    return g.add_tensor(std::move(t));
  };
  const int mi = constant(base + "/requant_multiplier", mult);
  const int si = constant(base + "/requant_shift", shift);
  return {mi, si};
}

// TFLite's CalculateActivationRange<float>: unbounded sides are the finite float extremes.
FloatRange float_clamp(ir::Activation act) {
  const FloatRange r = activation_range_float(act);
  return {std::max(r.min, std::numeric_limits<float>::lowest()),
          std::min(r.max, std::numeric_limits<float>::max())};
}

int16_t to_int16(const ir::Graph& g, size_t node, int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int16_t>::max())
    refuse(g, node,
           fmt::format("{} is {}; expected 0..{}", what, v, std::numeric_limits<int16_t>::max()));
  return static_cast<int16_t>(v);
}

namespace {

Axis window_axis(const ir::Graph& g, size_t node, const char* axis, int32_t in, int32_t filter,
                 int stride, int dilation, ir::Padding padding, int pad_attr_before,
                 int pad_attr_after) {
  if (stride < 1 || dilation < 1 || filter < 1)
    refuse(g, node,
           fmt::format("{}: stride {}, dilation {}, filter {}; expected each >= 1", axis, stride,
                       dilation, filter));
  const int64_t effective = (int64_t{filter} - 1) * dilation + 1;
  int64_t out = 0, pad = 0;
  switch (padding) {
    case ir::Padding::same:
      out = (int64_t{in} + stride - 1) / stride;
      pad = std::max<int64_t>(0, (out - 1) * stride + effective - in) / 2;
      break;
    case ir::Padding::valid:
      out = (int64_t{in} + stride - effective) / stride;
      break;
    case ir::Padding::explicit_pads:
      if (pad_attr_before < 0 || pad_attr_after < 0 || pad_attr_before >= effective ||
          pad_attr_after >= effective)
        refuse(g, node,
               fmt::format("{} padding {}+{} with an effective filter of {}; expected "
                           "each side in 0..{}",
                           axis, pad_attr_before, pad_attr_after, effective, effective - 1));
      out = (int64_t{in} + pad_attr_before + pad_attr_after - effective) / stride + 1;
      if (int64_t{in} + pad_attr_before + pad_attr_after < effective) out = 0;
      pad = pad_attr_before;
      break;
  }
  if (out < 1)
    refuse(g, node,
           fmt::format("{}: window {} (filter {}, dilation {}) does not fit the input's {} "
                       "with this padding; expected at least one output",
                       axis, effective, filter, dilation, in));
  return {static_cast<int32_t>(out), static_cast<int32_t>(pad)};
}

}  // namespace

Window2D window_2d(const ir::Graph& g, size_t node, const Operands& o, const ops::WindowAttrs& a,
                   int32_t filter_h, int32_t filter_w, int dilation_h, int dilation_w,
                   int32_t out_channels) {
  const auto& in = g.tensors[o.input].shape;
  const Window2D win{window_axis(g, node, "height", in[1], filter_h, a.stride_h, dilation_h,
                                 a.padding, a.pad_top, a.pad_bottom),
                     window_axis(g, node, "width", in[2], filter_w, a.stride_w, dilation_w,
                                 a.padding, a.pad_left, a.pad_right)};
  const std::vector<int32_t> expected{in[0], win.h.out, win.w.out, out_channels};
  if (g.tensors[o.output].shape != expected)
    refuse(g, node,
           fmt::format("{} has shape {}; the input, filter, strides and padding give {}",
                       label(g, o.output, "output"), shape_str(g.tensors[o.output].shape),
                       shape_str(expected)));
  return win;
}

// Per-channel effective scales of conv and depthwise (PopulateConvolutionQuantizationParams).
std::vector<double> conv_scales(const ir::Graph& g, size_t node, const Operands& o,
                                int32_t channels, int32_t axis) {
  const ActQuant in = activation_quant(g, node, o.input, "input");
  const ActQuant out = activation_quant(g, node, o.output, "output");
  std::vector<double> s;
  for (float fs : filter_scales(g, node, o.filter, channels, axis))
    s.push_back(static_cast<double>(in.scale) * static_cast<double>(fs) /
                static_cast<double>(out.scale));
  return s;
}

}  // namespace conv_lowering
}  // namespace tinyforge::plan
