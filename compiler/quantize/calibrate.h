// Calibration: run the float graph over a calibration set and record, for every float
// activation (model inputs and node outputs), the statistics its range is chosen from.
//
// The calibration set uses the format of ../shared/golden: per model input, raw
// little-endian tensors of the input's dtype, `cases` of them concatenated, no header.
// Each case is one batch of the progress report.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantize/range_estimator.h"

namespace tinyforge::quantize {

struct CalibrationSet {
  std::vector<std::vector<uint8_t>> inputs;  // one buffer per model input
  uint32_t cases = 0;
};

// Checks the buffers against the model's inputs (count, whole tensors, same number of
// cases in each); `names` label the buffers in messages. Throws tinyforge::Error.
CalibrationSet make_calibration_set(const ir::Graph& graph,
                                    std::vector<std::vector<uint8_t>> inputs,
                                    const std::vector<std::string>& names);

struct Progress {
  const char* phase;  // "ranges" (pass 1), "histograms" (pass 2)
  uint32_t done, total;
};
using ProgressFn = std::function<void(const Progress&)>;

// Statistics per IR tensor index (unseen for constants and non-float tensors). Takes two
// passes over the data when `method` needs histograms.
std::vector<TensorStats> calibrate(const ir::Graph& graph, const CalibrationSet& data,
                                   RangeMethod method, const ProgressFn& progress = {});

}  // namespace tinyforge::quantize
