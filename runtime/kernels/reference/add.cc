// Reference Add: out = in0 + in1 with numpy broadcasting up to rank 4, then the fused
// activation clamp. int8 follows TFLite's reference_integer_ops::Add (AddFunc): both inputs
// are offset, shifted left by left_shift, rescaled to a common scale, summed and rescaled to
// the output (every rescale a MultiplyByQuantizedMultiplier with double rounding). Broadcast
// walks the output in row-major order with stride 0 along broadcast axes, as TFLite's
// BroadcastAdd4DSlow does; the per-element arithmetic is the same either way.
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

// Output dims and per-input element strides, all extended to rank 4 (leading 1s).
struct BroadcastWalk {
  int32_t dims[4];
  int32_t stride0[4], stride1[4];
};

// Right-aligns `v` into 4 dims.
void extend_dims(const TensorView& v, int32_t out[4]) {
  const int pad = 4 - v.rank;
  for (int i = 0; i < 4; ++i) out[i] = i < pad ? 1 : v.dims[i - pad];
}

// Contiguous strides of `dims`, with 0 along axes of extent 1 (they broadcast).
void broadcast_strides(const int32_t dims[4], int32_t strides[4]) {
  int32_t s = 1;
  for (int i = 3; i >= 0; --i) {
    strides[i] = dims[i] == 1 ? 0 : s;
    s *= dims[i];
  }
}

// True if out's shape is exactly the numpy broadcast of a's and b's shapes.
bool is_broadcast_of(const TensorView& a, const TensorView& b, const TensorView& out) {
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

BroadcastWalk make_walk(const KernelIO& io) {
  BroadcastWalk w;
  int32_t d0[4], d1[4];
  extend_dims(io.out[0], w.dims);
  extend_dims(io.in[0], d0);
  extend_dims(io.in[1], d1);
  broadcast_strides(d0, w.stride0);
  broadcast_strides(d1, w.stride1);
  return w;
}

// Calls out[o] = f(a[i0], b[i1]) for every output element in row-major order.
template <typename T, typename F>
void for_each_broadcast(const BroadcastWalk& w, const T* a, const T* b, T* out, F f) {
  int32_t o = 0;
  for (int32_t i = 0; i < w.dims[0]; ++i) {
    for (int32_t j = 0; j < w.dims[1]; ++j) {
      for (int32_t k = 0; k < w.dims[2]; ++k) {
        const int32_t base0 = i * w.stride0[0] + j * w.stride0[1] + k * w.stride0[2];
        const int32_t base1 = i * w.stride1[0] + j * w.stride1[1] + k * w.stride1[2];
        for (int32_t l = 0; l < w.dims[3]; ++l)
          out[o++] = f(a[base0 + l * w.stride0[3]], b[base1 + l * w.stride1[3]]);
      }
    }
  }
}

int8_t add_int8(const AddParams& p, int8_t x, int8_t y) {
  using namespace fixed;
  const int32_t a = p.input1_offset + x;
  const int32_t b = p.input2_offset + y;
  const int32_t a_shifted = static_cast<int32_t>(static_cast<uint32_t>(a) << p.left_shift);
  const int32_t b_shifted = static_cast<int32_t>(static_cast<uint32_t>(b) << p.left_shift);
  const int32_t a_scaled = multiply_by_quantized_multiplier(a_shifted, p.input1_multiplier, p.input1_shift);
  const int32_t b_scaled = multiply_by_quantized_multiplier(b_shifted, p.input2_multiplier, p.input2_shift);
  const int32_t sum = wrapping_add(a_scaled, b_scaled);
  const int32_t out = wrapping_add(
      multiply_by_quantized_multiplier(sum, p.output_multiplier, p.output_shift), p.output_offset);
  return static_cast<int8_t>(clamp(out, p.act_min, p.act_max));
}

// TFLite's ActivationFunctionWithMinMax: min(max(x, lo), hi) with std::min/std::max's
// comparison order (a NaN sum stays NaN).
float clamp_float(float v, float lo, float hi) {
  const float m = v < lo ? lo : v;
  return hi < m ? hi : m;
}

bool shift_ok(int32_t shift) { return shift >= -31 && shift <= 30; }

}  // namespace

Status check_Add(const AddParams& p, const KernelIO& io) {
  if (io.num_inputs != 2 || io.num_outputs != 1) return Status::bad_shape;
  const DType type = io.out[0].type;
  if (type != DType::i8 && type != DType::f32) return Status::bad_enum;
  for (int i = 0; i < 2; ++i)
    if (!view::is_valid(io.in[i], type)) return Status::bad_shape;
  if (!view::is_valid(io.out[0], type)) return Status::bad_shape;
  if (!is_broadcast_of(io.in[0], io.in[1], io.out[0])) return Status::bad_shape;

  if (type == DType::f32) {
    if (!(p.f_act_min <= p.f_act_max)) return Status::bad_params;
    return Status::ok;
  }
  // Inputs are int8 offsets by -zero_point; the output offset is +zero_point.
  auto input_offset_ok = [](int32_t off) { return off >= -127 && off <= 128; };
  if (!input_offset_ok(p.input1_offset) || !input_offset_ok(p.input2_offset)) return Status::bad_params;
  if (p.output_offset < -128 || p.output_offset > 127) return Status::bad_params;
  // (x - zero_point) spans 9 bits; shifted left it must stay inside int32.
  if (p.left_shift < 0 || p.left_shift > 22) return Status::bad_params;
  if (p.input1_multiplier < 0 || p.input2_multiplier < 0 || p.output_multiplier < 0)
    return Status::bad_params;
  if (!shift_ok(p.input1_shift) || !shift_ok(p.input2_shift) || !shift_ok(p.output_shift))
    return Status::bad_params;
  if (p.act_min > p.act_max || p.act_min < -128 || p.act_max > 127) return Status::bad_params;
  return Status::ok;
}

void eval_Add(const AddParams& p, const KernelIO& io) {
  const BroadcastWalk w = make_walk(io);
  if (io.out[0].type == DType::i8) {
    for_each_broadcast(w, io.in[0].as<const int8_t>(), io.in[1].as<const int8_t>(),
                       io.out[0].as<int8_t>(),
                       [&p](int8_t x, int8_t y) { return add_int8(p, x, y); });
  } else {
    for_each_broadcast(w, io.in[0].as<const float>(), io.in[1].as<const float>(),
                       io.out[0].as<float>(), [&p](float x, float y) {
                         return clamp_float(x + y, p.f_act_min, p.f_act_max);
                       });
  }
}

}  // namespace tinyforge
