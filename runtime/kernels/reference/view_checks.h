// Shape and dtype predicates shared by the reference kernels' check_<Op> functions: they
// make sure a kernel's index arithmetic stays inside the views it was handed. They read
// only type, rank, dims and bytes (never data), so they work during plan validation too.
#pragma once
#include <cstdint>

#include "tinyforge/kernel.h"

namespace tinyforge::view {

// Element count of a view (dims past `rank` ignored), or -1 if a dim is negative or the
// count does not fit in int32.
inline int64_t element_count(const TensorView& v) {
  if (v.rank > kMaxRank) return -1;
  int64_t n = 1;
  for (uint8_t i = 0; i < v.rank; ++i) {
    if (v.dims[i] < 0) return -1;
    n *= v.dims[i];
    if (n > INT32_MAX) return -1;
  }
  return n;
}

// The view has element type `type`, a valid rank and dims, and at least enough bytes for
// all its elements.
inline bool is_valid(const TensorView& v, DType type) {
  if (v.type != type) return false;
  const int64_t n = element_count(v);
  return n >= 0 && static_cast<uint64_t>(n) * dtype_size(type) <= v.bytes;
}

// A quantized element type: int8, or int16 (TFLite's 16x8 activations).
inline bool is_quantized(DType t) { return t == DType::i8 || t == DType::i16; }

// An activation type of the ops that move or pick values: float32, int8 or int16.
inline bool is_activation(DType t) { return t == DType::f32 || is_quantized(t); }

// An op that moves or picks values without rescaling: a quantized input and output share one
// scale and zero point (TFLite's layout kernels require it).
inline bool same_quantization(const TensorView& in, const TensorView& out) {
  return !is_quantized(in.type) || (in.scale == out.scale && in.zero_point == out.zero_point);
}

inline bool same_dims(const TensorView& a, const TensorView& b) {
  if (a.rank != b.rank) return false;
  for (uint8_t i = 0; i < a.rank; ++i)
    if (a.dims[i] != b.dims[i]) return false;
  return true;
}

// Pad and MirrorPad: one input and one output of one activation dtype and rank, and
// output dim i = before[i] + input dim i + after[i], the pads non-negative (0 past the rank).
inline Status check_padded(const int32_t (&before)[kMaxRank], const int32_t (&after)[kMaxRank],
                           const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (in.type != out.type || !is_activation(in.type)) return Status::bad_enum;
  if (!is_valid(in, in.type) || !is_valid(out, out.type) || in.rank != out.rank)
    return Status::bad_shape;
  for (int i = 0; i < kMaxRank; ++i) {
    if (before[i] < 0 || after[i] < 0) return Status::bad_params;
    if (i >= in.rank) {
      if (before[i] != 0 || after[i] != 0) return Status::bad_params;
      continue;
    }
    if (int64_t{in.dims[i]} + before[i] + after[i] != out.dims[i]) return Status::bad_shape;
  }
  return Status::ok;
}

}  // namespace tinyforge::view
