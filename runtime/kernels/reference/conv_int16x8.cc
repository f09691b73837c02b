// The 16x8 twins of the conv family (TFLite's 16x8 scheme: int16 activations with zero point
// 0, int8 per-channel weights, int64 bias). Conv2DInt16 follows TFLite's int16
// reference_integer_ops::ConvPerChannel (tensorflow/lite/kernels/internal/reference/
// integer_ops/conv.h), DepthwiseConv2DInt16 its int16 DepthwiseConvPerChannel
// (depthwise_conv.h) and FullyConnectedInt16 its FullyConnected with int16 input and int64
// bias (fully_connected.h): the loops of the int8 kernels (conv_loops.h) with a 64-bit
// accumulator and the output stage of output_stage.h's Int16x8Channels. A file of their own,
// so only images whose plan uses them link them.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/conv_loops.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Conv2DInt16(const Conv2DParams& p, const KernelIO& io) {
  const Status typed = checks::check_int16x8_types(io);
  if (typed != Status::ok) return typed;
  if (!checks::has_windowed_dims(io)) return Status::bad_shape;
  const Status geometry = loops::check_conv_geometry(p, io);
  if (geometry != Status::ok) return geometry;
  return checks::check_int16x8_channels(p, io, io.out[0].dims[3]);
}

void eval_Conv2DInt16(const Conv2DParams& p, const KernelIO& io) {
  loops::conv_loop<int16_t, int8_t, int64_t>(p, io, 0, stage::int16x8_channels(p, io.in));
}

Status check_DepthwiseConv2DInt16(const DepthwiseConv2DParams& p, const KernelIO& io) {
  const Status typed = checks::check_int16x8_types(io);
  if (typed != Status::ok) return typed;
  if (!checks::has_windowed_dims(io)) return Status::bad_shape;
  const Status geometry = loops::check_depthwise_geometry(p, io);
  if (geometry != Status::ok) return geometry;
  return checks::check_int16x8_channels(p, io, io.out[0].dims[3]);
}

void eval_DepthwiseConv2DInt16(const DepthwiseConv2DParams& p, const KernelIO& io) {
  loops::depthwise_loop<int16_t, int8_t, int64_t>(p, io, 0, stage::int16x8_channels(p, io.in));
}

Status check_FullyConnectedInt16(const FullyConnectedParams& p, const KernelIO& io) {
  const Status typed = checks::check_int16x8_types(io);
  if (typed != Status::ok) return typed;
  const Status geometry = loops::check_fc_geometry(io);
  if (geometry != Status::ok) return geometry;
  return checks::check_int16x8_channels(p, io, io.in[1].dims[0]);
}

void eval_FullyConnectedInt16(const FullyConnectedParams& p, const KernelIO& io) {
  loops::fc_loop<int16_t, int8_t, int64_t>(io, 0, stage::int16x8_channels(p, io.in));
}

}  // namespace tinyforge
