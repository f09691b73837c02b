// Placement over memory regions: what goes to the fast region, what spills, what stays, and
// the refusal naming the region and the bytes missing. Every plan is checked independently:
// inside each region, buffers alive together never overlap and fit the region.
#include "plan/region_planner.h"

#include <gtest/gtest.h>

#include "expect_error.h"

namespace tinyforge::plan {
namespace {

// Per region: the buffers placed there and their offsets, checked by memory_plan_is_valid.
void expect_valid(const std::vector<RegionBuffer>& buffers,
                  const std::vector<RegionCapacity>& regions, const RegionPlan& p) {
  ASSERT_EQ(p.region.size(), buffers.size());
  for (size_t r = 0; r < regions.size(); ++r) {
    std::vector<Buffer> in_region;
    MemoryPlan mp;
    for (size_t i = 0; i < buffers.size(); ++i)
      if (p.region[i] == r) {
        in_region.push_back(buffers[i].buffer);
        mp.offsets.push_back(p.offsets[i]);
      }
    mp.arena_size = p.region_bytes[r];
    EXPECT_TRUE(memory_plan_is_valid(in_region, mp)) << "region " << r;
    EXPECT_LE(p.region_bytes[r], regions[r].bytes) << "region " << r;
  }
}

TEST(RegionPlanner, EverythingInTheFastestRegionWhenItFits) {
  const std::vector<RegionBuffer> b = {
      {{100, -1, 0}, 1, false}, {{60, 0, 1}, 9, false}, {{100, 1, 2}, 2, false}};
  const std::vector<RegionCapacity> regions = {{"sram", 160}, {"psram", 1000}};
  const RegionPlan p = plan_regions(b, regions, 4);
  expect_valid(b, regions, p);
  for (uint32_t r : p.region) EXPECT_EQ(r, 0u);
  EXPECT_EQ(p.region_bytes[0], 160u);  // a and c share memory, as plan_memory alone does
  EXPECT_EQ(p.region_bytes[1], 0u);
}

TEST(RegionPlanner, HotBuffersTakeTheFastRegionColdOnesSpill) {
  // All alive together: 3 x 64 bytes, the fast region holds two. The coldest spills.
  const std::vector<RegionBuffer> b = {
      {{64, 0, 3}, 5.0, false}, {{64, 0, 3}, 0.5, false}, {{64, 0, 3}, 50.0, false}};
  const std::vector<RegionCapacity> regions = {{"sram", 128}, {"psram", 4096}};
  const RegionPlan p = plan_regions(b, regions, 4);
  expect_valid(b, regions, p);
  EXPECT_EQ(p.region[2], 0u);
  EXPECT_EQ(p.region[0], 0u);
  EXPECT_EQ(p.region[1], 1u);
  EXPECT_EQ(p.region_bytes[1], 64u);
}

TEST(RegionPlanner, SmallerFirstAmongEquallyHotBuffers) {
  const std::vector<RegionBuffer> b = {
      {{96, 0, 3}, 1.0, false}, {{32, 0, 3}, 1.0, false}, {{32, 0, 3}, 1.0, false}};
  const std::vector<RegionCapacity> regions = {{"sram", 64}, {"psram", 4096}};
  const RegionPlan p = plan_regions(b, regions, 4);
  expect_valid(b, regions, p);
  EXPECT_EQ(p.region[0], 1u);  // the big one spills, the two small ones stay fast
  EXPECT_EQ(p.region[1], 0u);
  EXPECT_EQ(p.region[2], 0u);
}

TEST(RegionPlanner, PinnedBuffersStayInRegionZeroEvenWhenCold) {
  const std::vector<RegionBuffer> b = {{{64, 0, 0}, 0.0, true}, {{64, 0, 1}, 100.0, false}};
  const std::vector<RegionCapacity> regions = {{"sram", 64}, {"psram", 4096}};
  const RegionPlan p = plan_regions(b, regions, 4);
  expect_valid(b, regions, p);
  EXPECT_EQ(p.region[0], 0u);
  EXPECT_EQ(p.region[1], 1u);
}

TEST(RegionPlanner, RefusesNamingTheRegionAndTheBytesMissing) {
  const std::vector<RegionBuffer> b = {{{100, 0, 1}, 1.0, false}, {{100, 0, 1}, 1.0, false}};
  EXPECT_ERROR(plan_regions(b, {{"sram", 64}, {"psram", 150}}, 4), tinyforge::Error,
               "memory region 'psram' (150 bytes) is too small: the plan needs 200 bytes there, "
               "50 bytes missing");
  const std::vector<RegionBuffer> scratch = {{{80, 0, 0}, 0.0, true}};
  EXPECT_ERROR(plan_regions(scratch, {{"sram", 64}, {"psram", 4096}}, 4), tinyforge::Error,
               "memory region 'sram' (64 bytes) is too small: the plan needs 80 bytes there, 16 "
               "bytes missing (op scratch buffers stay in the fastest region)");
}

TEST(RegionPlanner, KeepsInPlaceOverlapsWithinARegion) {
  // Buffer 1 (output) may start 0 bytes below buffer 0 (input): one region of 64 suffices.
  const std::vector<RegionBuffer> b = {{{64, -1, 0}, 1.0, false}, {{64, 0, 1}, 1.0, false}};
  const std::vector<Overlap> overlaps = {{0, 1, 0}};
  const RegionPlan p = plan_regions(b, {{"sram", 64}, {"psram", 4096}}, 4, overlaps);
  EXPECT_EQ(p.region[0], 0u);
  EXPECT_EQ(p.region[1], 0u);
  EXPECT_EQ(p.region_bytes[0], 64u);
}

TEST(RegionPlanner, AccessEstimateCountsConvWorkOverElementwise) {
  // A float conv 1x4x4x2 -> 1x4x4x3 with a 3x3 filter: 48 outputs x 18 weights = 864 MACs.
  Plan plan;
  auto tensor = [&](std::vector<int32_t> shape, Storage s) {
    PlanTensor t;
    t.type = DType::f32;
    t.shape = std::move(shape);
    t.storage = s;
    plan.tensors.push_back(t);
    return static_cast<uint16_t>(plan.tensors.size() - 1);
  };
  const uint16_t in = tensor({1, 4, 4, 2}, Storage::arena);
  const uint16_t filter = tensor({3, 3, 3, 2}, Storage::constant);
  const uint16_t bias = tensor({3}, Storage::constant);
  const uint16_t out = tensor({1, 4, 4, 3}, Storage::arena);
  const uint16_t out2 = tensor({1, 4, 4, 3}, Storage::arena);
  plan.ops.push_back({OpCode::Conv2D, {in, filter, bias}, {out}, {}, 0, 0, "conv"});
  plan.ops.push_back({OpCode::Logistic, {out}, {out2}, {}, 0, 0, "logistic"});
  const std::vector<uint64_t> a = estimate_accesses(plan);
  EXPECT_EQ(a[in], 864u * 4);
  EXPECT_EQ(a[filter], 864u * 4);
  EXPECT_EQ(a[bias], 12u * 16);    // per output pixel
  EXPECT_EQ(a[out], 2u * 48 * 4);  // written once, read once
  EXPECT_EQ(a[out2], 48u * 4);
}

}  // namespace
}  // namespace tinyforge::plan
