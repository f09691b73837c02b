// The timing model's classes, as documented in sim/README.md (m4sim's insn_cycles).
#include "sim/cycle_model.h"

#include <gtest/gtest.h>

namespace tinyforge::sim {
namespace {

uint32_t cycles(const char* m, const char* ops, bool after_mem = false) {
  return insn_cycles(m, ops, after_mem).cycles;
}

TEST(CycleModel, LoadsPipelineBehindMemoryAccesses) {
  EXPECT_EQ(cycles("ldr", "r0, [r1]"), 2u);
  EXPECT_EQ(cycles("ldr", "r0, [r1]", true), 1u);
  EXPECT_EQ(cycles("ldrb.w", "r0, [r1, #1]"), 2u);
  EXPECT_EQ(cycles("ldrd", "r0, r1, [r2]"), 3u);
  EXPECT_EQ(cycles("ldrd", "r0, r1, [r2]", true), 2u);
  EXPECT_EQ(cycles("vldr", "s0, [r1]"), 2u);
  EXPECT_TRUE(insn_cycles("ldrsh", "r0, [r1]", false).memory_access);
  EXPECT_FALSE(insn_cycles("add", "r0, r1", false).memory_access);
}

TEST(CycleModel, Stores) {
  EXPECT_EQ(cycles("str", "r0, [r1]"), 1u);
  EXPECT_EQ(cycles("strb", "r0, [r1]", true), 1u);
  EXPECT_EQ(cycles("strd", "r0, r1, [r2]"), 2u);
  EXPECT_EQ(cycles("vstr", "s0, [r1]"), 1u);
  EXPECT_TRUE(insn_cycles("str", "r0, [r1]", false).memory_access);
}

TEST(CycleModel, MultipleTransfersCountRegisters) {
  EXPECT_EQ(cycles("push", "{r4, r5, r6, lr}"), 5u);
  EXPECT_EQ(cycles("pop", "{r4, r5, r6, pc}"), 8u);  // 1 + 4 + 3 for loading PC
  EXPECT_EQ(cycles("pop.w", "{r4}"), 2u);
  EXPECT_EQ(cycles("ldm", "r0!, {r1, r2, r3}"), 4u);  // the base register is not transferred
  EXPECT_EQ(cycles("ldmia.w", "sp!, {r4, pc}"), 6u);
  EXPECT_EQ(cycles("stmdb", "sp!, {r4, r5}"), 3u);
  EXPECT_EQ(cycles("vpush", "{d8, d9}"), 3u);
  EXPECT_EQ(cycles("vpop", "{s16}"), 2u);
}

TEST(CycleModel, ArithmeticClasses) {
  EXPECT_EQ(cycles("adds", "r0, r1, r2"), 1u);
  EXPECT_EQ(cycles("mul", "r0, r1, r2"), 1u);
  EXPECT_EQ(cycles("mla", "r0, r1, r2, r3"), 2u);
  EXPECT_EQ(cycles("mls", "r0, r1, r2, r3"), 2u);
  EXPECT_EQ(cycles("smlad", "r0, r1, r2, r3"), 1u);
  EXPECT_EQ(cycles("sdiv", "r0, r1, r2"), 7u);
  EXPECT_EQ(cycles("udiv", "r0, r1, r2"), 7u);
  EXPECT_EQ(cycles("vdiv.f32", "s0, s1, s2"), 14u);
  EXPECT_EQ(cycles("vsqrt.f32", "s0, s1"), 14u);
  EXPECT_EQ(cycles("vmla.f32", "s0, s1, s2"), 3u);
  EXPECT_EQ(cycles("vfma.f32", "s0, s1, s2"), 3u);
  EXPECT_EQ(cycles("vnmls.f32", "s0, s1, s2"), 3u);
  EXPECT_EQ(cycles("vadd.f32", "s0, s1, s2"), 1u);
  EXPECT_EQ(cycles("vabs.f32", "s0, s1"), 1u);
  EXPECT_EQ(cycles("b", "#0x100"), 1u);  // the refill is charged per taken branch
  EXPECT_EQ(kTakenBranchCycles, 2u);
}

}  // namespace
}  // namespace tinyforge::sim

namespace tinyforge::sim {
namespace {

uint32_t m0(const char* m, const char* ops) {
  return insn_cycles(TimingModel::cortex_m0plus, m, ops, true).cycles;
}

TEST(CycleModelM0plus, LoadsAndStoresTakeTwoCycles) {
  EXPECT_EQ(m0("ldr", "r0, [r1]"), 2u);  // no pipelining behind another access on the M0+
  EXPECT_EQ(m0("ldrb", "r0, [r1, #1]"), 2u);
  EXPECT_EQ(m0("str", "r0, [r1]"), 2u);
  EXPECT_EQ(m0("push", "{r4, r5, lr}"), 4u);
  EXPECT_EQ(m0("pop", "{r4, r5, pc}"), 5u);  // 3+N = 6 with the refill
  EXPECT_EQ(m0("ldm", "r0!, {r1, r2}"), 3u);
  EXPECT_EQ(m0("muls", "r0, r1, r0"), 1u);
  EXPECT_EQ(m0("bl", "#0x100"), 2u);  // 3 with the refill
  EXPECT_EQ(m0("adds", "r0, #1"), 1u);
  EXPECT_EQ(taken_branch_cycles(TimingModel::cortex_m0plus), 1u);
  EXPECT_EQ(taken_branch_cycles(TimingModel::cortex_m4), 2u);
  // The M4 table is m4sim's, unchanged, whatever the entry point.
  EXPECT_EQ(insn_cycles(TimingModel::cortex_m4, "ldr", "r0, [r1]", true).cycles, 1u);
}

}  // namespace
}  // namespace tinyforge::sim
