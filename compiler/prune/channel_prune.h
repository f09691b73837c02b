// Structured pruning: removes whole output channels of Conv2D (ungrouped) and
// FullyConnected layers, those whose filters have the smallest L2 norm (the criterion of
// Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017), and shrinks everything
// the channels flow through, so MACs, parameters, weight bytes and arena all drop.
//
// A layer P is pruned when its output reaches exactly one next weighted layer through a
// chain of single-consumer ops that keep channels apart:
//   P -> [Clamp | MaxPool2D | AveragePool2D | Pad (not on channels) | Logistic | Tanh |
//         Quantize | Dequantize | DepthwiseConv2D (multiplier 1) | Reshape (flatten of
//         trailing dims)]* -> Conv2D (ungrouped) | FullyConnected
// P loses rows of its weights and bias; a depthwise layer on the way loses the same
// channels; the end layer loses input channels (a FullyConnected after a flatten loses
// every column of a removed channel). Channels feeding model outputs, Add, Mul,
// Concatenation, Softmax or several consumers are not touched (the log says why).
// Of a pruned layer, floor(sparsity * channels) output channels go; at least one stays.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace tinyforge::prune {

struct ChannelPruneResult {
  int layers = 0;                // layers that lost channels
  int64_t channels_removed = 0;  // output channels removed, summed over layers
  // Per node: the original indices of the output channels it kept (ascending), for every
  // node whose output channels changed; empty for the others.
  std::vector<std::vector<int32_t>> kept_channels;
};

// 0 <= sparsity < 1 (throws tinyforge::Error otherwise). `log` gets one line per layer.
ChannelPruneResult prune_channels(ir::Graph& graph, double sparsity,
                                  const std::function<void(const std::string&)>& log = {});

}  // namespace tinyforge::prune
