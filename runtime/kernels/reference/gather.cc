// Reference Gather: slices of the data along `axis` picked by int32 indices, as TFLite's
// reference_ops::Gather (tensorflow/lite/kernels/internal/reference/gather.h) with
// batch_dims 0: for each outer position and each index, the inner block at that index is
// copied. TFLite stops on an index outside the axis; here (only a damaged plan has one) the
// block is zero-filled, so nothing outside the data is read.
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// Elements of `v` over dims [from, to).
int64_t product(const TensorView& v, int from, int to) {
  int64_t n = 1;
  for (int d = from; d < to; ++d) n *= v.dims[d];
  return n;
}

}  // namespace

Status check_Gather(const GatherParams& p, const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& data = io.in[0];
  const TensorView& indices = io.in[1];
  const TensorView& out = io.out[0];
  if (data.type != out.type || !view::is_activation(data.type)) return Status::bad_enum;
  if (!view::is_valid(data, data.type) || !view::is_valid(out, out.type) ||
      !view::is_valid(indices, DType::i32))
    return Status::bad_shape;
  if (p.axis < 0 || p.axis >= data.rank) return Status::bad_params;
  // The output's dims: data before the axis, the indices', data after the axis.
  if (int{out.rank} != data.rank - 1 + indices.rank) return Status::bad_shape;
  int k = 0;
  for (int d = 0; d < p.axis; ++d)
    if (out.dims[k++] != data.dims[d]) return Status::bad_shape;
  for (int d = 0; d < indices.rank; ++d)
    if (out.dims[k++] != indices.dims[d]) return Status::bad_shape;
  for (int d = p.axis + 1; d < data.rank; ++d)
    if (out.dims[k++] != data.dims[d]) return Status::bad_shape;
  if (!view::same_quantization(data, out)) return Status::bad_params;
  return Status::ok;
}

void eval_Gather(const GatherParams& p, const KernelIO& io) {
  const TensorView& data = io.in[0];
  const TensorView& out = io.out[0];
  const size_t esize = dtype_size(data.type);
  const int64_t outer = product(data, 0, p.axis), n = data.dims[p.axis];
  const auto block = static_cast<size_t>(product(data, p.axis + 1, data.rank)) * esize;
  const auto count = static_cast<int64_t>(view::element_count(io.in[1]));
  const int32_t* indices = io.in[1].as<const int32_t>();
  const auto* src = static_cast<const uint8_t*>(data.data);
  auto* dst = static_cast<uint8_t*>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < count; ++i, dst += block) {
      const int32_t index = indices[i];
      if (index < 0 || index >= n) {
        std::memset(dst, 0, block);
        continue;
      }
      std::memcpy(dst, src + static_cast<size_t>(o * n + index) * block, block);
    }
}

}  // namespace tinyforge
