// Each graph pass on a small hand-built float graph: the nodes it leaves, one log line per
// change, and the same outputs from the compiled graph before and after the pass.
#include "passes/passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir_test_graphs.h"
#include "ops/clamp.h"
#include "ops/conv.h"
#include "ops/host_op.h"
#include "ops/transpose.h"

namespace tinyforge::passes {
namespace {

using testing::GraphBuilder;

constexpr uint32_t kCases = 4;

std::vector<OpCode> ops_of(const ir::Graph& g) {
  std::vector<OpCode> ops;
  for (const ir::Node& n : g.nodes) ops.push_back(n.op);
  return ops;
}

ops::ClampAttrs clamp(float lo, float hi) { return {lo, hi}; }

// Runs `pass` on a copy of `g`, checks the graph and that outputs match; returns the copy.
struct PassRun {
  ir::Graph graph;
  int changes = 0;
  std::vector<std::string> lines;
};

template <typename Pass>
PassRun run_and_compare(const ir::Graph& g, Pass pass, uint32_t seed = 5) {
  PassRun r;
  r.graph = g;
  r.changes = pass(r.graph, [&](const std::string& line) { r.lines.push_back(line); });
  EXPECT_NO_THROW(r.graph.check());
  EXPECT_EQ(r.lines.size(), static_cast<size_t>(r.changes));
  std::vector<std::vector<uint8_t>> inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i)
    inputs.push_back(testing::random_floats(kCases * g.tensors[g.inputs[i]].elements(),
                                            seed + static_cast<uint32_t>(i)));
  const std::vector<float> before = testing::as_floats(testing::run_graph(g, inputs, kCases));
  const std::vector<float> after = testing::as_floats(testing::run_graph(r.graph, inputs, kCases));
  EXPECT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size() && i < after.size(); ++i)
    EXPECT_NEAR(before[i], after[i], 1e-6f * (1.0f + std::fabs(before[i]))) << "element " << i;
  return r;
}

ops::ConvAttrs conv1x1() { return {}; }

TEST(PassesDeadNodes, RemovesBranchesThatReachNoOutput) {
  GraphBuilder b(11);
  const int in = b.activation("in", {1, 4, 4, 2});
  const int conv = b.activation("conv", {1, 4, 4, 3});
  const int sum = b.activation("sum", {1, 4, 4, 2});
  const int dead = b.activation("dead", {1, 4, 4, 2});
  b.node(OpCode::Add, {in, in}, sum);
  b.node(OpCode::Conv2D, {in, b.weights("w", {3, 1, 1, 2}, 0.5f), b.weights("b", {3}, 0.1f)}, conv,
         conv1x1());
  b.node(OpCode::Logistic, {sum}, dead);
  b.g.inputs = {in};
  b.g.outputs = {conv};
  b.g.check();

  PassRun r = run_and_compare(b.g, remove_dead_nodes);
  EXPECT_EQ(r.changes, 2);
  EXPECT_EQ(ops_of(r.graph), std::vector<OpCode>{OpCode::Conv2D});
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[0].find("pass remove_dead_nodes: op 2"), std::string::npos) << r.lines[0];
  EXPECT_EQ(remove_dead_nodes(r.graph, {}), 0);
}

TEST(PassesIdentities, RemovesCopiesAndCollapsesReshapeChains) {
  GraphBuilder b(12);
  const int in = b.activation("in", {1, 4, 4, 2});
  const int a = b.activation("a", {1, 4, 4, 2});
  const int same = b.activation("same", {1, 4, 4, 2});
  const int tr = b.activation("tr", {1, 4, 4, 2});
  const int flat = b.activation("flat", {1, 32});
  const int re = b.activation("re", {1, 2, 16});
  const int cl = b.activation("cl", {1, 2, 16});
  const int out = b.activation("out", {1, 2, 16});
  b.node(OpCode::Logistic, {in}, a);
  b.node(OpCode::Reshape, {a}, same);
  b.node(OpCode::Transpose, {same}, tr, ops::TransposeAttrs{{0, 1, 2, 3}});
  b.node(OpCode::Reshape, {tr}, flat);
  b.node(OpCode::Reshape, {flat}, re);
  const float inf = std::numeric_limits<float>::infinity();
  b.node(OpCode::Clamp, {re}, cl, clamp(-inf, inf));
  b.node(OpCode::Tanh, {cl}, out);
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();

  const PassRun r = run_and_compare(b.g, eliminate_identities);
  EXPECT_EQ(r.changes, 4);
  EXPECT_EQ(ops_of(r.graph),
            (std::vector<OpCode>{OpCode::Logistic, OpCode::Reshape, OpCode::Tanh}));
  EXPECT_EQ(r.graph.nodes[1].inputs[0], a);
  EXPECT_EQ(r.graph.nodes[2].inputs[0], re);
}

