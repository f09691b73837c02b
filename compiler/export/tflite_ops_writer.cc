// IR node -> TFLite operator(s): builtin code, version, options and operand list, for the
// ops whose mapping has not moved to their own file under compiler/ops/ (those are written
// through ops::host_op(op).write_tflite).
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
#include "ops/host_op.h"

namespace tinyforge::tflite_export {
namespace {

using Builtin = tfl::BuiltinOperator;
using Options = tfl::BuiltinOptions;

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

}  // namespace

WindowPadding window_padding(const ModelBuilder& b, size_t node, const ops::WindowAttrs& a,
                             int32_t filter_h, int32_t filter_w, int dilation_h, int dilation_w) {
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

namespace {

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

void write_add(ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  const auto options = tfl::CreateAddOptions(b.fbb(), activation(n.attrs.activation));
  b.add_operator(Builtin::ADD, is_int8(b, node) ? 2 : 1, io_of(b, n.inputs), io_of(b, n.outputs),
                 Options::AddOptions, options.Union());
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

void write_quantize(ModelBuilder& b, size_t node) { write_unary(b, node, Builtin::QUANTIZE, 1); }
void write_dequantize(ModelBuilder& b, size_t node) {
  write_unary(b, node, Builtin::DEQUANTIZE, 2);
}

}  // namespace

void write_node(ModelBuilder& b, size_t node) {
  switch (b.graph().nodes[node].op) {
    case OpCode::FullyConnected:
      return write_fully_connected(b, node);
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
    default:
      break;
  }
  if (const auto write = ops::host_op(b.graph().nodes[node].op).write_tflite)
    return write(b, node);
  refuse(b, node, "no TFLite operator for this op");
}

}  // namespace tinyforge::tflite_export
