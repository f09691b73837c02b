// Reference StridedSlice: out[i0, i1, i2, i3] = in[start_0 + i0 * stride_0, ...] for
// i_d < count_d (rank <= 4; dims past the rank: start 0, stride 1, count 1). Strides may be
// negative. The compiler resolves TFLite's begin/end/masks to (start, stride, count) as
// TFLite's strided_slice_logic.h StartForAxis / StopForAxis do; shrunk dims are counts of 1.
// Any dtype: elements are copied (int8 input and output share one quantization).
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_StridedSlice(const StridedSliceParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type || dtype_size(in.type) == 0) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  int64_t elements = 1;
  for (int d = 0; d < 4; ++d) {
    const int32_t dim = d < in.rank ? in.dims[d] : 1;
    const int32_t count = p.count[d];
    if (count < 1) return Status::bad_params;
    const int64_t last = int64_t{p.start[d]} + int64_t{count - 1} * p.stride[d];
    if (p.start[d] < 0 || p.start[d] >= dim || last < 0 || last >= dim) return Status::bad_params;
    if (d >= in.rank && (p.start[d] != 0 || count != 1)) return Status::bad_params;
    elements *= count;
  }
  if (view::element_count(out) != elements) return Status::bad_shape;
  return Status::ok;
}

void eval_StridedSlice(const StridedSliceParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  int32_t stride[4];
  int32_t s = 1;
  for (int d = 3; d >= 0; --d) {
    stride[d] = s;
    s *= d < in.rank ? in.dims[d] : 1;
  }
  const uint32_t size = dtype_size(in.type);
  const uint8_t* src = in.as<const uint8_t>();
  uint8_t* dst = io.out[0].as<uint8_t>();
  for (int32_t a = 0; a < p.count[0]; ++a)
    for (int32_t b = 0; b < p.count[1]; ++b)
      for (int32_t c = 0; c < p.count[2]; ++c)
        for (int32_t d = 0; d < p.count[3]; ++d) {
          const int32_t at = (p.start[0] + a * p.stride[0]) * stride[0] +
                             (p.start[1] + b * p.stride[1]) * stride[1] +
                             (p.start[2] + c * p.stride[2]) * stride[2] +
                             (p.start[3] + d * p.stride[3]) * stride[3];
          for (uint32_t k = 0; k < size; ++k) *dst++ = src[static_cast<uint32_t>(at) * size + k];
        }
}

}  // namespace tinyforge
