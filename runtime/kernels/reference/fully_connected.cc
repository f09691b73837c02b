// FullyConnected reference kernel: output[r, o] = sum_i input[r, i] * filter[o, i] + bias[o],
// with the input read as rows of IN = filter's last dim elements and the output's last
// dim OUT. int8 follows TFLite's reference_integer_ops::FullyConnected /
// FullyConnectedPerChannel (per-tensor quantization arrives expanded to OUT equal
// multiplier/shift entries, which gives identical results) and float32
// reference_ops::FullyConnected (tensorflow/lite/kernels/internal/reference/
// {integer_ops/,}fully_connected.h): same accumulation order.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/conv_loops.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_FullyConnected(const FullyConnectedParams& p, const KernelIO& io) {
  DType type;
  const Status typed = checks::check_data_types(io, &type);
  if (typed != Status::ok) return typed;
  const Status geometry = loops::check_fc_geometry(io);
  if (geometry != Status::ok) return geometry;
  return checks::check_channel_inputs(p, io, type, io.in[1].dims[0]);
}

void eval_FullyConnected(const FullyConnectedParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    loops::fc_loop<int8_t, int8_t, int32_t>(io, p.input_offset, stage::int8_channels(p, io.in));
  } else {
    loops::fc_loop<float, float, float>(io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
