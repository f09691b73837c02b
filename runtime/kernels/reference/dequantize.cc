// Reference Dequantize: int8 or int16 -> float32, out = scale * (in - zero_point), computed
// in single precision like TFLite's reference_ops::Dequantize (float scale times the int32
// difference converted to float).
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

template <typename In>
void dequantize(const DequantizeParams& p, const KernelIO& io) {
  const In* in = io.in[0].as<const In>();
  float* out = io.out[0].as<float>();
  const int32_t n = static_cast<int32_t>(view::element_count(io.in[0]));
  for (int32_t i = 0; i < n; ++i) out[i] = p.scale * static_cast<float>(in[i] - p.zero_point);
}

}  // namespace

Status check_Dequantize(const DequantizeParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if ((in.type != DType::i8 && in.type != DType::i16) || out.type != DType::f32)
    return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  if (view::element_count(in) != view::element_count(out)) return Status::bad_shape;
  const int32_t lo = in.type == DType::i8 ? -128 : -32768, hi = in.type == DType::i8 ? 127 : 32767;
  if (p.zero_point < lo || p.zero_point > hi) return Status::bad_params;
  if (!(p.scale > 0.0f)) return Status::bad_params;  // also rejects NaN
  return Status::ok;
}

void eval_Dequantize(const DequantizeParams& p, const KernelIO& io) {
  if (io.in[0].type == DType::i8) {
    dequantize<int8_t>(p, io);
  } else {
    dequantize<int16_t>(p, io);
  }
}

}  // namespace tinyforge
