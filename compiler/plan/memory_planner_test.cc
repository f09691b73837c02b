#include "plan/memory_planner.h"

#include <gtest/gtest.h>

#include <random>

namespace tinyforge::plan {
namespace {

TEST(MemoryPlanner, ChainReusesMemory) {
  // a -> op0 -> b -> op1 -> c: a and c never live together, so they can share memory.
  const std::vector<Buffer> bufs = {{100, -1, 0}, {60, 0, 1}, {100, 1, 2}};
  const MemoryPlan p = plan_memory(bufs);
  EXPECT_TRUE(memory_plan_is_valid(bufs, p));
  EXPECT_EQ(p.arena_size, 160u);
}

TEST(MemoryPlanner, AllAliveNeedsTheSum) {
  const std::vector<Buffer> bufs = {{12, 0, 5}, {20, 0, 5}, {8, 0, 5}};
  const MemoryPlan p = plan_memory(bufs);
  EXPECT_TRUE(memory_plan_is_valid(bufs, p));
  EXPECT_EQ(p.arena_size, 40u);
}

TEST(MemoryPlanner, AlignsOffsets) {
  const std::vector<Buffer> bufs = {{3, 0, 1}, {5, 0, 1}, {7, 1, 2}};
  const MemoryPlan p = plan_memory(bufs, 16);
  EXPECT_TRUE(memory_plan_is_valid(bufs, p));
  for (uint32_t o : p.offsets) EXPECT_EQ(o % 16, 0u);
}

// Every pair checked by brute force, independently of the planner's interference lists.
bool no_live_overlap(const std::vector<Buffer>& bufs, const MemoryPlan& p) {
  for (size_t i = 0; i < bufs.size(); ++i) {
    if (uint64_t{p.offsets[i]} + bufs[i].size > p.arena_size) return false;
    for (size_t j = 0; j < bufs.size(); ++j) {
      if (i == j || bufs[i].last < bufs[j].first || bufs[j].last < bufs[i].first) continue;
      if (p.offsets[i] < p.offsets[j] + bufs[j].size && p.offsets[j] < p.offsets[i] + bufs[i].size)
        return false;
    }
  }
  return true;
}

TEST(MemoryPlanner, RandomPlansAreValidAndAtLeastThePeak) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Buffer> bufs(1 + rng() % 30);
    const int ops = 1 + static_cast<int>(rng() % 20);
    for (Buffer& b : bufs) {
      b.size = 1 + rng() % 1000;
      b.first = static_cast<int>(rng() % ops) - 1;
      b.last = b.first + static_cast<int>(rng() % 5) + 1;
    }
    const MemoryPlan p = plan_memory(bufs);
    ASSERT_TRUE(memory_plan_is_valid(bufs, p)) << "trial " << trial;
    ASSERT_TRUE(no_live_overlap(bufs, p)) << "trial " << trial;
    const MemoryPlan quick = plan_memory(bufs, 4, {}, /*search=*/false);
    ASSERT_TRUE(no_live_overlap(bufs, quick)) << "trial " << trial;
    EXPECT_LE(p.arena_size, quick.arena_size) << "the search never loses to one greedy pass";
    // Lower bound: the largest total of buffers alive at one op.
    uint32_t peak = 0;
    for (int t = -1; t < ops + 6; ++t) {
      uint32_t live = 0;
      for (const Buffer& b : bufs)
        if (b.first <= t && t <= b.last) live += b.size;
      peak = std::max(peak, live);
    }
    EXPECT_GE(p.arena_size, peak);
  }
}

TEST(MemoryPlanner, ValidityCheckFindsAnOverlapOfLiveBuffers) {
  const std::vector<Buffer> bufs = {{16, 0, 3}, {16, 2, 5}, {16, 4, 6}};
  MemoryPlan p{{0, 16, 0}, 32};  // 0 and 2 share memory but do not live together
  EXPECT_TRUE(memory_plan_is_valid(bufs, p));
  p.offsets = {0, 8, 32};  // 0 and 1 live together at ops 2..3 and overlap
  p.arena_size = 48;
  EXPECT_FALSE(memory_plan_is_valid(bufs, p));
  p.offsets = {0, 16, 24};  // 1 and 2 live together at op 4 and overlap
  EXPECT_FALSE(memory_plan_is_valid(bufs, p));
}

// A long chain of in-place ops is planned in time about linear in its length; a regression
// to a quadratic planner would take minutes here, not milliseconds.
TEST(MemoryPlanner, LongChainPlansAndStaysSmall) {
  std::vector<Buffer> bufs;
  std::vector<Overlap> overlaps;
  for (int i = 0; i < 3000; ++i) {
    bufs.push_back({64, i - 1, i});
    if (i > 0) overlaps.push_back({static_cast<size_t>(i - 1), static_cast<size_t>(i), 0});
  }
  const MemoryPlan p = plan_memory(bufs, 4, overlaps);
  EXPECT_TRUE(memory_plan_is_valid(bufs, p, overlaps));
  EXPECT_EQ(p.arena_size, 64u);  // every op in place
}

}  // namespace
}  // namespace tinyforge::plan
