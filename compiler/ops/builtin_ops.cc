// Host entries of the ops whose TFLite mapping and lowering predate compiler/ops/: their
// traits here; their TFLite import and export in import/tflite/tflite_ops.cc and
// export/tflite_ops_writer.cc, their lowering in plan/lower_*.cc. An op moves out of this
// file into its own host file (like maximum_minimum.cc) with all of those.
#include "ops/host_op.h"

namespace tinyforge::ops {
namespace {

using Q = ir::QuantRule;
using C = ir::ChannelRule;

constexpr ir::OpTraits make(Q quant, C channels, int weight_axis = -1,
                            bool per_tensor_weights = false) {
  return ir::OpTraits{quant, 0.0f, 0, weight_axis, per_tensor_weights, channels};
}

// int8 outputs the kernels fix as TFLite does: softmax/logistic (1/256, -128), tanh (1/128, 0).
constexpr ir::OpTraits fixed(float scale, int32_t zero_point, C channels) {
  return ir::OpTraits{Q::fixed, scale, zero_point, -1, false, channels};
}

// These ops still hold their fused activation in the shared attributes.
ir::Activation* attrs_activation(ir::Node& n) { return &n.attrs.activation; }

// Target kernel variants: chosen by the planner from IR ops, never seen by the passes.
constexpr ir::OpTraits kKernelVariant = make(Q::not_quantized, C::blocks);

}  // namespace

const HostOp& host_op_FullyConnected() {
  static const HostOp op{
      make(Q::calibrated, C::consumes, 0, /*per_tensor_weights=*/true), {}, nullptr,
      attrs_activation};
  return op;
}

const HostOp& host_op_Add() {
  static const HostOp op{make(Q::calibrated, C::blocks), {}, nullptr, attrs_activation};
  return op;
}

const HostOp& host_op_Reshape() {
  static const HostOp op{make(Q::same_as_input, C::flatten), {}, nullptr, nullptr,
                         [](const ir::Node&) { return "reshape to the same shape"; }};
  return op;
}

const HostOp& host_op_Softmax() {
  static const HostOp op{fixed(1.0f / 256, -128, C::blocks), {}, nullptr};
  return op;
}

const HostOp& host_op_Quantize() {
  static const HostOp op{make(Q::not_quantized, C::elementwise), {}, nullptr};
  return op;
}

const HostOp& host_op_Dequantize() {
  static const HostOp op{make(Q::not_quantized, C::elementwise), {}, nullptr};
  return op;
}

const HostOp& host_op_Conv2DDsp() {
  static const HostOp op{kKernelVariant, {}, nullptr};
  return op;
}

const HostOp& host_op_DepthwiseConv2DDsp() {
  static const HostOp op{kKernelVariant, {}, nullptr};
  return op;
}

const HostOp& host_op_FullyConnectedDsp() {
  static const HostOp op{kKernelVariant, {}, nullptr};
  return op;
}

const HostOp& host_op_AveragePool2DDsp() {
  static const HostOp op{kKernelVariant, {}, nullptr};
  return op;
}

const HostOp& host_op_AddDsp() {
  static const HostOp op{kKernelVariant, {}, nullptr};
  return op;
}

}  // namespace tinyforge::ops
