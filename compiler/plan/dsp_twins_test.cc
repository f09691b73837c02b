// The DSP twins against their reference kernels, bit for bit, on random shapes, strides,
// paddings, activations and quantization (one table of op families, in the spirit of
// ggml's test-backend-ops). Each case is a one-op graph compiled twice -- reference kernels
// and the armv7em set -- through the whole compiler (selection, packing, requantization
// records, scratch, in-place memory planning, blob), validated and run by the runtime on
// random inputs; the outputs must be equal. A case also checks that the twin really was
// selected, so the comparison cannot pass vacuously.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"

namespace tinyforge::plan {
namespace {

using namespace twin_cases;

// The RequantMode a DSP op was compiled with (-1 for ops without an output stage).
template <typename P>
int32_t requant_field(const PlanOp& op) {
  P p;
  std::memcpy(&p, op.params.data(), sizeof p);
  return p.requant;
}
int32_t requant_mode(const PlanOp& op) {
  switch (op.op) {
    case OpCode::Conv2DDsp:
      return requant_field<Conv2DDspParams>(op);
    case OpCode::DepthwiseConv2DDsp:
      return requant_field<DepthwiseConv2DDspParams>(op);
    case OpCode::FullyConnectedDsp:
      return requant_field<FullyConnectedDspParams>(op);
    case OpCode::AddDsp:
      return requant_field<AddDspParams>(op);
    default:
      return -1;
  }
}

std::vector<std::vector<uint8_t>> run(const ir::Graph& g, KernelSet set,
                                      const std::vector<std::vector<uint8_t>>& inputs,
                                      uint32_t cases, PlanOp* first_op) {
  PlanOptions options;
  options.kernels = set;
  const Plan plan = build_plan(g, options);
  *first_op = plan.ops.at(0);
  host::HostRunner runner(emit::write_plan_blob(plan), "twin test");
  return runner.run(inputs, cases);
}

TEST(DspTwins, BitExactWithTheReferenceKernelsOnRandomCases) {
  Rng rng(20240611);
  for (const Family& family : kFamilies) {
    int modes[2] = {0, 0};  // cases compiled with RequantMode::exact, ::fast
    for (int i = 0; i < family.cases; ++i) {
      Built built = family.make(rng);
      SCOPED_TRACE(testing::Message() << family.name << " case " << i);
      constexpr uint32_t kCases = 3;
      std::vector<std::vector<uint8_t>> inputs;
      for (int t : built.graph.inputs) {
        std::vector<uint8_t> bytes(static_cast<size_t>(built.graph.tensors[t].bytes()) * kCases);
        for (uint8_t& v : bytes) v = static_cast<uint8_t>(uniform(rng, 0, 255));
        inputs.push_back(std::move(bytes));
      }
      PlanOp ref_op, dsp_op;
      std::vector<std::vector<uint8_t>> want, got;
      try {
        want = run(built.graph, KernelSet::reference, inputs, kCases, &ref_op);
        got = run(built.graph, KernelSet::armv7em, inputs, kCases, &dsp_op);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        continue;
      }
      ASSERT_EQ(dsp_op.op, built.expected) << "the twin was not selected";
      ASSERT_EQ(want.size(), got.size());
      for (size_t o = 0; o < want.size(); ++o) ASSERT_EQ(want[o], got[o]) << "output " << o;
      const int32_t mode = requant_mode(dsp_op);
      if (mode == 0 || mode == 1) ++modes[mode];
    }
    std::printf("%-21s %3d cases bit-exact (output stage: %d fast, %d exact)\n", family.name,
                family.cases, modes[1], modes[0]);
    if (modes[0] + modes[1] > 0) {  // families with a DSP output stage use both forms
      EXPECT_GT(modes[0], 0) << family.name << ": no case exercised the exact output stage";
      EXPECT_GT(modes[1], 0) << family.name << ": no case exercised the fast output stage";
    }
  }
}

// A filter holding -128 cannot use the dual-channel layout: the reference kernel stays.
TEST(DspTwins, FilterWithMinus128KeepsTheReferenceKernel) {
  Rng rng(7);
  Built built = conv(rng, true);
  ir::Tensor& filter = built.graph.tensors[built.graph.nodes[0].inputs[1]];
  filter.data[0] = static_cast<uint8_t>(static_cast<int8_t>(-128));
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  EXPECT_EQ(build_plan(built.graph, options).ops.at(0).op, OpCode::Conv2D);
}

// A depthwise multiplier runs as Conv2DDsp up to 8 input channels (a block-diagonal filter of
// 8x the depthwise weights); wider layers, and filters holding -128, keep the reference.
TEST(DspTwins, DepthwiseMultiplierConvFormOnlyWhereItPays) {
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  auto selected = [&](int32_t channels, int8_t first_weight) {
    Rng rng(3);
    GraphBuilder b{{}, rng};
    const int x = b.activation("x", {1, 6, 6, channels}, 0.05f, -3);
    float ws;
    const int w = b.weights({1, 3, 3, 2 * channels}, 2 * channels, 3, &ws);
    b.g.tensors[w].data[0] = static_cast<uint8_t>(first_weight);
    const int y = b.activation("y", {1, 4, 4, 2 * channels}, 0.1f, 5);
    ops::ConvAttrs a;
    a.depth_multiplier = 2;
    b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {x, w, -1}, {y}, a, "dw"});
    b.g.inputs = {x};
    b.g.outputs = {y};
    return build_plan(b.g, options).ops.at(0).op;
  };
  EXPECT_EQ(selected(1, 5), OpCode::Conv2DDsp);
  EXPECT_EQ(selected(8, 5), OpCode::Conv2DDsp);
  EXPECT_EQ(selected(9, 5), OpCode::DepthwiseConv2D);
  EXPECT_EQ(selected(1, -128), OpCode::DepthwiseConv2D);
}

