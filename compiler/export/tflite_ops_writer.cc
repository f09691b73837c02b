// IR node -> TFLite operator(s): builtin code, version, options and operand list. Adding
// an op means one case in write_node plus its write_* function here.
//
// Facts used: option fields and operand order from tensorflow/lite/schema/schema.fbs;
// versions from tensorflow/lite/tools/versioning/op_version.cc (int8 CONV_2D and
// DEPTHWISE_CONV_2D 3, grouped CONV_2D 6, FULLY_CONNECTED int8 4 / keep_num_dims 5 /
// no bias 6, int8 pools, ADD, MUL, SOFTMAX, LOGISTIC, TANH, CONCATENATION, TRANSPOSE, PAD,
// RELU, RELU6 and DEQUANTIZE 2, everything else 1); padding rules of
// tensorflow/lite/kernels/padding.h (SAME: out = ceil(in / stride), pad_before =
// max(0, (out - 1) * stride + effective - in) / 2; VALID: out = (in - effective) / stride
// + 1, no padding).
#include <fmt/format.h>

#include <cmath>

#include "export/tflite_builder.h"

namespace tinyforge::tflite_export {
namespace {

using Builtin = tfl::BuiltinOperator;
using Options = tfl::BuiltinOptions;

[[noreturn]] void refuse(const ModelBuilder& b, size_t node, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}: {}", b.graph().source, b.graph().node_label(node), what));
}

tfl::ActivationFunctionType activation(ir::Activation a) {
  switch (a) {
    case ir::Activation::none:
      return tfl::ActivationFunctionType::NONE;
    case ir::Activation::relu:
      return tfl::ActivationFunctionType::RELU;
    case ir::Activation::relu_n1_to_1:
      return tfl::ActivationFunctionType::RELU_N1_TO_1;
    case ir::Activation::relu6:
      return tfl::ActivationFunctionType::RELU6;
  }
  return tfl::ActivationFunctionType::NONE;
}

const ir::Tensor& in_tensor(const ModelBuilder& b, size_t node, size_t i) {
  return b.graph().tensors.at(static_cast<size_t>(b.graph().nodes[node].inputs.at(i)));
}
const ir::Tensor& out_tensor(const ModelBuilder& b, size_t node) {
  return b.graph().tensors.at(static_cast<size_t>(b.graph().nodes[node].outputs.at(0)));
}
bool is_int8(const ModelBuilder& b, size_t node) { return in_tensor(b, node, 0).type == DType::i8; }

std::vector<int32_t> io_of(ModelBuilder& b, const std::vector<int>& ir) {
  std::vector<int32_t> out;
  for (int t : ir) out.push_back(b.tensor(t));
  return out;
}

// How an IR window's padding is written.
struct WindowPadding {
  tfl::Padding padding = tfl::Padding::VALID;
  bool needs_pad_op = false;  // explicit padding that neither SAME nor VALID expresses
};

struct AxisShape {
  int32_t in, filter, stride, dilation, pad_before, out;
};

bool same_matches(const AxisShape& a) {
  const int64_t effective = int64_t{a.filter - 1} * a.dilation + 1;
  const int64_t out = (int64_t{a.in} + a.stride - 1) / a.stride;
  const int64_t pad = std::max<int64_t>(0, (out - 1) * a.stride + effective - a.in) / 2;
  return out == a.out && pad == a.pad_before;
}
bool valid_matches(const AxisShape& a) {
  const int64_t effective = int64_t{a.filter - 1} * a.dilation + 1;
  return a.pad_before == 0 && a.in >= effective && (a.in - effective) / a.stride + 1 == a.out;
}

WindowPadding window_padding(const ModelBuilder& b, size_t node, int32_t filter_h, int32_t filter_w,
                             int dilation_h, int dilation_w) {
  const ir::Attrs& a = b.graph().nodes[node].attrs;
  if (a.padding == ir::Padding::same) return {tfl::Padding::SAME, false};
  if (a.padding == ir::Padding::valid) return {tfl::Padding::VALID, false};
  const auto& in = in_tensor(b, node, 0).shape;
  const auto& out = out_tensor(b, node).shape;
  const AxisShape h{in[1], filter_h, a.stride_h, dilation_h, a.pad_top, out[1]};
  const AxisShape w{in[2], filter_w, a.stride_w, dilation_w, a.pad_left, out[2]};
  if (same_matches(h) && same_matches(w)) return {tfl::Padding::SAME, false};
  if (valid_matches(h) && valid_matches(w)) return {tfl::Padding::VALID, false};
  return {tfl::Padding::VALID, true};
}

// A PAD op in front of a conv whose explicit padding TFLite cannot express; returns the
// padded tensor. int8 PAD fills with the zero point, i.e. real 0 as the conv expects.
int32_t pad_in_front(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& in = in_tensor(b, node, 0);
  ir::Tensor padded = in;
  padded.name = in.name + "/padded";
  padded.constant = false;
  padded.data.clear();
  padded.shape[1] += n.attrs.pad_top + n.attrs.pad_bottom;
  padded.shape[2] += n.attrs.pad_left + n.attrs.pad_right;
  const int32_t out = b.activation(padded);
  const int32_t pads = b.constant_i32(
      padded.name + "/paddings", {4, 2},
      {0, 0, n.attrs.pad_top, n.attrs.pad_bottom, n.attrs.pad_left, n.attrs.pad_right, 0, 0});
  b.add_operator(Builtin::PAD, is_int8(b, node) ? 2 : 1, {b.tensor(n.inputs[0]), pads}, {out},
                 Options::PadOptions, tfl::CreatePadOptions(b.fbb()).Union());
  return out;
}

void write_conv(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto& w = in_tensor(b, node, 1).shape;  // [OC, KH, KW, IC / groups]
  const WindowPadding wp =
      window_padding(b, node, w[1], w[2], n.attrs.dilation_h, n.attrs.dilation_w);
  std::vector<int32_t> inputs = io_of(b, n.inputs);
  if (wp.needs_pad_op) inputs[0] = pad_in_front(b, node);
  const bool grouped = in_tensor(b, node, 0).shape[3] != w[3];
  const int32_t version = grouped ? 6 : is_int8(b, node) ? 3 : 1;
  const auto options = tfl::CreateConv2DOptions(b.fbb(), wp.padding, n.attrs.stride_w,
                                                n.attrs.stride_h, activation(n.attrs.activation),
                                                n.attrs.dilation_w, n.attrs.dilation_h);
  b.add_operator(Builtin::CONV_2D, version, inputs, io_of(b, n.outputs), Options::Conv2DOptions,
                 options.Union());
}

void write_depthwise(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto& w = in_tensor(b, node, 1).shape;  // [1, KH, KW, OC]
  const WindowPadding wp =
      window_padding(b, node, w[1], w[2], n.attrs.dilation_h, n.attrs.dilation_w);
  std::vector<int32_t> inputs = io_of(b, n.inputs);
  if (wp.needs_pad_op) inputs[0] = pad_in_front(b, node);
  const bool dilated = n.attrs.dilation_h != 1 || n.attrs.dilation_w != 1;
  const int32_t version = is_int8(b, node) ? 3 : dilated ? 2 : 1;
  const auto options = tfl::CreateDepthwiseConv2DOptions(
      b.fbb(), wp.padding, n.attrs.stride_w, n.attrs.stride_h, n.attrs.depth_multiplier,
      activation(n.attrs.activation), n.attrs.dilation_w, n.attrs.dilation_h);
  b.add_operator(Builtin::DEPTHWISE_CONV_2D, version, inputs, io_of(b, n.outputs),
                 Options::DepthwiseConv2DOptions, options.Union());
}

void write_fully_connected(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto& in = in_tensor(b, node, 0).shape;
  const auto& out = out_tensor(b, node).shape;
  // keep_num_dims: the output keeps the input's leading dims (rank > 2), else [rows, units].
  std::vector<int32_t> kept = in;
  if (!kept.empty()) kept.back() = out.empty() ? 0 : out.back();
  const bool keep_num_dims = out.size() != 2 && out == kept;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  const int32_t version = !has_bias ? 6 : keep_num_dims ? 5 : is_int8(b, node) ? 4 : 1;
  std::vector<int32_t> inputs = io_of(b, n.inputs);
  if (!has_bias) inputs.resize(2);
  const auto options = tfl::CreateFullyConnectedOptions(
      b.fbb(), activation(n.attrs.activation), tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
      keep_num_dims);
  b.add_operator(Builtin::FULLY_CONNECTED, version, inputs, io_of(b, n.outputs),
                 Options::FullyConnectedOptions, options.Union());
}

void write_pool(ModelBuilder& b, size_t node, Builtin builtin) {
  const ir::Node& n = b.graph().nodes[node];
  const WindowPadding wp = window_padding(b, node, n.attrs.filter_h, n.attrs.filter_w, 1, 1);
  if (wp.needs_pad_op)
    refuse(b, node,
           fmt::format("padding top {} left {} bottom {} right {} is neither SAME nor VALID; "
                       "TFLite pools have no explicit padding",
                       n.attrs.pad_top, n.attrs.pad_left, n.attrs.pad_bottom, n.attrs.pad_right));
  const auto options =
      tfl::CreatePool2DOptions(b.fbb(), wp.padding, n.attrs.stride_w, n.attrs.stride_h,
                               n.attrs.filter_w, n.attrs.filter_h, activation(n.attrs.activation));
  b.add_operator(builtin, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 Options::Pool2DOptions, options.Union());
}

void write_add(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateAddOptions(b.fbb(), activation(n.attrs.activation));
  b.add_operator(Builtin::ADD, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 Options::AddOptions, options.Union());
}

void write_mul(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateMulOptions(b.fbb(), activation(n.attrs.activation));
  b.add_operator(Builtin::MUL, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 Options::MulOptions, options.Union());
}

void write_reshape(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& out = out_tensor(b, node);
  const int32_t rank = static_cast<int32_t>(out.shape.size());
  const int32_t shape = b.constant_i32(out.name + "/shape", {rank}, out.shape);
  const auto new_shape = b.fbb().CreateVector(out.shape);
  const auto options = tfl::CreateReshapeOptions(b.fbb(), new_shape);
  b.add_operator(Builtin::RESHAPE, 1, {b.tensor(n.inputs[0]), shape}, io_of(b, n.outputs),
                 Options::ReshapeOptions, options.Union());
}

void write_softmax(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateSoftmaxOptions(b.fbb(), n.attrs.beta);
  b.add_operator(Builtin::SOFTMAX, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), Options::SoftmaxOptions, options.Union());
}

