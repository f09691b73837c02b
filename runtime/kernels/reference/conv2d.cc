// Conv2D reference kernel, NHWC, filter [OC, KH, KW, IC/groups].
// int8 follows TFLite's reference_integer_ops::ConvPerChannel and float32 follows
// reference_ops::Conv (tensorflow/lite/kernels/internal/reference/{integer_ops/,}conv.h):
// same accumulation order, taps outside the input skipped, grouped convolution when the
// filter's last dim divides the input channels (output channel oc belongs to group
// oc / (OC / groups)).
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/conv_loops.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Conv2D(const Conv2DParams& p, const KernelIO& io) {
  DType type;
  const Status views = checks::check_windowed_views(io, &type);
  if (views != Status::ok) return views;
  const Status geometry = loops::check_conv_geometry(p, io);
  if (geometry != Status::ok) return geometry;
  return checks::check_channel_inputs(p, io, type, io.out[0].dims[3]);
}

void eval_Conv2D(const Conv2DParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    loops::conv_loop<int8_t, int8_t, int32_t>(p, io, p.input_offset,
                                              stage::int8_channels(p, io.in));
  } else {
    loops::conv_loop<float, float, float>(p, io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
