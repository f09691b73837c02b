// Svdf reference kernel: one step of a rank-r SVDF layer over a memory of M frames.
// The arithmetic is TFLM's (tensorflow/lite/micro/kernels/svdf_common.cc,
// EvalFloatSvdfReference and EvalIntegerSvdfReference<int16_t>):
//   1. the state [B, F, M] shifts left by one element as a whole;
//   2. feature matmul: state[b, f, M-1] = input[b] . weights_feature[f] (int8: minus the input
//      zero point, MultiplyByQuantizedMultiplier by the first effective scale, saturated to
//      int16);
//   3. time: each filter's M states . weights_time[f];
//   4. output unit u = bias[u] (or 0) + the sums of filters u*rank .. u*rank+rank-1, in that
//      order; float: the fused activation; int8: the second effective scale, the output
//      zero point and the clamp.
// TFLM keeps the step-3 sums in a scratch buffer; each unit reads its filters' sums once in
// the same order, so computing them on the fly gives the same float rounding and needs no
// scratch. int32 sums wrap (modulo 2^32) where TFLM's plain `+` would overflow. TFLM's int8
// path ignores the fused activation; the compiler folds it into act_min/act_max here, which
// leaves NONE (the converter's form for int8) bit-exact and makes RELU mean what it says.
#include "kernels/reference/output_stage.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

constexpr int kInput = 0, kWeightsFeature = 1, kWeightsTime = 2, kBias = 3, kState = 4;

struct SvdfShape {
  int32_t batch, input_size, filters, memory, units;
};

SvdfShape svdf_shape(const KernelIO& io) {
  const int32_t filters = io.in[kWeightsFeature].dims[0];
  return {io.in[kInput].dims[0], io.in[kInput].dims[1], filters, io.in[kWeightsTime].dims[1],
          io.out[0].dims[1]};
}

bool is_matrix(const TensorView& v, DType type, int32_t rows, int32_t cols) {
  return view::is_valid(v, type) && v.rank == 2 && v.dims[0] == rows && v.dims[1] == cols;
}

// Moves every state element one place towards the start: the oldest frame of each filter
// drops out and the newest slot (index M-1) is overwritten by the feature matmul.
template <typename T>
void shift_state(T* state, int32_t count) {
  for (int32_t i = 0; i + 1 < count; ++i) state[i] = state[i + 1];
}

}  // namespace

Status check_Svdf(const SvdfParams& p, const KernelIO& io) {
  if (io.num_inputs != 5 || io.num_outputs != 1) return Status::bad_shape;
  const TensorView& in = io.in[kInput];
  const TensorView& wf = io.in[kWeightsFeature];
  const TensorView& wt = io.in[kWeightsTime];
  const TensorView& out = io.out[0];
  const bool is_float = in.type == DType::f32;
  if (!is_float && in.type != DType::i8) return Status::bad_enum;
  const DType time_type = is_float ? DType::f32 : DType::i16;
  if (in.rank != 2 || wf.rank != 2 || wt.rank != 2 || out.rank != 2) return Status::bad_shape;
  if (p.rank < 1 || wf.dims[0] % p.rank != 0) return Status::bad_params;
  const int32_t batch = in.dims[0], filters = wf.dims[0], memory = wt.dims[1];
  const int32_t units = filters / p.rank;
  if (!view::is_valid(in, in.type) || !is_matrix(wf, in.type, filters, in.dims[1]) ||
      !is_matrix(wt, time_type, filters, memory) || !is_matrix(out, in.type, batch, units))
    return Status::bad_shape;
  if (int64_t{filters} * memory > INT32_MAX) return Status::bad_shape;
  if (!is_matrix(io.in[kState], time_type, batch, filters * memory)) return Status::bad_shape;
  const TensorView& bias = io.in[kBias];
  if (bias.data != nullptr || bias.rank != 0) {
    if (!view::is_valid(bias, is_float ? DType::f32 : DType::i32) || bias.elements() != units)
      return Status::bad_shape;
  }
  if (is_float)
    return stage::float_stage_ok(p.f_act_min, p.f_act_max) ? Status::ok : Status::bad_params;
  // TFLite's int16 state has zero point 0 (the kernel's int16 path assumes it).
  if (io.in[kState].zero_point != 0) return Status::bad_params;
  // The feature dot products stay inside int32: |input - zp| <= 255, |weight| <= 128.
  if (in.dims[1] > INT32_MAX / (255 * 128)) return Status::bad_shape;
  return stage::int8_stage_ok(p.input_offset, p.output_offset, p.act_min, p.act_max)
             ? Status::ok
             : Status::bad_params;
}