void write_unary(ModelBuilder& b, size_t node, Builtin builtin, int32_t int8_version) {
  const ir::Node& n = b.graph().nodes[node];
  b.add_operator(builtin, is_int8(b, node) ? int8_version : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs));
}

// Clamp: TFLite has the bounds of its RELU family as builtins.
void write_clamp(ModelBuilder& b, size_t node) {
  const ir::Attrs& a = b.graph().nodes[node].attrs;
  const bool unbounded = std::isinf(a.clamp_max) && a.clamp_max > 0;
  if (a.clamp_min == 0.0f && unbounded) return write_unary(b, node, Builtin::RELU, 2);
  if (a.clamp_min == 0.0f && a.clamp_max == 6.0f) return write_unary(b, node, Builtin::RELU6, 2);
  if (a.clamp_min == -1.0f && a.clamp_max == 1.0f)
    return write_unary(b, node, Builtin::RELU_N1_TO_1, 1);
  if (a.clamp_min == 0.0f && a.clamp_max == 1.0f)
    return write_unary(b, node, Builtin::RELU_0_TO_1, 1);
  refuse(b, node,
         fmt::format("clamp to [{}, {}] has no TFLite builtin; expected [0, inf), [0, 6], "
                     "[-1, 1] or [0, 1]",
                     a.clamp_min, a.clamp_max));
}

