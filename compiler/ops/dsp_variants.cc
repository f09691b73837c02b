// Kernel variants (ops.def rows after the IR ops: the DSP twins, the 16x8 twins and the conv
// chains): chosen by the planner from IR ops (plan/select_kernels.cc, plan/conv_chain.cc)
// and lowered in plan/lower_dsp.cc and the host files of their ops, never in the IR the
// importers, exporters and passes see; their host entries hold neutral traits only.
#include "ops/host_op.h"

namespace tinyforge::ops {
namespace {

constexpr ir::OpTraits kKernelVariant{ir::QuantRule::not_quantized, 0.0f, 0, -1, false,
                                      ir::ChannelRule::blocks};

}  // namespace

const HostOp& host_op_Conv2DDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_DepthwiseConv2DDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_FullyConnectedDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_FullyConnectedSparse() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_AveragePool2DDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_AddDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_ConvChainDsp() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_Conv2DInt16() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_DepthwiseConv2DInt16() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

const HostOp& host_op_FullyConnectedInt16() {
  static const HostOp op{kKernelVariant, {}, {}, nullptr};
  return op;
}

}  // namespace tinyforge::ops
