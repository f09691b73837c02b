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
#include "ir/weight_geometry.h"

namespace tinyforge::quantize {

// The float bias of a weighted node after correction.
//   geometry  the node's layer (ops::HostOp::weight_geometry): where each weight is stored
//             and which input channel it multiplies
//   w         float weights
//   wq        their int8 version (one scale, or one per output channel)
//   bias      the float bias, or nullptr (a zero bias is corrected)
//   means     E[x] per input channel (fully connected: per input feature)
// Returns the corrected bias ([OC] float32 constant; named after `bias`, or w.name +
// "/bias"); returns the bias unchanged when `means` or the tensors do not fit the geometry.
ir::Tensor corrected_bias(const ir::WeightGeometry& geometry, const ir::Tensor& w,
                          const ir::Tensor& wq, const ir::Tensor* bias,
                          const std::vector<double>& means);

}  // namespace tinyforge::quantize