void write_quantize(ModelBuilder& b, size_t node) { write_unary(b, node, Builtin::QUANTIZE, 1); }
void write_dequantize(ModelBuilder& b, size_t node) {
  write_unary(b, node, Builtin::DEQUANTIZE, 2);
}

void write_concatenation(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateConcatenationOptions(b.fbb(), n.attrs.axis);
  b.add_operator(Builtin::CONCATENATION, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs),
                 io_of(b, n.outputs), Options::ConcatenationOptions, options.Union());
}

void write_transpose(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& out = out_tensor(b, node);
  const int32_t rank = static_cast<int32_t>(n.attrs.perm.size());
  const int32_t perm = b.constant_i32(out.name + "/perm", {rank}, n.attrs.perm);
  b.add_operator(Builtin::TRANSPOSE, is_int8(b, node) ? 2 : 1, {b.tensor(n.inputs[0]), perm},
                 io_of(b, n.outputs), Options::TransposeOptions,
                 tfl::CreateTransposeOptions(b.fbb()).Union());
}

void write_pad(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const ir::Tensor& in = in_tensor(b, node, 0);
  const ir::Tensor& out = out_tensor(b, node);
  const size_t rank = in.shape.size();
  if (n.attrs.pads.size() != 2 * rank)
    refuse(b, node, fmt::format("pads has {} entries; expected {}", n.attrs.pads.size(), 2 * rank));
  std::vector<int32_t> paddings;  // [rank, 2]: (before, after) per dimension
  for (size_t d = 0; d < rank; ++d) {
    paddings.push_back(n.attrs.pads[d]);
    paddings.push_back(n.attrs.pads[rank + d]);
  }
  const int32_t pads =
      b.constant_i32(out.name + "/paddings", {static_cast<int32_t>(rank), 2}, paddings);
  const int32_t version = is_int8(b, node) ? 2 : 1;
  if (n.attrs.pad_value == 0.0f) {
    b.add_operator(Builtin::PAD, version, {b.tensor(n.inputs[0]), pads}, io_of(b, n.outputs),
                   Options::PadOptions, tfl::CreatePadOptions(b.fbb()).Union());
    return;
  }
  // PADV2: the border value is a one-element tensor of the input's type and quantization.
  ir::Tensor value;
  value.name = out.name + "/pad_value";
  value.type = in.type;
  value.shape = {1};
  value.constant = true;
  value.quant = in.quant;
  if (in.type == DType::i8) {
    const float q = std::round(n.attrs.pad_value / in.quant.scale.at(0)) +
                    static_cast<float>(in.quant.zero_point.empty() ? 0 : in.quant.zero_point[0]);
    value.data = {static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f)))};
  } else if (in.type == DType::f32) {
    value.data.resize(4);
    std::memcpy(value.data.data(), &n.attrs.pad_value, 4);
  } else {
    refuse(b, node, fmt::format("a non-zero pad value on {} data", dtype_name(in.type)));
  }
  b.add_operator(Builtin::PADV2, version, {b.tensor(n.inputs[0]), pads, b.constant(value)},
                 io_of(b, n.outputs), Options::PadV2Options,
                 tfl::CreatePadV2Options(b.fbb()).Union());
}

}  // namespace