// One input channel at multiplier 1 takes the conv form too, unless -128 rules it out: then
// the depthwise twin, which has no such limit.
TEST(DspTwins, SingleChannelDepthwiseTakesTheConvForm) {
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  for (const int8_t first_weight : {int8_t{5}, int8_t{-128}}) {
    Rng rng(5);
    GraphBuilder b{{}, rng};
    const int x = b.activation("x", {1, 6, 6, 1}, 0.05f, -3);
    float ws;
    const int w = b.weights({1, 3, 3, 1}, 1, 3, &ws);
    b.g.tensors[w].data[0] = static_cast<uint8_t>(first_weight);
    const int y = b.activation("y", {1, 4, 4, 1}, 0.1f, 5);
    b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {x, w, -1}, {y}, ops::ConvAttrs{}, "dw"});
    b.g.inputs = {x};
    b.g.outputs = {y};
    EXPECT_EQ(build_plan(b.g, options).ops.at(0).op,
              first_weight == 5 ? OpCode::Conv2DDsp : OpCode::DepthwiseConv2DDsp);
  }
}

// In place: a chain of a pointwise conv and a depthwise conv of equal shapes plans its
// activations on top of each other (gap 0) and still gives the reference's bytes.
TEST(DspTwins, InPlaceChainSharesMemoryAndStaysExact) {
  Rng rng(11);
  GraphBuilder b{{}, rng};
  const int32_t c = 16;
  const int x = b.activation("x", {1, 9, 7, c}, 0.05f, -3);
  float ws;
  const int w1 = b.weights({c, 1, 1, c}, c, 0, &ws);
  const int y = b.activation("y", {1, 9, 7, c}, 0.1f, 5);
  const int w2 = b.weights({1, 3, 3, c}, c, 3, &ws);
  const int z = b.activation("z", {1, 9, 7, c}, 0.05f, -7);
  ops::ConvAttrs same;
  same.window.padding = ir::Padding::same;
  b.g.nodes.push_back(ir::Node{OpCode::Conv2D, {x, w1, -1}, {y}, ops::ConvAttrs{}, "pw"});
  b.g.nodes.push_back(ir::Node{OpCode::DepthwiseConv2D, {y, w2, -1}, {z}, same, "dw"});
  b.g.inputs = {x};
  b.g.outputs = {z};
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  const Plan plan = build_plan(b.g, options);
  const uint32_t tensor_bytes = 9 * 7 * c;
  // Three tensors of 1008 bytes, never more than one of them plus scratch in the arena.
  EXPECT_LT(plan.arena_size, 2 * tensor_bytes);
  std::vector<std::vector<uint8_t>> inputs(1, std::vector<uint8_t>(tensor_bytes * 4));
  for (uint8_t& v : inputs[0]) v = static_cast<uint8_t>(uniform(rng, 0, 255));
  PlanOp op;
  EXPECT_EQ(run(b.g, KernelSet::armv7em, inputs, 4, &op),
            run(b.g, KernelSet::reference, inputs, 4, &op));
}

}  // namespace
}  // namespace tinyforge::plan
