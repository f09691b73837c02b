// Reference ArgMax and ArgMin: for each position outside `axis`, the index along it of the
// largest (smallest) value. As TFLite's reference_ops::ArgMinMax
// (tensorflow/lite/kernels/internal/reference/arg_min_max.h): start from index 0 and move on
// only when std::greater (std::less) holds, so ties keep the smallest index and NaN never
// wins. ONNX's select_last_index moves on ties too (the last index). int8 compares the
// stored values: the input's positive scale keeps their order.
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// The output's dims are the input's without `axis`, or with `axis` kept as 1.
bool reduced_dims(const TensorView& in, const TensorView& out, int axis) {
  if (out.rank == in.rank) {
    for (int d = 0; d < in.rank; ++d)
      if (out.dims[d] != (d == axis ? 1 : in.dims[d])) return false;
    return true;
  }
  if (out.rank + 1 != in.rank) return false;
  for (int d = 0, k = 0; d < in.rank; ++d)
    if (d != axis && out.dims[k++] != in.dims[d]) return false;
  return true;
}

Status check_arg_min_max(const ArgMinMaxParams& p, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != DType::f32 && in.type != DType::i8) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, DType::i32)) return Status::bad_shape;
  if (p.axis < 0 || p.axis >= in.rank || in.dims[p.axis] < 1) return Status::bad_params;
  if (p.select_last_index != 0 && p.select_last_index != 1) return Status::bad_params;
  return reduced_dims(in, out, p.axis) ? Status::ok : Status::bad_shape;
}

template <typename T, typename Better>
void arg_min_max(const ArgMinMaxParams& p, const KernelIO& io, Better better) {
  const TensorView& in = io.in[0];
  const T* x = in.as<const T>();
  int32_t* out = io.out[0].as<int32_t>();
  int32_t outer = 1, inner = 1;
  for (int d = 0; d < p.axis; ++d) outer *= in.dims[d];
  for (int d = p.axis + 1; d < in.rank; ++d) inner *= in.dims[d];
  const int32_t n = in.dims[p.axis];
  const bool last = p.select_last_index != 0;
  for (int32_t o = 0; o < outer; ++o)
    for (int32_t i = 0; i < inner; ++i) {
      const T* column = x + static_cast<int64_t>(o) * n * inner + i;
      T best = column[0];
      int32_t index = 0;
      for (int32_t k = 1; k < n; ++k) {
        const T v = column[static_cast<int64_t>(k) * inner];
        if (better(v, best) || (last && v == best)) {
          best = v;
          index = k;
        }
      }
      out[static_cast<int64_t>(o) * inner + i] = index;
    }
}

template <typename Better>
void eval_arg_min_max(const ArgMinMaxParams& p, const KernelIO& io, Better better) {
  if (io.in[0].type == DType::i8)
    arg_min_max<int8_t>(p, io, better);
  else
    arg_min_max<float>(p, io, better);
}

struct Greater {
  template <typename T>
  bool operator()(T a, T b) const {
    return a > b;
  }
};
struct Less {
  template <typename T>
  bool operator()(T a, T b) const {
    return a < b;
  }
};

}  // namespace

Status check_ArgMax(const ArgMinMaxParams& p, const KernelIO& io) {
  return check_arg_min_max(p, io);
}
void eval_ArgMax(const ArgMinMaxParams& p, const KernelIO& io) {
  eval_arg_min_max(p, io, Greater{});
}

Status check_ArgMin(const ArgMinMaxParams& p, const KernelIO& io) {
  return check_arg_min_max(p, io);
}
void eval_ArgMin(const ArgMinMaxParams& p, const KernelIO& io) { eval_arg_min_max(p, io, Less{}); }

}  // namespace tinyforge