TEST(PassesIdentities, KeepsModelInputAndOutputDistinctAndRealTransposes) {
  GraphBuilder b(13);
  const int in = b.activation("in", {1, 2, 3});
  const int mid = b.activation("mid", {1, 3, 2});
  const int out = b.activation("out", {1, 3, 2});
  b.node(OpCode::Transpose, {in}, mid, ops::TransposeAttrs{{0, 2, 1}});
  b.node(OpCode::Reshape, {mid}, out);  // same shape, but mid is no model input: removable
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();
  const PassRun r = run_and_compare(b.g, eliminate_identities);
  EXPECT_EQ(r.changes, 1);
  EXPECT_EQ(ops_of(r.graph), std::vector<OpCode>{OpCode::Transpose});
  EXPECT_EQ(r.graph.outputs, std::vector<int>{mid});

  GraphBuilder io(14);
  const int x = io.activation("x", {1, 8});
  const int y = io.activation("y", {1, 8});
  io.node(OpCode::Reshape, {x}, y);
  io.g.inputs = {x};
  io.g.outputs = {y};
  EXPECT_EQ(eliminate_identities(io.g, {}), 0);
  EXPECT_EQ(io.g.nodes.size(), 1u);
}

TEST(PassesFuseActivations, ClampBecomesFusedActivation) {
  GraphBuilder b(15);
  const int in = b.activation("in", {1, 4, 4, 2});
  const int conv = b.activation("conv", {1, 4, 4, 3});
  const int r6 = b.activation("r6", {1, 4, 4, 3});
  const int pool = b.activation("pool", {1, 4, 4, 3});
  const int relu = b.activation("relu", {1, 4, 4, 3});
  const int sum = b.activation("sum", {1, 4, 4, 3});
  const int n1 = b.activation("n1", {1, 4, 4, 3});
  const int out = b.activation("out", {1, 4, 4, 3});
  b.node(OpCode::Conv2D, {in, b.weights("w", {3, 1, 1, 2}, 4.0f), b.weights("b", {3}, 1.0f)}, conv,
         conv1x1());
  b.node(OpCode::Clamp, {conv}, r6, clamp(0, 6));
  ops::PoolAttrs pool_attrs;
  pool_attrs.window.filter_h = pool_attrs.window.filter_w = 1;
  b.node(OpCode::MaxPool2D, {r6}, pool, pool_attrs);
  const float inf = std::numeric_limits<float>::infinity();
  b.node(OpCode::Clamp, {pool}, relu, clamp(0, inf));
  b.node(OpCode::Add, {relu, b.weights("k", {1, 4, 4, 3}, 1.0f, -1.5f)}, sum);
  b.node(OpCode::Clamp, {sum}, n1, clamp(-1, 1));
  b.node(OpCode::Clamp, {n1}, out, clamp(0, 0.5f));  // not a fused activation: stays
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();

  const PassRun r = run_and_compare(b.g, fuse_activations);
  EXPECT_EQ(r.changes, 3);
  EXPECT_EQ(ops_of(r.graph),
            (std::vector<OpCode>{OpCode::Conv2D, OpCode::MaxPool2D, OpCode::Add, OpCode::Clamp}));
  EXPECT_EQ(ops::fused_activation(r.graph.nodes[0]), ir::Activation::relu6);
  EXPECT_EQ(ops::fused_activation(r.graph.nodes[1]), ir::Activation::relu);
  EXPECT_EQ(ops::fused_activation(r.graph.nodes[2]), ir::Activation::relu_n1_to_1);
  ASSERT_FALSE(r.lines.empty());
  EXPECT_NE(r.lines[0].find("pass fuse_activations: op 1 ("), std::string::npos) << r.lines[0];
  EXPECT_NE(r.lines[0].find("fused into op 0 ("), std::string::npos) << r.lines[0];
  EXPECT_NE(r.lines[0].find("as relu6"), std::string::npos) << r.lines[0];
}

