// Metrics on hand-built IR graphs: the MAC formula of each op, zero for the rest, and a
// constant shared by two nodes counted once in the totals.
#include "ir/metrics.h"

#include <gtest/gtest.h>

namespace tinyforge::ir {
namespace {

int add(Graph& g, std::vector<int32_t> shape, bool constant = false, DType type = DType::f32) {
  Tensor t;
  t.shape = std::move(shape);
  t.type = type;
  t.constant = constant;
  if (constant) t.data.resize(static_cast<size_t>(t.bytes()));
  return g.add_tensor(std::move(t));
}

TEST(Metrics, MacsPerOpAndSharedWeightsCountedOnce) {
  Graph g;
  const int in = add(g, {2, 6, 6, 4});
  const int conv_w = add(g, {8, 3, 3, 2}, true);  // 2 groups of 2 input channels
  const int conv_b = add(g, {8}, true);
  const int conv_out = add(g, {2, 4, 4, 8});
  const int dw_w = add(g, {1, 2, 2, 16}, true, DType::i8);  // depth multiplier 2
  const int dw_out = add(g, {2, 3, 3, 16});
  const int pool_out = add(g, {2, 1, 1, 16});
  const int fc_w = add(g, {16, 16}, true);
  const int fc1 = add(g, {2, 16});
  const int fc2 = add(g, {2, 16});
  g.inputs = {in};
  g.nodes = {{OpCode::Conv2D, {in, conv_w, conv_b}, {conv_out}, {}, ""},
             {OpCode::DepthwiseConv2D, {conv_out, dw_w, -1}, {dw_out}, {}, ""},
             {OpCode::AveragePool2D, {dw_out}, {pool_out}, {}, ""},
             {OpCode::FullyConnected, {pool_out, fc_w, -1}, {fc1}, {}, ""},
             {OpCode::FullyConnected, {fc1, fc_w, -1}, {fc2}, {}, ""}};
  g.outputs = {fc2};
  g.check();

  const GraphMetrics m = graph_metrics(g);
  ASSERT_EQ(m.nodes.size(), 5u);
  EXPECT_EQ(m.nodes[0].macs, 2 * 4 * 4 * 8 * (3 * 3 * 2));
  EXPECT_EQ(m.nodes[1].macs, 2 * 3 * 3 * 16 * (2 * 2));
  EXPECT_EQ(m.nodes[2].macs, 0);
  EXPECT_EQ(m.nodes[3].macs, 2 * 16 * 16);
  EXPECT_EQ(m.macs, 4608 + 1152 + 0 + 512 + 512);
  EXPECT_EQ(m.nodes[0].params, 144 + 8);
  EXPECT_EQ(m.nodes[0].weight_bytes, (144 + 8) * 4);
  EXPECT_EQ(m.nodes[1].weight_bytes, 64);  // int8
  EXPECT_EQ(m.nodes[3].params, 256);
  EXPECT_EQ(m.nodes[4].params, 256);
  EXPECT_EQ(m.params, 152 + 64 + 256) << "fc_w is shared and counted once";
  EXPECT_EQ(m.weight_bytes, 152 * 4 + 64 + 256 * 4);
}

}  // namespace
}  // namespace tinyforge::ir
