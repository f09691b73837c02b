// int8 post-training quantization of a float graph (TFLite conventions, see
// quant_params.h), from calibration data or from given activation ranges.
//
// Parameters per tensor:
// - every float activation: its calibrated range (asymmetric int8, per tensor);
// - outputs of Reshape, MaxPool2D, AveragePool2D, Transpose and Pad: their input's
//   parameters (these ops move values, TFLite requires equal quantization);
// - Softmax and Logistic outputs: scale 1/256, zero point -128; Tanh: 1/128, 0;
//   LogSoftmax: 16/256, 127;
// - Concatenation: its output's range; an input quantized differently is requantized by
//   a Quantize (int8 -> int8) op in front;
// - Conv2D / DepthwiseConv2D weights: symmetric per output channel (axis 0, depthwise
//   axis 3); FullyConnected weights symmetric per tensor (as TFLite's converter does);
//   bias int32 at input_scale * weight_scale, corrected for the mean shift of weight
//   rounding unless disabled (bias_correction.h);
// - other float constants (Add/Mul operands, ...): per tensor over their own range;
// - Lstm (TFLite's integer LSTM, 8x8_16) and Svdf (int8, int16 state): their own rules
//   (emit_lstm / emit_svdf in quantize_graph.cc); their states' ranges come from
//   calibration (state_replay.h). LSTM forms the integer kernel lacks are refused.
// Ops the int8 lowering refuses (e.g. an op without an int8 kernel yet) stay float, with
// Dequantize in front and Quantize behind ("float islands"); the log names them.
// Model I/O: by default the model keeps float inputs and outputs (a Quantize after each
// input, a Dequantize before each output, output tensors keep their names); with
// int8_io the inputs and outputs are int8 tensors carrying their parameters.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantize/calibrate.h"
#include "quantize/range_estimator.h"

namespace tinyforge::quantize {

using LogFn = std::function<void(const std::string&)>;

struct QuantizeOptions {
  RangeMethod method = RangeMethod::minmax;
  double percentile = 99.99;  // RangeMethod::percentile
  bool int8_io = false;
  bool bias_correction = true;  // see bias_correction.h
  ProgressFn progress;          // per calibration case
  LogFn log;                    // one line per decision (--verbose); may be empty
};

// What calibration says about one tensor.
struct TensorCalibration {
  std::optional<Range> range;  // the real range to quantize (nullopt: never observed)
  std::vector<double> means;   // mean per channel (empty: unknown; no bias correction)
};

struct RewriteOptions {
  bool int8_io = false;
  bool bias_correction = true;
  std::vector<size_t> float_nodes;  // nodes of the source graph kept in float
  LogFn log;
};

// Calibrates `graph` on `data`, then quantizes it. Throws tinyforge::Error when the graph is not
// a float graph or cannot be quantized.
ir::Graph quantize_model(const ir::Graph& graph, const CalibrationSet& data,
                         const QuantizeOptions& options);

// The rewrite alone, from what calibration found per tensor (one entry per tensor of
// `graph`; an unobserved activation gets the range [0, 1]).
ir::Graph quantize_graph(const ir::Graph& graph, const std::vector<TensorCalibration>& calibration,
                         const RewriteOptions& options = {});

}  // namespace tinyforge::quantize