TEST(PassesFuseActivations, LeavesSharedOrActivatedProducers) {
  GraphBuilder b(16);
  const int in = b.activation("in", {1, 4});
  const int fc = b.activation("fc", {1, 4});
  const int cl = b.activation("cl", {1, 4});
  const int out = b.activation("out", {1, 4});
  b.node(OpCode::FullyConnected, {in, b.weights("w", {4, 4}, 1.0f), b.weights("b", {4}, 0.1f)}, fc);
  b.node(OpCode::Clamp, {fc}, cl, clamp(0, 6));
  b.node(OpCode::Add, {fc, cl}, out);  // fc has a second reader
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();
  EXPECT_EQ(fuse_activations(b.g, {}), 0);
  EXPECT_EQ(b.g.nodes.size(), 3u);
}

TEST(PassesFoldConstants, EvaluatesConstantSubgraphs) {
  GraphBuilder b(17);
  const int in = b.activation("in", {1, 2, 2, 3});
  const int conv = b.activation("conv", {1, 2, 2, 3});
  const int sum = b.activation("sum", {1, 2, 2, 3});
  const int sig = b.activation("sig", {1, 2, 2, 3});
  const int mid = b.activation("mid", {1, 2, 2, 3});
  const int out = b.activation("out", {1, 2, 2, 3});
  b.node(OpCode::Conv2D,
         {b.weights("x", {1, 2, 2, 3}, 1.0f), b.weights("w", {3, 1, 1, 3}, 0.5f),
          b.weights("b", {3}, 0.1f)},
         conv, conv1x1());
  b.node(OpCode::Add, {conv, b.weights("k", {1, 2, 2, 3}, 1.0f)}, sum);
  b.node(OpCode::Logistic, {sum}, sig);
  b.node(OpCode::Add, {in, sig}, mid);
  b.node(OpCode::Tanh, {mid}, out);
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();

  const PassRun r = run_and_compare(b.g, fold_constants);
  EXPECT_EQ(r.changes, 3);
  EXPECT_EQ(ops_of(r.graph), (std::vector<OpCode>{OpCode::Add, OpCode::Tanh}));
  EXPECT_TRUE(r.graph.tensors[sig].constant);
  // The folded value is what the kernels compute: sigmoid of a finite sum lies in (0, 1).
  for (float v : testing::as_floats(r.graph.tensors[sig].data)) {
    EXPECT_GT(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(PassesDefault, RunsToFixedPointAndKeepsOutputs) {
  GraphBuilder b(18);
  const int in = b.activation("in", {1, 4, 4, 2});
  const int conv = b.activation("conv", {1, 4, 4, 3});
  const int r6 = b.activation("r6", {1, 4, 4, 3});
  const int same = b.activation("same", {1, 4, 4, 3});
  const int folded = b.activation("folded", {1, 4, 4, 3});
  const int out = b.activation("out", {1, 4, 4, 3});
  const int dead = b.activation("dead", {1, 4, 4, 2});
  b.node(OpCode::Conv2D, {in, b.weights("w", {3, 1, 1, 2}, 4.0f), b.weights("b", {3}, 1.0f)}, conv,
         conv1x1());
  b.node(OpCode::Reshape, {conv}, same);  // removing it lets the Clamp fuse into the conv
  b.node(OpCode::Clamp, {same}, r6, clamp(0, 6));
  b.node(OpCode::Logistic, {b.weights("c", {1, 4, 4, 3}, 1.0f)}, folded);
  b.node(OpCode::Add, {r6, folded}, out);
  b.node(OpCode::Tanh, {in}, dead);
  b.g.inputs = {in};
  b.g.outputs = {out};
  b.g.check();

  const PassRun r = run_and_compare(b.g, run_default_passes);
  EXPECT_EQ(r.changes, 4);
  EXPECT_EQ(ops_of(r.graph), (std::vector<OpCode>{OpCode::Conv2D, OpCode::Add}));
  EXPECT_EQ(ops::fused_activation(r.graph.nodes[0]), ir::Activation::relu6);

  ir::Graph again = r.graph;
  EXPECT_EQ(run_default_passes(again, {}), 0);
}

TEST(PassesDefault, NoChangeOnAnAlreadyLeanGraph) {
  const PassRun r = run_and_compare(testing::small_float_cnn(3), run_default_passes);
  EXPECT_EQ(r.changes, 0);
  EXPECT_EQ(r.graph.nodes.size(), testing::small_float_cnn(3).nodes.size());
}

}  // namespace
}  // namespace tinyforge::passes
