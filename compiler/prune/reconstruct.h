// Layer-wise reconstruction after pruning (post-training, no labels): the
// weights that survive pruning are re-fitted by least squares so each layer reproduces
// the dense model's pre-activation outputs on a calibration set.
//
// Layer by layer in execution order (Conv2D, DepthwiseConv2D, FullyConnected, float32):
//   inputs  X_p: the layer's input as the pruned model (earlier layers already refitted)
//                computes it, so the refit also absorbs the error coming from upstream;
//   target  Y  : the dense layer applied to the dense model's input, W_d * X_d + b_d;
//   solve   per output channel, over its non-zero weights and its bias (w0: their values
//           after pruning, so scarce data leaves them near where they were):
//           min ||X_p[kept] w - y||^2 + ridge * mean(diag) * ||w - w0||^2
//           with the ridge chosen on held-out calibration cases (see kDefaultRidge)
// Zero weights stay zero, so the sparsity pattern is kept. This is the mask-then-refit
// scheme of post-training pruning work such as Frantar & Alistarh, "Optimal Brain
// Compression" (NeurIPS 2022) and Kwon et al., "A Fast Post-Training Pruning Framework
// for Transformers" (NeurIPS 2022), in its plain least-squares form.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quantize/calibrate.h"

namespace tinyforge::prune {

// `pruned` and `dense` must have the same nodes (pruned = dense with weights set to zero,
// or channels removed). Refits `pruned` in place. Throws tinyforge::Error for non-float layers or
// graphs that do not match. ridge <= 0: chosen per layer from 1e-4 .. 1 by the error on every fifth
// calibration case held out (then refitted on all cases); with fewer than 5 cases, 1e-3.
constexpr double kDefaultRidge = 0;

// After structured pruning, `kept_channels` (ChannelPruneResult::kept_channels) maps each
// node's remaining output channels to the dense ones; the targets are then those channels
// of the dense layer, and the layer after a pruned one refits from fewer inputs.
void reconstruct_pruned(ir::Graph& pruned, const ir::Graph& dense,
                        const quantize::CalibrationSet& data, double ridge = kDefaultRidge,
                        const std::function<void(const std::string&)>& log = {},
                        const std::vector<std::vector<int32_t>>& kept_channels = {});

}  // namespace tinyforge::prune
