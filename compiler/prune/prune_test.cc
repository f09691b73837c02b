// Pruning: unstructured sparsity per layer, structured channel removal (shapes, metrics,
// and exactness when the removed channels were dead anyway), and the least-squares refit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "expect_error.h"
#include "ir/metrics.h"
#include "ir_test_graphs.h"
#include "plan/build_plan.h"
#include "prune/channel_prune.h"
#include "prune/magnitude_prune.h"
#include "prune/reconstruct.h"
#include "quantize/layer_error.h"

namespace tinyforge::prune {
namespace {

const ir::Tensor& weights_of(const ir::Graph& g, size_t node) {
  return g.tensors.at(static_cast<size_t>(g.nodes.at(node).inputs.at(1)));
}

int64_t zeros(const ir::Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.elements(); ++i) z += t.at<float>(i) == 0.0f ? 1 : 0;
  return z;
}

TEST(PruneUnstructured, EachLayerReachesTheSparsityWithItsSmallestWeights) {
  const ir::Graph dense = testing::small_float_cnn(3);
  ir::Graph g = dense;
  const int64_t zeroed = prune_unstructured(g, 0.5);
  int64_t total = 0;
  for (size_t node : {0u, 2u, 3u, 5u}) {
    const ir::Tensor& w = weights_of(g, node);
    const ir::Tensor& d = weights_of(dense, node);
    EXPECT_EQ(zeros(w), (w.elements() + 1) / 2) << node;  // round(0.5 * n)
    total += zeros(w);
    // Every kept weight is at least as large as every removed one, and kept ones unchanged.
    float largest_removed = 0, smallest_kept = INFINITY;
    for (int64_t i = 0; i < w.elements(); ++i) {
      if (w.at<float>(i) == 0.0f)
        largest_removed = std::max(largest_removed, std::abs(d.at<float>(i)));
      else
        smallest_kept = std::min(smallest_kept, std::abs(w.at<float>(i)));
      if (w.at<float>(i) != 0.0f) EXPECT_EQ(w.at<float>(i), d.at<float>(i));
    }
    EXPECT_LE(largest_removed, smallest_kept) << node;
  }
  EXPECT_EQ(zeroed, total);
  EXPECT_NEAR(weight_sparsity(g), 0.5, 0.01);
  EXPECT_EQ(weight_sparsity(dense), 0.0);
  // Shapes and MACs stay.
  EXPECT_EQ(ir::graph_metrics(g).macs, ir::graph_metrics(dense).macs);
}

TEST(PruneUnstructured, RefusesSparsityOutOfRange) {
  ir::Graph g = testing::small_float_cnn();
  EXPECT_ERROR(prune_unstructured(g, 1.0), tinyforge::Error, "sparsity 1 is out of range");
  EXPECT_ERROR(prune_unstructured(g, -0.1), tinyforge::Error, "sparsity -0.1 is out of range");
  EXPECT_ERROR(prune_channels(g, 1.5), tinyforge::Error, "sparsity 1.5 is out of range");
  EXPECT_EQ(prune_unstructured(g, 0.0), 0);
}

// Makes output channels `dead` of conv `node` produce exactly 0 after its ReLU for the
// small inputs the tests use, with the smallest filter norms.
void kill_channels(ir::Graph& g, size_t node, const std::vector<int>& dead) {
  ir::Tensor& w = g.tensors[static_cast<size_t>(g.nodes[node].inputs[1])];
  ir::Tensor& b = g.tensors[static_cast<size_t>(g.nodes[node].inputs[2])];
  const int64_t per = w.elements() / w.shape[0];
  const float zero = 0.0f, tiny = 1e-4f, negative = -1.0f;
  for (int c : dead) {
    for (int64_t i = 0; i < per; ++i)
      std::memcpy(w.data.data() + (c * per + i) * 4, i == 0 ? &tiny : &zero, 4);
    std::memcpy(b.data.data() + c * 4, &negative, 4);  // relu(1e-4 * x - 1) = 0 for x < 1e4
  }
}

void zero_entries(ir::Tensor& t, const std::vector<int>& at) {
  const float zero = 0.0f;
  for (int i : at) std::memcpy(t.data.data() + i * 4, &zero, 4);
}

TEST(PruneChannels, ShrinksLayersAndTheNextOnesInputs) {
  const ir::Graph dense = testing::small_float_cnn(6);
  ir::Graph g = dense;
  std::vector<std::string> log;
  const ChannelPruneResult r =
      prune_channels(g, 0.5, [&](const std::string& l) { log.push_back(l); });
  g.check();
  // conv1 (8) -> conv2 via max pool; conv2 (6) -> depthwise -> reshape -> FC; the FC
  // feeds the softmax, which keeps its channels.
  EXPECT_EQ(r.layers, 2);
  EXPECT_EQ(r.channels_removed, 4 + 3);
  EXPECT_EQ(weights_of(g, 0).shape, (std::vector<int32_t>{4, 3, 3, 2}));
  EXPECT_EQ(weights_of(g, 2).shape, (std::vector<int32_t>{3, 3, 3, 4}));
  EXPECT_EQ(weights_of(g, 3).shape, (std::vector<int32_t>{1, 3, 3, 3}));
  EXPECT_EQ(weights_of(g, 5).shape, (std::vector<int32_t>{10, 48}));
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.nodes[4].outputs[0])].shape,
            (std::vector<int32_t>{1, 48}));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log.back().find("kept whole"), std::string::npos) << log.back();
  const ir::GraphMetrics before = ir::graph_metrics(dense), after = ir::graph_metrics(g);
  EXPECT_LT(after.macs, before.macs);
  EXPECT_LT(after.params, before.params);
  EXPECT_LT(after.weight_bytes, before.weight_bytes);
  EXPECT_LT(plan::build_plan(g).arena_size, plan::build_plan(dense).arena_size);
}

