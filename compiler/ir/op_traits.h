// What the graph passes need to know about an op: how it quantizes, what it does with
// channels, where its weights are. Each op states its traits in its host op file
// (compiler/ops/); the quantizer and the pruners ask ops::traits(op) instead of listing op
// kinds.
#pragma once
#include <cstdint>

namespace tinyforge::ir {

// How the quantizer chooses an op's int8 output parameters.
enum class QuantRule : uint8_t {
  calibrated,        // from the calibrated range of the output
  same_as_input,     // moves values without computing new ones: the input's parameters
  fixed,             // fixed by the int8 kernel: OpTraits::fixed_scale / fixed_zero_point
  shared_by_inputs,  // the output's calibrated parameters; inputs requantized to them
  not_quantized,     // not rewritten by the quantizer (Quantize/Dequantize, kernel variants)
};

// What an op does with the channels (last dim) of its input 0, for structured pruning.
enum class ChannelRule : uint8_t {
  blocks,       // pruned channels may not flow through
  elementwise,  // each channel maps to itself
  window,       // pools: channels pass when they are the last dim
  pad,          // passes unless the channel dim is padded
  flatten,      // reshape: passes when it flattens trailing dims
  depthwise,    // passes with depth multiplier 1; its weights and bias are sliced
  consumes,     // reads channels through weights (conv, FC): where a pruned chain ends
};

struct OpTraits {
  QuantRule quant;
  float fixed_scale;         // QuantRule::fixed
  int32_t fixed_zero_point;  // QuantRule::fixed
  int weight_channel_axis;   // output-channel axis of the constant weights (input 1), -1: none
  bool per_tensor_weights;   // the int8 kernel takes one weight scale (FullyConnected)
  ChannelRule channels;
};

}  // namespace tinyforge::ir
