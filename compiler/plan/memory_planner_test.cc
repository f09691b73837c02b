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

}  // namespace
}  // namespace tinyforge::plan