TEST(PruneChannels, RemovingDeadChannelsChangesNothing) {
  ir::Graph dense = testing::small_float_cnn(8);
  kill_channels(dense, 0, {1, 4, 6, 7});
  kill_channels(dense, 2, {0, 2, 5});
  // The depthwise layer after conv 2 then sees zeros there; with zero bias it passes 0 on.
  zero_entries(dense.tensors[static_cast<size_t>(dense.nodes[3].inputs[2])], {0, 2, 5});
  ir::Graph g = dense;
  prune_channels(g, 0.5);
  ASSERT_EQ(weights_of(g, 0).shape[0], 4);
  ASSERT_EQ(weights_of(g, 2).shape[0], 3);
  const std::vector<uint8_t> in = testing::random_floats(4 * 128, 21);
  const std::vector<float> a = testing::as_floats(testing::run_graph(dense, {in}, 4));
  const std::vector<float> b = testing::as_floats(testing::run_graph(g, {in}, 4));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << i;
}

TEST(PruneChannels, LeavesLayersWhoseChannelsMeetAnAdd) {
  testing::GraphBuilder b(2);
  const int x = b.activation("x", {1, 4, 4, 3});
  const int y = b.activation("y", {1, 4, 4, 4});
  const int z = b.activation("z", {1, 4, 4, 4});
  const int s = b.activation("s", {1, 4, 4, 4});
  ops::ConvAttrs conv;
  conv.window.padding = ir::Padding::same;
  b.node(OpCode::Conv2D, {x, b.weights("w1", {4, 1, 1, 3}, 1), b.weights("b1", {4}, 1)}, y, conv);
  b.node(OpCode::Conv2D, {y, b.weights("w2", {4, 1, 1, 4}, 1), b.weights("b2", {4}, 1)}, z, conv);
  b.node(OpCode::Add, {y, z}, s);
  b.g.inputs = {x};
  b.g.outputs = {s};
  const ChannelPruneResult r = prune_channels(b.g, 0.5);
  EXPECT_EQ(r.layers, 0);
  EXPECT_EQ(weights_of(b.g, 0).shape[0], 4);
}

