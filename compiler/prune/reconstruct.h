// Layer-wise reconstruction after unstructured pruning (post-training, no labels): the
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

// `pruned` and `dense` must have the same structure (pruned = dense with some weights set
// to zero). Refits `pruned` in place. Throws ir::Error for non-float layers or graphs
// that do not match.
constexpr double kDefaultRidge = 1e-4;

void reconstruct_pruned(ir::Graph& pruned, const ir::Graph& dense,
                        const quantize::CalibrationSet& data, double ridge = kDefaultRidge,
                        const std::function<void(const std::string&)>& log = {});

}  // namespace tinyforge::prune
