// Where quantization loses accuracy: runs the float graph and its quantized version on the
// same inputs and reports, for every activation both compute, the signal-to-quantization-
// noise ratio of the quantized values against the float ones:
//   SQNR = 10 log10( sum(float^2) / sum((float - dequantized)^2) )  [dB, over all cases]
// Tensors are matched by name (the quantizer keeps names; an "_int8" suffix is ignored).
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantize/calibrate.h"

namespace tinyforge::quantize {

struct LayerError {
  std::string tensor;
  double sqnr_db;  // +inf when the values are identical
};

// SQNR in dB of `test` against `reference` (same length); +inf when equal.
double sqnr_db(const std::vector<float>& reference, const std::vector<float>& test);

// `data` holds inputs for the float graph; int8 inputs of `quantized` get them quantized
// with their own parameters. Entries follow the float graph's node order.
std::vector<LayerError> layer_errors(const ir::Graph& float_graph, const ir::Graph& quantized,
                                     const CalibrationSet& data);

}  // namespace tinyforge::quantize
