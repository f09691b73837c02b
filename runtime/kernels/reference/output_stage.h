// The last step of the conv-family kernels: accumulator -> output element.
//
// int8: TFLite's reference_integer_ops (ConvPerChannel, DepthwiseConvPerChannel,
// FullyConnected) add the int32 bias, apply MultiplyByQuantizedMultiplier, add the output
// zero point and clamp to the activation range. TFLite does the int32 additions with
// plain `+`; we add modulo 2^32 instead so a hostile plan cannot provoke signed-overflow
// undefined behaviour, which gives the same bits whenever TFLite's result is defined.
// float: TFLite's ActivationFunctionWithMinMax, min(max(x, lo), hi).
#pragma once
#include <cstdint>

#include "kernels/reference/fixed_point.h"
#include "tinyforge/kernel.h"

namespace tinyforge::stage {

inline int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// Shift values come from constant tensors, which the validator cannot inspect (it sees no
// data). multiply_by_quantized_multiplier is defined for shifts in [-31, 31]; TFLite's
// QuantizeMultiplier never produces anything else, so clamping changes no valid plan.
inline int safe_shift(int32_t shift) {
  return shift < -31 ? -31 : (shift > 31 ? 31 : static_cast<int>(shift));
}

inline int8_t requantize_int8(int32_t acc, int32_t multiplier, int shift, int32_t output_offset,
                              int32_t act_min, int32_t act_max) {
  const int32_t scaled = fixed::multiply_by_quantized_multiplier(acc, multiplier, shift);
  return static_cast<int8_t>(fixed::clamp(wrapping_add(scaled, output_offset), act_min, act_max));
}

// Parameters the int8 stage accepts: zero points of int8 tensors and a clamp range inside
// int8, which keeps every product and sum of the kernels within int32.
inline bool int8_stage_ok(int32_t input_offset, int32_t output_offset, int32_t act_min,
                          int32_t act_max) {
  return input_offset >= -127 && input_offset <= 128 && output_offset >= -128 &&
         output_offset <= 127 && act_min >= -128 && act_min <= act_max && act_max <= 127;
}

// A clamp range inside int16 (TFLite's 16x8 activations).
inline bool int16_range_ok(int32_t act_min, int32_t act_max) {
  return act_min >= -32768 && act_min <= act_max && act_max <= 32767;
}

// A float clamp range; also rejects NaN bounds.
inline bool float_stage_ok(float lo, float hi) { return lo <= hi; }

inline float clamp_float(float x, float lo, float hi) {
  const float m = x < lo ? lo : x;
  return hi < m ? hi : m;
}

// The per-output-channel finish of a conv-family kernel, plus its multiply-accumulate step.
struct Int8Channels {
  const int32_t* bias;  // nullptr when absent
  const int32_t* multiplier;
  const int32_t* shift;
  int32_t output_offset, act_min, act_max;

  static int32_t accumulate(int32_t acc, int8_t x, int8_t w, int32_t input_offset) {
    return wrapping_add(acc, w * (x + input_offset));
  }
  int8_t operator()(int32_t acc, int32_t channel) const {
    if (bias) acc = wrapping_add(acc, bias[channel]);
    return requantize_int8(acc, multiplier[channel], safe_shift(shift[channel]), output_offset,
                           act_min, act_max);
  }
};

// 16x8 (TFLite's reference_integer_ops ConvPerChannel, DepthwiseConvPerChannel and
// FullyConnected with int16 input, int8 filter and int64 bias): products summed in 64 bits,
// the bias added, multiply_by_quantized_multiplier_64, clamped; zero points are 0. A sum of
// at most 2^31 products below 2^22 each cannot overflow 64 bits.
struct Int16x8Channels {
  const int32_t* bias;  // TFLite's int64 bias, stored as int32 (its values fit)
  const int32_t* multiplier;
  const int32_t* shift;
  int32_t act_min, act_max;

  static int64_t accumulate(int64_t acc, int16_t x, int8_t w, int32_t) {
    return acc + int32_t{x} * int32_t{w};
  }
  int16_t operator()(int64_t acc, int32_t channel) const {
    const int32_t scaled = fixed::multiply_by_quantized_multiplier_64(
        acc + bias[channel], multiplier[channel], shift[channel]);
    return static_cast<int16_t>(fixed::clamp(scaled, act_min, act_max));
  }
};

struct FloatChannels {
  const float* bias;  // nullptr when absent
  float act_min, act_max;

  static float accumulate(float acc, float x, float w, int32_t) { return acc + x * w; }
  float operator()(float acc, int32_t channel) const {
    const float bias_value = bias ? bias[channel] : 0.0f;
    return clamp_float(acc + bias_value, act_min, act_max);
  }
};

// Builds the finish of an op whose params struct has TFLite's usual output fields and
// whose inputs are (input, filter, bias, multiplier, shift).
template <typename Params>
Int8Channels int8_channels(const Params& p, const TensorView* in) {
  return {in[2].as<const int32_t>(),
          in[3].as<const int32_t>(),
          in[4].as<const int32_t>(),
          p.output_offset,
          p.act_min,
          p.act_max};
}
template <typename Params>
Int16x8Channels int16x8_channels(const Params& p, const TensorView* in) {
  return {in[2].as<const int32_t>(), in[3].as<const int32_t>(), in[4].as<const int32_t>(),
          p.act_min, p.act_max};
}
template <typename Params>
FloatChannels float_channels(const Params& p, const TensorView* in) {
  return {in[2].as<const float>(), p.f_act_min, p.f_act_max};
}

}  // namespace tinyforge::stage
