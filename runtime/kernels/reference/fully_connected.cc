// FullyConnected reference kernel: output[r, o] = sum_i input[r, i] * filter[o, i] + bias[o],
// with the input read as rows of IN = filter's last dim elements and the output's last
// dim OUT. int8 follows TFLite's reference_integer_ops::FullyConnected /
// FullyConnectedPerChannel (per-tensor quantization arrives expanded to OUT equal
// multiplier/shift entries, which gives identical results) and float32
// reference_ops::FullyConnected (tensorflow/lite/kernels/internal/reference/
// {integer_ops/,}fully_connected.h): same accumulation order.
#include "kernels/reference/conv_checks.h"
#include "kernels/reference/output_stage.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

struct FcShape {
  int32_t rows, depth, units;  // depth = IN, units = OUT
};

FcShape fc_shape(const KernelIO& io) {
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  const int32_t units = filter.dims[0];
  return {static_cast<int32_t>(view::element_count(out) / units), filter.dims[1], units};
}

template <typename T, typename Acc, typename Finish>
void fc_loop(const KernelIO& io, int32_t input_offset, Finish finish) {
  const FcShape s = fc_shape(io);
  const T* input = io.in[0].as<const T>();
  const T* filter = io.in[1].as<const T>();
  T* output = io.out[0].as<T>();
  for (int32_t r = 0; r < s.rows; ++r) {
    const T* x = input + r * s.depth;
    for (int32_t o = 0; o < s.units; ++o) {
      const T* w = filter + o * s.depth;
      Acc acc = 0;
      for (int32_t i = 0; i < s.depth; ++i) acc = finish.accumulate(acc, x[i], w[i], input_offset);
      output[r * s.units + o] = finish(acc, o);
    }
  }
}

}  // namespace

Status check_FullyConnected(const FullyConnectedParams& p, const KernelIO& io) {
  DType type;
  const Status typed = checks::check_data_types(io, &type);
  if (typed != Status::ok) return typed;
  const TensorView& in = io.in[0];
  const TensorView& filter = io.in[1];
  const TensorView& out = io.out[0];
  if (in.rank < 1 || out.rank < 1 || !checks::has_positive_dims(filter, 2) ||
      !checks::has_positive_dims(in, in.rank) || !checks::has_positive_dims(out, out.rank))
    return Status::bad_shape;
  const int32_t units = filter.dims[0];
  const int32_t depth = filter.dims[1];
  if (out.dims[out.rank - 1] != units) return Status::bad_shape;
  const int64_t rows = view::element_count(out) / units;
  if (view::element_count(in) != rows * depth) return Status::bad_shape;
  return checks::check_channel_inputs(p, io, type, units);
}

void eval_FullyConnected(const FullyConnectedParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    fc_loop<int8_t, int32_t>(io, p.input_offset, stage::int8_channels(p, io.in));
  } else {
    fc_loop<float, float>(io, 0, stage::float_channels(p, io.in));
  }
}

}  // namespace tinyforge
