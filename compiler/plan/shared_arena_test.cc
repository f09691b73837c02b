// The shared arena of several models: non-concurrent models overlap (total = the largest),
// concurrent ones never do, and a mix lands where first fit puts it.
#include "plan/shared_arena.h"

#include <gtest/gtest.h>

#include "expect_error.h"
#include "ir/error.h"

namespace tinyforge::plan {
namespace {

bool overlap(const SharedArena& s, size_t a, size_t b) {
  return s.offsets[a] < s.offsets[b] + s.regions[b] && s.offsets[b] < s.offsets[a] + s.regions[a];
}

TEST(SharedArena, ModelsThatNeverRunTogetherShareOneRegion) {
  const SharedArena s = plan_shared_arena({8704, 768, 33872}, {});
  EXPECT_EQ(s.offsets, (std::vector<uint32_t>{0, 0, 0}));
  EXPECT_EQ(s.regions, (std::vector<uint32_t>{8704, 768, 33872}));
  EXPECT_EQ(s.total_bytes, 33872u);
  EXPECT_EQ(s.separate_bytes, 8704u + 768u + 33872u);
}

TEST(SharedArena, RegionsAreRoundedTo16) {
  const SharedArena s = plan_shared_arena({1, 17, 0}, {{0, 1, 2}});
  EXPECT_EQ(s.regions, (std::vector<uint32_t>{16, 32, 16}));
  EXPECT_EQ(s.total_bytes, 64u);
  for (uint32_t at : s.offsets) EXPECT_EQ(at % 16, 0u);
}

TEST(SharedArena, ConcurrentModelsGetDisjointRegions) {
  const SharedArena s = plan_shared_arena({100 * 16, 30 * 16, 50 * 16}, {{0, 1, 2}});
  EXPECT_EQ(s.total_bytes, 180u * 16);
  EXPECT_EQ(s.total_bytes, s.separate_bytes);
  for (size_t a = 0; a < 3; ++a)
    for (size_t b = a + 1; b < 3; ++b) EXPECT_FALSE(overlap(s, a, b)) << a << " " << b;
}

TEST(SharedArena, MixedGroupsOverlapOnlyWhereAllowed) {
  // A (1000) runs with B (400); C (600) runs alone. First fit, largest first: A at 0,
  // C at 0 (no partner), B after A. Total 1400, not 2000.
  const SharedArena s = plan_shared_arena({1000, 400, 600}, {{0, 1}});
  EXPECT_EQ(s.offsets, (std::vector<uint32_t>{0, 1008, 0}));
  EXPECT_FALSE(overlap(s, 0, 1));
  EXPECT_EQ(s.total_bytes, 1008u + 400u);
  EXPECT_EQ(s.separate_bytes, 1008u + 400u + 608u);
}

TEST(SharedArena, TwoGroupsReuseTheGapOfEachOther) {
  // {A, B} and {A, C}: B and C never run together, so both go right after A.
  const SharedArena s = plan_shared_arena({512, 256, 128}, {{0, 1}, {0, 2}});
  EXPECT_EQ(s.offsets, (std::vector<uint32_t>{0, 512, 512}));
  EXPECT_EQ(s.total_bytes, 768u);
}

TEST(SharedArena, RefusesAnIndexOutOfRange) {
  EXPECT_ERROR((plan_shared_arena({16, 16}, {{0, 2}})), tinyforge::Error, "out of range");
}

}  // namespace
}  // namespace tinyforge::plan
