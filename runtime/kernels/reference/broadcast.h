// Numpy-style broadcasting of two inputs to an output of rank <= 4, for the reference
// binary kernels: shape check (no data access, usable by check_<Op>) and a row-major walk
// with stride 0 along broadcast axes (as TFLite's Broadcast*4DSlow kernels walk).
#pragma once
#include <cstdint>

#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge::broadcast {

// Right-aligns the view's dims into 4 (leading 1s).
inline void extend_dims(const TensorView& v, int32_t out[4]) {
  const int pad = 4 - v.rank;
  for (int i = 0; i < 4; ++i) out[i] = i < pad ? 1 : v.dims[i - pad];
}

// True if out's shape is exactly the numpy broadcast of a's and b's shapes.
inline bool is_broadcast_of(const TensorView& a, const TensorView& b, const TensorView& out) {
  if (a.rank > kMaxRank || b.rank > kMaxRank || out.rank > kMaxRank) return false;
  if (a.rank > out.rank || b.rank > out.rank) return false;
  if (a.rank != out.rank && b.rank != out.rank) return false;
  int32_t da[4], db[4], dout[4];
  extend_dims(a, da);
  extend_dims(b, db);
  extend_dims(out, dout);
  for (int i = 0; i < 4; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) return false;
    if (dout[i] != (da[i] == 1 ? db[i] : da[i])) return false;
  }
  return true;
}

struct Walk {
  int32_t dims[4];
  int32_t stride0[4], stride1[4];
};

inline Walk make_walk(const TensorView& a, const TensorView& b, const TensorView& out) {
  Walk w;
  int32_t d[2][4];
  extend_dims(out, w.dims);
  extend_dims(a, d[0]);
  extend_dims(b, d[1]);
  int32_t* strides[2] = {w.stride0, w.stride1};
  for (int k = 0; k < 2; ++k) {
    int32_t s = 1;
    for (int i = 3; i >= 0; --i) {
      strides[k][i] = d[k][i] == 1 ? 0 : s;
      s *= d[k][i];
    }
  }
  return w;
}

// out[o] = f(a[i0], b[i1]) for every output element in row-major order (the element types
// may differ: int16 Prelu takes an int8 alpha).
template <typename A, typename B, typename O, typename F>
void for_each(const Walk& w, const A* a, const B* b, O* out, F f) {
  int32_t o = 0;
  for (int32_t i = 0; i < w.dims[0]; ++i)
    for (int32_t j = 0; j < w.dims[1]; ++j)
      for (int32_t k = 0; k < w.dims[2]; ++k) {
        const int32_t base0 = i * w.stride0[0] + j * w.stride0[1] + k * w.stride0[2];
        const int32_t base1 = i * w.stride1[0] + j * w.stride1[1] + k * w.stride1[2];
        for (int32_t l = 0; l < w.dims[3]; ++l)
          out[o++] = f(a[base0 + l * w.stride0[3]], b[base1 + l * w.stride1[3]]);
      }
}

// The checks every binary kernel starts with: two inputs and one output of one dtype, int8
// or float32 (or int16 where the kernel takes `int16`, int32 where it takes `int32`), valid
// views, the output's shape the broadcast of the inputs'.
inline Status check_binary_io(const KernelIO& io, bool int16 = false, bool int32 = false) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32 && !(int16 && image_int16(type)) &&
      !(int32 && type == DType::i32))
    return Status::bad_enum;
  for (int i = 0; i < 2; ++i)
    if (!view::is_valid(io.in[i], type)) return Status::bad_shape;
  if (!view::is_valid(io.out[0], type)) return Status::bad_shape;
  return is_broadcast_of(io.in[0], io.in[1], io.out[0]) ? Status::ok : Status::bad_shape;
}

}  // namespace tinyforge::broadcast
