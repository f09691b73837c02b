// Reference UnaryMath: one elementwise function of the input. float32: the function as
// TFLite's float kernels compute it (kernels/reference/unary_functions.h).
// int8 reads the 256-entry table the compiler built with TFLite's arithmetic for the op
// (TFLite's own int8 kernels are lookup tables or per-value integer functions, so a table
// indexed by the input byte reproduces them exactly).
// int16 (TFLite's 16x8, zero points 0; kernels/elementwise.cc and exp.cc), by function:
//   EXP, LOG, RSQRT: TFLite's LookupTable on the 513-entry table the compiler made as its
//     Prepare does (LUTPopulate<int16_t>), input 1, read with LUTLookup (lut_int16.h);
//   ABS: AbsEvalQuantized<int16_t>: |x|, times MultiplyByQuantizedMultiplier(multiplier,
//     shift) when the scales differ (multiplier 0 when they do not), clamped to int16;
//   SQRT: SqrtEvalQuantized<int16_t>: int(sqrt(input_scale * x) / output_scale) in float,
//     truncated, clamped to int16. TFLite stops with an error on x < 0; here it gives the
//     value of 0 (as RSQRT's table gives its value at 0 for x < 0, where TFLite stops too).
// The int16 code is in functions of its own, left out of images without int16 tensors
// (image_int16, src/enabled_ops.h).
#include <cmath>
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/lut_int16.h"
#include "kernels/reference/unary_functions.h"
#include "kernels/reference/view_checks.h"
#include "src/enabled_ops.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

bool uses_int16_table(UnaryFunction f) {
  return f == UnaryFunction::exp || f == UnaryFunction::log || f == UnaryFunction::rsqrt;
}

bool is_positive_finite(float v) { return v > 0.0f && v <= 3.40282347e+38f; }

Status check_int16(const UnaryMathParams& p, const KernelIO& io) {
  if (io.in[0].zero_point != 0 || io.out[0].zero_point != 0) return Status::bad_params;
  const auto f = static_cast<UnaryFunction>(p.function);
  if (uses_int16_table(f)) {
    if (io.num_inputs != 2) return Status::bad_shape;
    const TensorView& t = io.in[1];
    if (t.type != DType::i16 || !view::is_valid(t, DType::i16)) return Status::bad_enum;
    if (t.elements() != kInt16LutSize || t.data == nullptr) return Status::bad_shape;
    return Status::ok;
  }
  if (io.num_inputs != 1) return Status::bad_shape;
  if (f == UnaryFunction::abs) {
    // |x| <= 2^15: a left shift up to 15 stays inside int32.
    if (p.multiplier < 0 || (p.multiplier != 0 && (p.shift < -31 || p.shift > 15)))
      return Status::bad_params;
    return Status::ok;
  }
  if (f == UnaryFunction::sqrt)
    return is_positive_finite(p.input_scale) && is_positive_finite(p.output_scale)
               ? Status::ok
               : Status::bad_params;
  return Status::bad_enum;  // NEG, ELU and the ONNX functions have no int16 form
}

int16_t saturate_int16(int32_t v) { return static_cast<int16_t>(fixed::clamp(v, -32768, 32767)); }

void eval_int16(const UnaryMathParams& p, const KernelIO& io) {
  const int32_t n = io.out[0].elements();
  const int16_t* in = io.in[0].as<const int16_t>();
  int16_t* out = io.out[0].as<int16_t>();
  const auto f = static_cast<UnaryFunction>(p.function);
  if (uses_int16_table(f)) {
    const int16_t* lut = io.in[1].as<const int16_t>();
    for (int32_t i = 0; i < n; ++i) out[i] = static_cast<int16_t>(lut_lookup_int16(in[i], lut));
  } else if (f == UnaryFunction::abs) {
    for (int32_t i = 0; i < n; ++i) {
      const int32_t v = in[i] < 0 ? -in[i] : in[i];
      out[i] = saturate_int16(
          p.multiplier == 0 ? v
                            : fixed::multiply_by_quantized_multiplier(v, p.multiplier, p.shift));
    }
  } else {
    for (int32_t i = 0; i < n; ++i) {
      const float x = p.input_scale * static_cast<float>(in[i]);
      // Clamped before the conversion so it stays defined; beyond int16 it saturates anyway.
      const float q = std::sqrt(x > 0.0f ? x : 0.0f) / p.output_scale;
      out[i] = saturate_int16(static_cast<int32_t>(q < 65536.0f ? q : 65536.0f));
    }
  }
}

}  // namespace

Status check_UnaryMath(const UnaryMathParams& p, const KernelIO& io) {
  if (io.num_inputs < 1 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32 && !image_int16(type)) return Status::bad_enum;
  if (!view::is_valid(io.in[0], type) || !view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (view::element_count(io.in[0]) != view::element_count(io.out[0])) return Status::bad_shape;
  if (p.function < 0 || p.function >= kNumUnaryFunctions) return Status::bad_enum;
  if (image_int16(type)) return check_int16(p, io);
  return io.num_inputs == 1 ? Status::ok : Status::bad_shape;
}

void eval_UnaryMath(const UnaryMathParams& p, const KernelIO& io) {
  const int32_t n = io.out[0].elements();
  if (image_int16(io.out[0].type)) {
    eval_int16(p, io);
    return;
  }
  if (io.out[0].type == DType::i8) {
    const int8_t* in = io.in[0].as<const int8_t>();
    int8_t* out = io.out[0].as<int8_t>();
    for (int32_t i = 0; i < n; ++i) out[i] = p.table[static_cast<uint8_t>(in[i])];
    return;
  }
  const float* in = io.in[0].as<const float>();
  float* out = io.out[0].as<float>();
  const auto f = static_cast<UnaryFunction>(p.function);
  for (int32_t i = 0; i < n; ++i) out[i] = unary::apply(f, in[i], p.f_alpha, p.f_gamma);
}

}  // namespace tinyforge