TEST(Reconstruct, RefitRecoversWhatPruningLost) {
  const ir::Graph dense = testing::small_float_cnn(12);
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(dense, {testing::random_floats(64 * 128, 5)}, {"cal"});
  ir::Graph pruned = dense;
  prune_unstructured(pruned, 0.5);
  ir::Graph refit = pruned;
  reconstruct_pruned(refit, dense, data);
  // The sparsity pattern is kept.
  for (size_t node : {0u, 2u, 3u, 5u}) {
    const ir::Tensor& p = weights_of(pruned, node);
    const ir::Tensor& r = weights_of(refit, node);
    for (int64_t i = 0; i < p.elements(); ++i)
      if (p.at<float>(i) == 0.0f) EXPECT_EQ(r.at<float>(i), 0.0f);
  }
  // Held-out data: the refitted network is closer to the dense one.
  const std::vector<uint8_t> test = testing::random_floats(32 * 128, 99);
  const std::vector<float> ref = testing::as_floats(testing::run_graph(dense, {test}, 32));
  const double plain =
      quantize::sqnr_db(ref, testing::as_floats(testing::run_graph(pruned, {test}, 32)));
  const double fitted =
      quantize::sqnr_db(ref, testing::as_floats(testing::run_graph(refit, {test}, 32)));
  EXPECT_GT(fitted, plain + 2.0) << "plain " << plain << " dB, refitted " << fitted << " dB";
}

TEST(Reconstruct, RefitAfterStructuredPruningUsesTheKeptChannels) {
  const ir::Graph dense = testing::small_float_cnn(14);
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(dense, {testing::random_floats(64 * 128, 7)}, {"cal"});
  ir::Graph pruned = dense;
  const ChannelPruneResult r = prune_channels(pruned, 0.25);
  ASSERT_EQ(r.kept_channels.size(), dense.nodes.size());
  EXPECT_EQ(r.kept_channels[0].size(), 6u);                         // conv 1: 8 -> 6
  EXPECT_EQ(r.kept_channels[3].size(), r.kept_channels[2].size());  // the depthwise follows conv 2
  EXPECT_TRUE(r.kept_channels[5].empty());                          // the FC keeps its outputs
  ir::Graph refit = pruned;
  reconstruct_pruned(refit, dense, data, kDefaultRidge, {}, r.kept_channels);
  const std::vector<uint8_t> test = testing::random_floats(32 * 128, 98);
  const std::vector<float> ref = testing::as_floats(testing::run_graph(dense, {test}, 32));
  const double plain =
      quantize::sqnr_db(ref, testing::as_floats(testing::run_graph(pruned, {test}, 32)));
  const double fitted =
      quantize::sqnr_db(ref, testing::as_floats(testing::run_graph(refit, {test}, 32)));
  EXPECT_GT(fitted, plain + 2.0) << "plain " << plain << " dB, refitted " << fitted << " dB";
}

TEST(Reconstruct, UnprunedLayersAreReproduced) {
  // With nothing pruned, the least-squares solution is the dense layer itself.
  const ir::Graph dense = testing::small_float_cnn(13);
  const quantize::CalibrationSet data =
      quantize::make_calibration_set(dense, {testing::random_floats(64 * 128, 6)}, {"cal"});
  ir::Graph g = dense;
  reconstruct_pruned(g, dense, data, 1e-9);
  // The first conv sees the same inputs in both models and 4096 patches for 19 unknowns.
  const ir::Tensor& a = weights_of(dense, 0);
  const ir::Tensor& b = weights_of(g, 0);
  double worst = 0;
  for (int64_t i = 0; i < a.elements(); ++i)
    worst = std::max(worst, std::abs(double{a.at<float>(i)} - b.at<float>(i)));
  EXPECT_LT(worst, 1e-3);
}

}  // namespace
}  // namespace tinyforge::prune
