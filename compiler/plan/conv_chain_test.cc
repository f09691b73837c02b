// Strip-wise conv chains (ConvChainDsp): on random conv -> conv (-> residual add) graphs,
// the plan compiled with --optimize ram runs bit for bit like the one compiled with
// --optimize speed (the separate DSP ops), through the whole compiler and the runtime, and
// its arena is never larger; the chain and its in-place residual output are really formed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/compile.h"
#include "host/host_runner.h"
#include "plan/build_plan.h"
#include "plan/conv_chain_cases.h"
#include "shared_data.h"

namespace tinyforge::plan {
namespace {

using namespace twin_cases;

Plan compile(const ir::Graph& g, Optimize optimize) {
  PlanOptions options;
  options.kernels = KernelSet::armv7em;
  options.optimize = optimize;
  return build_plan(g, options);
}

std::vector<std::vector<uint8_t>> run(const Plan& plan, const std::vector<uint8_t>& input) {
  host::HostRunner runner(emit::write_plan_blob(plan), "conv chain test");
  return runner.run({input}, 2);
}

const PlanOp* chain_op(const Plan& plan) {
  for (const PlanOp& op : plan.ops)
    if (op.op == OpCode::ConvChainDsp) return &op;
  return nullptr;
}

bool ends_with_add(const PlanOp& op) {
  ConvChainDspParams p;
  std::memcpy(&p, op.params.data(), sizeof p);
  return p.add_input != static_cast<int32_t>(ChainAdd::none);
}

TEST(ConvChain, RamPlanBitExactWithTheSeparateOpsAndNeverLarger) {
  Rng rng(20261207);
  int chains = 0, residual_chains = 0, in_place = 0;
  constexpr int kCases = 150;
  for (int i = 0; i < kCases; ++i) {
    SCOPED_TRACE(::testing::Message() << "case " << i);
    const Built c = conv_chain(rng);
    const Plan speed = compile(c.graph, Optimize::speed);
    const Plan ram = compile(c.graph, Optimize::ram);
    ASSERT_EQ(chain_op(speed), nullptr) << "--optimize speed formed a chain";
    EXPECT_LE(ram.arena_size, speed.arena_size);
    std::vector<uint8_t> input(speed.tensors[speed.inputs[0]].bytes() * 2);
    for (uint8_t& v : input) v = static_cast<uint8_t>(uniform(rng, 0, 255));
    ASSERT_EQ(run(speed, input), run(ram, input));
    const PlanOp* op = chain_op(ram);
    if (op == nullptr) continue;
    ++chains;
    EXPECT_LT(ram.arena_size, speed.arena_size) << "a chain kept without saving arena";
    if (ends_with_add(*op)) {
      ++residual_chains;
      const PlanTensor& in = ram.tensors[op->inputs[0]];
      const PlanTensor& out = ram.tensors[op->outputs[0]];
      if (out.arena_offset < in.arena_offset + in.bytes() &&
          in.arena_offset < out.arena_offset + out.bytes())
        ++in_place;
    }
  }
  std::printf("%d cases: %d chains formed, %d with the residual add, %d of those in place\n",
              kCases, chains, residual_chains, in_place);
  EXPECT_GT(chains - residual_chains, 0) << "no chain without an add was exercised";
  EXPECT_GT(in_place, 0) << "no residual chain ran in place";
}

// Balanced keeps a chain whose row moves are a small part of its work and refuses one
// where they are not (one output row: a move of two middle rows per handful of MACs).
TEST(ConvChain, BalancedRuleWeighsRowMovesAgainstMacs) {
  ConvChainDspParams p{};
  p.second.filter_h = 3;
  p.second.dilation_h = 1;
  p.second.stride_h = 1;
  p.mid_h = 32;
  p.mid_w = 32;
  p.mid_c = 16;
  // ResNet-8's first block: 2 x 32x32x16 outputs of 3x3x16 taps.
  EXPECT_TRUE(chain_is_cheap(p, 2 * 32 * 32 * 16 * 144, 32));
  EXPECT_FALSE(chain_is_cheap(p, 100 * 32 * 2 * 32 * 16 - 1, 32));
}

TEST(ConvChain, ParseOptimizeNamesEveryMode) {
  for (Optimize o : {Optimize::speed, Optimize::balanced, Optimize::ram})
    EXPECT_EQ(parse_optimize(optimize_name(o)), o);
  EXPECT_FALSE(parse_optimize("fast").has_value());
}

// ResNet-8 (MLPerf Tiny): its first residual block becomes a chain and the arena shrinks
// from the two 16 KB activations the block held at once to about 25 KB.
TEST(ConvChain, ResnetFirstBlockRunsStripWise) {
  TINYFORGE_REQUIRE_SHARED("models/pretrainedResnet_quant.tflite");
  const std::string model =
      (testing::shared_dir() / "models/pretrainedResnet_quant.tflite").string();
  PlanOptions options = host::plan_options_for_target("cortex-m4");
  options.optimize = Optimize::speed;
  const Plan speed = host::compile_model_file(model, options).plan;
  options.optimize = Optimize::balanced;
  const Plan balanced = host::compile_model_file(model, options).plan;
  ASSERT_NE(chain_op(balanced), nullptr);
  EXPECT_TRUE(ends_with_add(*chain_op(balanced))) << "the block's add was not fused";
  EXPECT_GT(speed.arena_size, 2u * 16384);
  // With the chain alone 26,272 B: the second block's peak; moving its 1x1 skip conv up
  // (plan/reorder.h) frees the block input sooner.
  EXPECT_LT(balanced.arena_size, 25u * 1024 + 512);
  std::printf("ResNet-8 arena: speed %u B, balanced %u B\n", speed.arena_size, balanced.arena_size);
}

}  // namespace
}  // namespace tinyforge::plan
