// The validator's bounds check on an op's scratch buffer. The DSP kernels write their
// scratch (im2col patches) through io.scratch = arena + scratch_offset without checking it
// again, so a blob whose scratch lies past the arena must be refused before it runs. The
// plans here come from the real compiler (an im2col Conv2DDsp), then one field is changed.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "emit/plan_writer.h"
#include "plan/build_plan.h"
#include "plan/dsp_twin_cases.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

struct Compiled {
  plan::Plan plan;
  size_t op = 0;  // index of the op with scratch
};

// A Conv2D with a 3x3 window compiled for the armv7em kernels: its twin needs scratch.
Compiled conv_with_scratch() {
  plan::twin_cases::Rng rng(7);
  for (int attempt = 0; attempt < 50; ++attempt) {
    plan::twin_cases::Built built = plan::twin_cases::conv(rng, false);
    plan::PlanOptions options;
    options.kernels = plan::KernelSet::armv7em;
    Compiled c{plan::build_plan(built.graph, options)};
    for (size_t i = 0; i < c.plan.ops.size(); ++i)
      if (c.plan.ops[i].scratch_size > 0) {
        c.op = i;
        return c;
      }
  }
  ADD_FAILURE() << "no compiled conv needed scratch";
  return {};
}

Status validate(const std::vector<uint8_t>& blob) {
  std::vector<uint32_t> words((blob.size() + 3) / 4);
  std::memcpy(words.data(), blob.data(), blob.size());
  return validate_plan(reinterpret_cast<const uint8_t*>(words.data()),
                       static_cast<uint32_t>(blob.size()));
}

Status with_scratch_at(Compiled c, uint32_t offset) {
  c.plan.ops[c.op].scratch_offset = offset;
  return validate(emit::write_plan_blob(c.plan));
}

TEST(PlanValidatorScratch, CompilerPlacesScratchInsideTheArena) {
  const Compiled c = conv_with_scratch();
  ASSERT_FALSE(c.plan.ops.empty());
  const plan::PlanOp& op = c.plan.ops[c.op];
  EXPECT_EQ(op.op, OpCode::Conv2DDsp);
  EXPECT_LE(uint64_t{op.scratch_offset} + op.scratch_size, c.plan.arena_size);
  EXPECT_EQ(validate(emit::write_plan_blob(c.plan)), Status::ok);
}

TEST(PlanValidatorScratch, ScratchPastTheArenaIsRefused) {
  const Compiled c = conv_with_scratch();
  ASSERT_FALSE(c.plan.ops.empty());
  const uint32_t arena = c.plan.arena_size, size = c.plan.ops[c.op].scratch_size;
  ASSERT_GE(arena, size);
  ASSERT_EQ(arena % 4, 0u);

  // 4 KiB past the arena's end.
  EXPECT_EQ(with_scratch_at(c, arena + 4096), Status::out_of_bounds);
  // Starting inside the arena but running past its end by at most one word.
  const uint32_t last_fit = (arena - size) & ~3u;
  EXPECT_EQ(with_scratch_at(c, last_fit + 4), Status::out_of_bounds);
  // An offset whose end wraps around 32 bits.
  EXPECT_EQ(with_scratch_at(c, 0xFFFFFFF0u), Status::out_of_bounds);
  // The last word-aligned place that fits is accepted (the check is not too strict).
  EXPECT_EQ(with_scratch_at(c, last_fit), Status::ok);
}

// The kernel fills its whole patch buffer: a blob that gives it less scratch than that
// (the rest would land on other tensors of the arena, or at address 0 with none) is refused.
TEST(PlanValidatorScratch, ScratchSmallerThanTheKernelWritesIsRefused) {
  Compiled c = conv_with_scratch();
  ASSERT_FALSE(c.plan.ops.empty());
  const uint32_t size = c.plan.ops[c.op].scratch_size;
  ASSERT_GT(size, 1u);
  for (const uint32_t smaller : {size - 1, size / 2, 0u}) {
    c.plan.ops[c.op].scratch_size = smaller;
    EXPECT_EQ(validate(emit::write_plan_blob(c.plan)), Status::bad_params) << smaller;
  }
}

TEST(PlanValidatorScratch, RuntimeRefusesToRunSuchABlob) {
  Compiled c = conv_with_scratch();
  ASSERT_FALSE(c.plan.ops.empty());
  c.plan.ops[c.op].scratch_offset = c.plan.arena_size + 4096;
  const std::vector<uint8_t> blob = emit::write_plan_blob(c.plan);
  std::vector<uint32_t> words((blob.size() + 3) / 4);
  std::memcpy(words.data(), blob.data(), blob.size());
  std::vector<uint32_t> arena(c.plan.arena_size / 4 + 1);
  Runtime rt;
  EXPECT_EQ(
      rt.init(reinterpret_cast<const uint8_t*>(words.data()), static_cast<uint32_t>(blob.size()),
              reinterpret_cast<uint8_t*>(arena.data()), static_cast<uint32_t>(arena.size() * 4)),
      Status::out_of_bounds);
  EXPECT_EQ(rt.invoke(), Status::not_initialized);
}

}  // namespace
}  // namespace tinyforge
