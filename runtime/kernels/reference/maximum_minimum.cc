// Reference Maximum and Minimum: out = max(in0, in1) / min(in0, in1) elementwise with numpy
// broadcasting up to rank 4 (broadcast.h's walk). As TFLite's reference kernels
// (kernels/maximum_minimum.cc, MaximumOp / MinimumOp): el1 > el2 ? el1 : el2 and
// el1 < el2 ? el1 : el2, on the stored values; for int8 and int16 (TFLite's 16x8 scheme)
// that is exact because both inputs and the output share one scale and zero point, which
// check_ requires; int32 compares plain integers.
#include <cstdint>

#include "kernels/reference/broadcast.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

Status check_maximum_minimum(const KernelIO& io) {
  if (const Status s = broadcast::check_binary_io(io, /*int16=*/true, /*int32=*/true);
      s != Status::ok)
    return s;
  if (io.out[0].type == DType::i32) return Status::ok;
  if (!view::same_quantization(io.in[0], io.out[0]) ||
      !view::same_quantization(io.in[1], io.out[0]))
    return Status::bad_params;
  return Status::ok;
}

template <typename Pick>
void eval_maximum_minimum(const KernelIO& io, Pick pick) {
  const broadcast::Walk w = broadcast::make_walk(io.in[0], io.in[1], io.out[0]);
  if (io.out[0].type == DType::i8)
    broadcast::for_each(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                        io.out[0].as<int8_t>(), pick);
  else if (image_int16(io.out[0].type))
    broadcast::for_each(w, io.in[0].as<const int16_t>(), io.in[1].as<const int16_t>(),
                        io.out[0].as<int16_t>(), pick);
  else if (io.out[0].type == DType::i32)
    broadcast::for_each(w, io.in[0].as<const int32_t>(), io.in[1].as<const int32_t>(),
                        io.out[0].as<int32_t>(), pick);
  else
    broadcast::for_each(w, io.in[0].as<const float>(), io.in[1].as<const float>(),
                        io.out[0].as<float>(), pick);
}

struct Max {
  template <typename T>
  T operator()(T a, T b) const {
    return a > b ? a : b;
  }
};
struct Min {
  template <typename T>
  T operator()(T a, T b) const {
    return a < b ? a : b;
  }
};

}  // namespace

Status check_Maximum(const MaximumMinimumParams&, const KernelIO& io) {
  return check_maximum_minimum(io);
}
void eval_Maximum(const MaximumMinimumParams&, const KernelIO& io) {
  eval_maximum_minimum(io, Max{});
}

Status check_Minimum(const MaximumMinimumParams&, const KernelIO& io) {
  return check_maximum_minimum(io);
}
void eval_Minimum(const MaximumMinimumParams&, const KernelIO& io) {
  eval_maximum_minimum(io, Min{});
}

}  // namespace tinyforge