void write_node(ModelBuilder& b, size_t node) {
  switch (b.graph().nodes[node].op) {
    case OpCode::Conv2D:
      return write_conv(b, node);
    case OpCode::DepthwiseConv2D:
      return write_depthwise(b, node);
    case OpCode::FullyConnected:
      return write_fully_connected(b, node);
    case OpCode::AveragePool2D:
      return write_pool(b, node, Builtin::AVERAGE_POOL_2D);
    case OpCode::MaxPool2D:
      return write_pool(b, node, Builtin::MAX_POOL_2D);
    case OpCode::Add:
      return write_add(b, node);
    case OpCode::Reshape:
      return write_reshape(b, node);
    case OpCode::Softmax:
      return write_softmax(b, node);
    case OpCode::Quantize:
      return write_quantize(b, node);
    case OpCode::Dequantize:
      return write_dequantize(b, node);
    case OpCode::Mul:
      return write_mul(b, node);
    case OpCode::Logistic:
      return write_unary(b, node, Builtin::LOGISTIC, 2);
    case OpCode::Tanh:
      return write_unary(b, node, Builtin::TANH, 2);
    case OpCode::Clamp:
      return write_clamp(b, node);
    case OpCode::Concatenation:
      return write_concatenation(b, node);
    case OpCode::Transpose:
      return write_transpose(b, node);
    case OpCode::Pad:
      return write_pad(b, node);
    default:
      break;  // ops added to ops.def later: refused until mapped here
  }
  refuse(b, node, "no TFLite operator for this op");
}

}  // namespace tinyforge::tflite_export