void eval_Svdf(const SvdfParams& p, const KernelIO& io) {
  const SvdfShape s = svdf_shape(io);
  const int32_t state_row = s.filters * s.memory;
  const TensorView& bias_view = io.in[kBias];
  if (io.in[kInput].type == DType::f32) {
    const float* input = io.in[kInput].as<const float>();
    const float* wf = io.in[kWeightsFeature].as<const float>();
    const float* wt = io.in[kWeightsTime].as<const float>();
    const float* bias = bias_view.as<const float>();
    float* state = io.in[kState].as<float>();
    float* output = io.out[0].as<float>();
    shift_state(state, s.batch * state_row);
    for (int32_t b = 0; b < s.batch; ++b) {
      float* state_b = state + b * state_row;
      for (int32_t f = 0; f < s.filters; ++f) {
        float dot = 0.0f;
        for (int32_t k = 0; k < s.input_size; ++k)
          dot += wf[f * s.input_size + k] * input[b * s.input_size + k];
        state_b[f * s.memory + s.memory - 1] = dot;
      }
      for (int32_t u = 0; u < s.units; ++u) {
        float acc = bias ? bias[u] : 0.0f;
        for (int32_t r = 0; r < p.rank; ++r) {
          const int32_t f = u * p.rank + r;
          float time_sum = 0.0f;
          for (int32_t m = 0; m < s.memory; ++m)
            time_sum += wt[f * s.memory + m] * state_b[f * s.memory + m];
          acc += time_sum;
        }
        output[b * s.units + u] = stage::clamp_float(acc, p.f_act_min, p.f_act_max);
      }
    }
    return;
  }
  const int8_t* input = io.in[kInput].as<const int8_t>();
  const int8_t* wf = io.in[kWeightsFeature].as<const int8_t>();
  const int16_t* wt = io.in[kWeightsTime].as<const int16_t>();
  const int32_t* bias = bias_view.as<const int32_t>();
  int16_t* state = io.in[kState].as<int16_t>();
  int8_t* output = io.out[0].as<int8_t>();
  const int feature_shift = stage::safe_shift(p.feature_shift);
  const int output_shift = stage::safe_shift(p.output_shift);
  shift_state(state, s.batch * state_row);
  for (int32_t b = 0; b < s.batch; ++b) {
    int16_t* state_b = state + b * state_row;
    for (int32_t f = 0; f < s.filters; ++f) {
      int32_t dot = 0;
      for (int32_t k = 0; k < s.input_size; ++k)
        dot += wf[f * s.input_size + k] * (input[b * s.input_size + k] + p.input_offset);
      const int32_t scaled =
          fixed::multiply_by_quantized_multiplier(dot, p.feature_multiplier, feature_shift);
      state_b[f * s.memory + s.memory - 1] =
          static_cast<int16_t>(fixed::clamp(scaled, -32768, 32767));
    }
    for (int32_t u = 0; u < s.units; ++u) {
      int32_t acc = bias ? bias[u] : 0;
      for (int32_t r = 0; r < p.rank; ++r) {
        const int32_t f = u * p.rank + r;
        int32_t time_sum = 0;
        for (int32_t m = 0; m < s.memory; ++m)
          time_sum = stage::wrapping_add(
              time_sum, int32_t{wt[f * s.memory + m]} * int32_t{state_b[f * s.memory + m]});
        acc = stage::wrapping_add(acc, time_sum);
      }
      output[b * s.units + u] = stage::requantize_int8(acc, p.output_multiplier, output_shift,
                                                       p.output_offset, p.act_min, p.act_max);
    }
  }
}

}  // namespace tinyforge
