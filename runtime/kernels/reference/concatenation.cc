// Reference Concatenation: the inputs joined along `axis`; every other dim equal. A pure
// byte copy for any element type: TFLite requires int8 and int16 inputs to share the
// output's scale and zero point (checked here from the views' quantization), so nothing is
// rescaled.
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// Product of dims [from, to) of a view.
int64_t extent(const TensorView& v, int from, int to) {
  int64_t n = 1;
  for (int i = from; i < to; ++i) n *= v.dims[i];
  return n;
}

}  // namespace

Status check_Concatenation(const ConcatenationParams& p, const KernelIO& io) {
  if (io.num_inputs < 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& out = io.out[0];
  const DType type = out.type;
  if (dtype_size(type) == 0) return Status::bad_enum;
  if (!view::is_valid(out, type) || out.rank < 1) return Status::bad_shape;
  if (p.axis < 0 || p.axis >= out.rank) return Status::bad_params;
  int64_t total = 0;
  for (uint8_t k = 0; k < io.num_inputs; ++k) {
    const TensorView& in = io.in[k];
    if (in.type != type) return Status::bad_enum;
    if (!view::is_valid(in, type) || in.rank != out.rank) return Status::bad_shape;
    for (int d = 0; d < out.rank; ++d)
      if (d != p.axis && in.dims[d] != out.dims[d]) return Status::bad_shape;
    if ((type == DType::i8 || type == DType::i16) &&
        (in.scale != out.scale || in.zero_point != out.zero_point))
      return Status::bad_params;
    total += in.dims[p.axis];
  }
  if (total != out.dims[p.axis]) return Status::bad_shape;
  return Status::ok;
}

void eval_Concatenation(const ConcatenationParams& p, const KernelIO& io) {
  const TensorView& out = io.out[0];
  const uint32_t esize = dtype_size(out.type);
  const int64_t outer = extent(out, 0, p.axis);
  auto* dst = static_cast<uint8_t*>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (uint8_t k = 0; k < io.num_inputs; ++k) {
      const TensorView& in = io.in[k];
      const auto chunk = static_cast<size_t>(extent(in, p.axis, in.rank) * esize);
      std::memmove(dst, static_cast<const uint8_t*>(in.data) + static_cast<size_t>(o) * chunk,
                   chunk);
      dst += chunk;
    }
}

}  // namespace tinyforge
