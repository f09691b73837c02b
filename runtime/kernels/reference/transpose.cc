// Reference Transpose: output dim i is input dim perm[i] (rank <= 4), for any element type;
// a byte permutation (TFLite's reference_ops::Transpose semantics).
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_Transpose(const TransposeParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type || dtype_size(in.type) == 0) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type) || in.rank != out.rank)
    return Status::bad_shape;
  bool seen[kMaxRank] = {false, false, false, false};
  for (int i = 0; i < kMaxRank; ++i) {
    const int32_t q = p.perm[i];
    if (i >= in.rank) {
      if (q != i) return Status::bad_params;  // unused entries are the identity
      continue;
    }
    if (q < 0 || q >= in.rank || seen[q]) return Status::bad_params;
    seen[q] = true;
    if (out.dims[i] != in.dims[q]) return Status::bad_shape;
  }
  return Status::ok;
}

void eval_Transpose(const TransposeParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const uint32_t esize = dtype_size(in.type);
  // Input strides (elements), then the stride of each output dim in the input.
  int32_t in_stride[kMaxRank];
  int32_t s = 1;
  for (int i = kMaxRank - 1; i >= 0; --i) {
    in_stride[i] = i < in.rank ? s : 0;
    if (i < in.rank) s *= in.dims[i];
  }
  int32_t dims[kMaxRank], stride[kMaxRank];
  for (int i = 0; i < kMaxRank; ++i) {
    dims[i] = i < out.rank ? out.dims[i] : 1;
    stride[i] = i < out.rank ? in_stride[p.perm[i]] : 0;
  }
  const auto* src = static_cast<const uint8_t*>(in.data);
  auto* dst = static_cast<uint8_t*>(out.data);
  for (int32_t a = 0; a < dims[0]; ++a)
    for (int32_t b = 0; b < dims[1]; ++b)
      for (int32_t c = 0; c < dims[2]; ++c)
        for (int32_t d = 0; d < dims[3]; ++d) {
          const int32_t k = a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3];
          std::memmove(dst, src + static_cast<size_t>(k) * esize, esize);
          dst += esize;
        }
}

}  // namespace tinyforge
