// Quantization parameters and quantized constants, with TFLite's conventions
// (https://www.tensorflow.org/lite/performance/quantization_spec):
// - activations: int8, asymmetric, per tensor; the range is widened to include 0 and the
//   zero point nudged to an integer so that real 0 is exact;
// - weights: int8, symmetric (zero point 0), values in [-127, 127], per output channel
//   (scale = max|w| / 127 per channel) for convolutions, per tensor for FullyConnected
//   (as TFLite's converter does; several TFLite consumers accept no other);
// - bias: int32, zero point 0, scale = input_scale * weight_scale per channel.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "quantize/range_estimator.h"

namespace tinyforge::quantize {

// Per-tensor int8 quantization of real range `r` (TFLite's asymmetric params: scale =
// (max - min) / 255 over the range widened to include 0, zero point nudged into
// [-128, 127]). A degenerate range (all values 0) gets [0, 1].
ir::Quant activation_params(Range r);

// real -> int8 with per-tensor params (round half away from zero, saturate).
int8_t quantize_value(float real, float scale, int32_t zero_point);

// Per-channel symmetric scales of float constant `w` along `axis` (max|w| / 127; a channel
// of zeros gets scale 1/127 so its bias keeps precision).
std::vector<float> weight_scales(const ir::Tensor& w, int axis);

// The one scale of per-tensor weights (TFLite's converter quantizes FullyConnected
// weights per tensor): the largest channel scale.
float per_tensor_scale(const std::vector<float>& channel_scales);

// In the functions below `scales` holds one scale per output channel, or a single scale
// for per-tensor weights.

// Raises weight scales whose bias would not fit int32 with scale input_scale * weight
// scale (TFLite's quantizer does the same). `bias` may be nullptr.
void fit_bias_range(const ir::Tensor* bias, float input_scale, std::vector<float>& scales);

// The int8 version of float constant `w`, quantized per channel along `axis` with `scales`.
ir::Tensor quantize_weights(const ir::Tensor& w, int axis, const std::vector<float>& scales);

// The int32 version of float bias `b` ([channels]) with per-channel scale
// float(input_scale * scales[c]) (bias scales along axis 0).
ir::Tensor quantize_bias(const ir::Tensor& b, float input_scale, const std::vector<float>& scales);

// The int8 version of a float constant used as an activation-like operand (Add/Mul
// operands, concatenated constants): per tensor over its own range.
ir::Tensor quantize_constant(const ir::Tensor& t);

// The int16 state of a stateful op: symmetric (zero point 0) over max(|min|, |max|) of `r`.
// power_of_two (the LSTM's cell state): the range widened to the next power of two 2^k,
// k in [0, 10], scale 2^k / 32768; otherwise scale = range / 32767 (TFLite's
// quantize_model.cc for 16-bit state tensors, GetPowerOfTwoScale). A range of 0 counts as 1.
ir::Quant int16_state_params(Range r, bool power_of_two);

// The int16 version of float constant `w`, symmetric per tensor with scale max|w| / `codes`
// (SVDF's time weights: 512, TFLite keeps 10 bits so the time sum has headroom).
ir::Tensor quantize_int16_weights(const ir::Tensor& w, float codes);

}  // namespace tinyforge::quantize
