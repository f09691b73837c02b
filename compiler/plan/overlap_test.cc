// In-place planning: the gaps of plan/overlap.h on shapes worked out by hand, and the
// memory planner honouring Overlap rules (smaller arenas, and never an overlap a rule does
// not allow).
#include "plan/overlap.h"

#include <gtest/gtest.h>

#include <random>

#include "plan/memory_planner.h"

namespace tinyforge::plan {
namespace {

TEST(Overlap, PointwiseConvOfEqualWidthRunsFullyInPlace) {
  // 1x1, stride 1: pixel u is written after it was read; the next read is pixel u + 1.
  EXPECT_EQ(window_gap({1, 5, 5, 64}, {1, 5, 5, 64}, 1, 1, 0, 0, WriteOrder::after_unit_reads), 0);
  // Twice as many output channels: the input must start where the output's second half does.
  EXPECT_EQ(window_gap({1, 4, 4, 8}, {1, 4, 4, 16}, 1, 1, 0, 0, WriteOrder::after_unit_reads),
            15 * 8);
}

TEST(Overlap, DepthwiseRowBufferMakes3x3Stride1InPlace) {
  // Row y is written back once row y + 1 was computed; later reads start at row y + 1.
  EXPECT_EQ(window_gap({1, 25, 5, 64}, {1, 25, 5, 64}, 1, 1, 1, 1, WriteOrder::row_after_next_row),
            0);
  // Writing while still reading the window (interleaved) needs a window's rows of headroom.
  EXPECT_EQ(window_gap({1, 6, 4, 2}, {1, 6, 4, 2}, 1, 1, 1, 1, WriteOrder::interleaved),
            (4 + 2) * 2);
}

TEST(Overlap, RowGapsOfFullyConnectedAndElementwise) {
  EXPECT_EQ(row_gap(1, 640, 128, WriteOrder::interleaved), 128);   // outputs while reading the row
  EXPECT_EQ(row_gap(100, 1, 1, WriteOrder::after_unit_reads), 0);  // element-wise: in place
  EXPECT_EQ(row_gap(1, 1, 1, WriteOrder::after_unit_reads), kAnyGap);
}

TEST(MemoryPlannerOverlap, InPlaceChainFitsInOneBufferPlusGaps) {
  // a -> op0 -> b -> op1 -> c, 1000 bytes each; op0 in place with gap 0, op1 with gap 40.
  const std::vector<Buffer> bufs = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}};
  const std::vector<Overlap> rules = {{0, 1, 0}, {1, 2, 40}};
  const MemoryPlan p = plan_memory(bufs, 4, rules);
  ASSERT_TRUE(memory_plan_is_valid(bufs, p, rules));
  EXPECT_EQ(p.arena_size, 1040u);
  EXPECT_GE(static_cast<int64_t>(p.offsets[1]) - p.offsets[2], 40);
  // Without the rules the same buffers need two.
  EXPECT_EQ(plan_memory(bufs, 4).arena_size, 2000u);
}

TEST(MemoryPlannerOverlap, ValidityCheckEnforcesTheGap) {
  const std::vector<Buffer> bufs = {{100, 0, 1}, {100, 1, 2}};
  const std::vector<Overlap> rules = {{0, 1, 8}};
  MemoryPlan p;
  p.offsets = {8, 0};
  p.arena_size = 108;
  EXPECT_TRUE(memory_plan_is_valid(bufs, p, rules));
  p.offsets = {4, 0};  // input only 4 bytes above the output: closer than the gap
  EXPECT_FALSE(memory_plan_is_valid(bufs, p, rules));
  p.offsets = {0, 4};  // input below the output: no rule allows that overlap
  EXPECT_FALSE(memory_plan_is_valid(bufs, p, rules));
  EXPECT_FALSE(memory_plan_is_valid(bufs, p));
}

TEST(MemoryPlannerOverlap, RandomPlansWithRulesAreValid) {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<Buffer> bufs;
    std::vector<Overlap> rules;
    const int ops = 2 + static_cast<int>(rng() % 12);
    // A chain of ops, each reading the previous output (last use) and making a new one,
    // plus random scratch buffers.
    bufs.push_back({1 + static_cast<uint32_t>(rng() % 500), -1, 0});
    for (int i = 0; i < ops; ++i) {
      bufs.push_back({1 + static_cast<uint32_t>(rng() % 500), i, i + 1});
      rules.push_back({bufs.size() - 2, bufs.size() - 1, static_cast<int64_t>(rng() % 300) - 100});
      if (rng() % 2) bufs.push_back({1 + static_cast<uint32_t>(rng() % 100), i, i});
    }
    const MemoryPlan p = plan_memory(bufs, 4, rules);
    ASSERT_TRUE(memory_plan_is_valid(bufs, p, rules)) << "trial " << trial;
    EXPECT_LE(p.arena_size, plan_memory(bufs, 4).arena_size) << "trial " << trial;
  }
}

}  // namespace
}  // namespace tinyforge::plan
