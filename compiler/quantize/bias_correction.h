// Bias correction for weight rounding. Rounding weights W to int8 (Ŵ) moves the mean of
// every output channel by (Ŵ - W) · E[x]; over post-ReLU inputs (positive means) these
// shifts do not average out and grow through the network. Subtracting the expected shift
// from the bias removes this systematic part of the error (the empirical bias correction
// of Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
// Correction", ICCV 2019, with E[x] measured per input channel on the calibration set;
// zero padding at the borders is ignored).
#pragma once
#include <vector>

#include "ir/graph.h"

namespace tinyforge::quantize {

// The float bias of a Conv2D / DepthwiseConv2D / FullyConnected node after correction.
//   w        float weights (IR layout: conv [OC,KH,KW,IC/groups], depthwise [1,KH,KW,OC],
//            fully connected [OUT,IN])
//   wq       their int8 version (per-channel scales along the output-channel axis)
//   bias     the float bias, or nullptr (a zero bias is corrected)
//   input_channels  the input's channel count (conv: groups = input_channels / w's last dim)
//   means    E[x] per input channel (fully connected: per input feature, IN entries)
// Returns the corrected bias ([OC] float32 constant; named after `bias`, or w.name +
// "/bias"); returns the bias unchanged when `means` does not fit the weights.
ir::Tensor corrected_bias(OpCode op, const ir::Tensor& w, const ir::Tensor& wq,
                          const ir::Tensor* bias, int32_t input_channels,
                          const std::vector<double>& means);

}  // namespace tinyforge::quantize
