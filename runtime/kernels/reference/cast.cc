// Reference Cast: each element converted to the output's dtype, ignoring quantization, as
// TFLite's CAST (tensorflow/lite/micro/kernels/cast.cc, copyCast: static_cast<ToT> of the
// stored value). Where static_cast is defined that is what this does: integer to float
// rounds to nearest, float to integer truncates toward zero, a wider integer to a narrower one
// keeps the low bits (two's complement wrap). Where static_cast is undefined (a float beyond
// the integer's range, NaN), this saturates to the integer's range and gives 0 for NaN.
// uint32 (the signal ops' energies; TFLite's copyCast has the type on both sides) is read
// and written as the same 32 bits an int32 holds: uint32 <-> int32 reinterprets them (two's
// complement), a narrower output keeps their low bits, float reads them unsigned.
#include <cstdint>
#include <cstring>

#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

bool castable(DType t) {
  return t == DType::f32 || t == DType::i8 || t == DType::i16 || t == DType::i32 || t == DType::u32;
}

// The integer value of element i of `v` (an integer dtype; uint32's bits as int32).
int32_t integer_at(const TensorView& v, int32_t i) {
  switch (v.type) {
    case DType::i8:
      return v.as<const int8_t>()[i];
    case DType::i16:
      return v.as<const int16_t>()[i];
    case DType::u32:
      return static_cast<int32_t>(v.as<const uint32_t>()[i]);
    default:
      return v.as<const int32_t>()[i];
  }
}

// The low `bits` bits of v, read as a signed value.
int32_t wrapped(int32_t v, int bits) {
  const uint32_t mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
  const uint32_t low = static_cast<uint32_t>(v) & mask;
  return low & sign ? -static_cast<int32_t>(mask - low) - 1 : static_cast<int32_t>(low);
}

// x truncated toward zero into [lo, hi]; NaN gives 0.
int32_t truncated(float x, int32_t lo, int32_t hi) {
  if (!(x == x)) return 0;
  if (x <= static_cast<float>(lo)) return lo;
  // float(hi) may round up past hi (int32's 2^31 - 1 becomes 2^31): compare with >=.
  if (x >= static_cast<float>(hi)) return hi;
  return static_cast<int32_t>(x);
}

// x truncated toward zero into [0, 2^32 - 1]; NaN gives 0.
uint32_t truncated_unsigned(float x) {
  if (!(x > -1.0f)) return 0;  // NaN, and values that truncate below 0
  if (x >= 4294967296.0f) return UINT32_MAX;
  return static_cast<uint32_t>(x);
}

void store(const TensorView& out, int32_t i, int32_t v) {
  switch (out.type) {
    case DType::u32:
      out.as<uint32_t>()[i] = static_cast<uint32_t>(v);
      break;
    case DType::i8:
      out.as<int8_t>()[i] = static_cast<int8_t>(wrapped(v, 8));
      break;
    case DType::i16:
      out.as<int16_t>()[i] = static_cast<int16_t>(wrapped(v, 16));
      break;
    default:
      out.as<int32_t>()[i] = v;
  }
}

}  // namespace

Status check_Cast(const CastParams&, const KernelIO& io) {
  if (io.num_inputs != 1 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!castable(in.type) || !castable(out.type)) return Status::bad_enum;
  if (!view::is_valid(in, in.type) || !view::is_valid(out, out.type)) return Status::bad_shape;
  return view::element_count(in) == view::element_count(out) ? Status::ok : Status::bad_shape;
}

void eval_Cast(const CastParams&, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const auto n = static_cast<int32_t>(view::element_count(in));
  // One dtype to itself, or int32 <-> uint32: the same bits (micro_speech's preprocessor
  // casts its 257 energies there and back).
  const auto word = [](DType t) { return t == DType::i32 || t == DType::u32; };
  if (in.type == out.type || (word(in.type) && word(out.type))) {
    std::memmove(out.data, in.data, static_cast<size_t>(n) * dtype_size(in.type));
    return;
  }
  if (out.type == DType::f32) {
    float* y = out.as<float>();
    for (int32_t i = 0; i < n; ++i)
      y[i] = in.type == DType::f32   ? in.as<const float>()[i]
             : in.type == DType::u32 ? static_cast<float>(in.as<const uint32_t>()[i])
                                     : static_cast<float>(integer_at(in, i));
    return;
  }
  if (out.type == DType::u32 && in.type == DType::f32) {
    for (int32_t i = 0; i < n; ++i)
      out.as<uint32_t>()[i] = truncated_unsigned(in.as<const float>()[i]);
    return;
  }
  const int bits = out.type == DType::i8 ? 8 : out.type == DType::i16 ? 16 : 32;
  const int32_t hi = bits == 32 ? INT32_MAX : (1 << (bits - 1)) - 1;
  for (int32_t i = 0; i < n; ++i)
    store(out, i,
          in.type == DType::f32 ? truncated(in.as<const float>()[i], -hi - 1, hi)
                                : integer_at(in, i));
}

}  // namespace tinyforge
