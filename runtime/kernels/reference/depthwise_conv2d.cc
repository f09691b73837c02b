// DepthwiseConv2D reference kernel, NHWC, filter [1, KH, KW, IC * depth_multiplier]:
// output channel ic * M + m convolves input channel ic with filter channel ic * M + m.
// int8 follows TFLite's reference_integer_ops::DepthwiseConvPerChannel and float32
// reference_ops::DepthwiseConv (tensorflow/lite/kernels/internal/reference/
// integer_ops/depthwise_conv.h, depthwiseconv_float.h): same accumulation order, taps
// outside the input skipped.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/conv_loops.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_DepthwiseConv2D(const DepthwiseConv2DParams& p, const KernelIO& io) {
  DType type;
  const Status views = checks::check_windowed_views(io, &type);
  if (views != Status::ok) return views;
  const Status geometry = loops::check_depthwise_geometry(p, io);
  if (geometry != Status::ok) return geometry;
  return checks::check_channel_inputs(p, io, type, io.out[0].dims[3]);
}

void eval_DepthwiseConv2D(const DepthwiseConv2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    loops::depthwise_loop<int8_t, int8_t, int32_t>(p, io, p.input_offset,
                                                   stage::int8_channels(p, io.in));
  } else {
    loops::depthwise_loop<float, float, float>(p, io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
