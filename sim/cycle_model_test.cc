// The timing model's classes, as documented in sim/README.md (m4sim's insn_cycles).
#include "sim/cycle_model.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

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

namespace tinyforge::sim {
namespace {

// A sequence written as "mnemonic operands; ..." (every instruction 4 bytes unless its
// mnemonic is prefixed by '^': a 16-bit encoding).
uint64_t run(TimingModel model, const std::vector<std::pair<const char*, const char*>>& code) {
  std::vector<Insn> seq;
  for (const auto& [m, ops] : code) {
    const bool narrow = m[0] == '^';
    seq.push_back({narrow ? m + 1 : m, ops, narrow ? 2u : 4u});
  }
  return block_cycles(model, seq.data(), seq.size());
}

uint64_t m7(const std::vector<std::pair<const char*, const char*>>& code) {
  return run(TimingModel::cortex_m7, code);
}

// Expected counts follow the published Cortex-M7 rules of ARMScheduleM7.td (LLVM, from Arm):
// two ALU pipes, two load pipes and one store, MAC and FP pipe; simple ALU latency 1, word
// loads 1, byte/halfword loads 2, multiplies 2, addresses read a stage early.
TEST(CycleModelM7, IndependentAluPairsDualIssue) {
  EXPECT_EQ(m7({{"add", "r0, r1, r2"}, {"add", "r3, r4, r5"}}), 1u);
  EXPECT_EQ(m7({{"add", "r0, r1, r2"},
                {"sub", "r3, r4, r5"},
                {"eor", "r6, r7, r8"},
                {"orr", "r9, r10, r11"}}),
            2u);
  // A dependent pair cannot issue together: the result is read a cycle later.
  EXPECT_EQ(m7({{"add", "r0, r1, r2"}, {"add", "r3, r0, r5"}}), 2u);
}

TEST(CycleModelM7, SharedUnitsDoNotPair) {
  EXPECT_EQ(m7({{"mul", "r0, r1, r2"}, {"mul", "r3, r4, r5"}}), 2u);  // one MAC pipe
  EXPECT_EQ(m7({{"str", "r0, [r1]"}, {"str", "r2, [r3]"}}), 2u);      // one store pipe
  EXPECT_EQ(m7({{"ldr", "r0, [r1]"}, {"ldr", "r2, [r3]"}}), 1u);      // two load pipes
  EXPECT_EQ(m7({{"ldr", "r0, [r1]"}, {"str", "r2, [r3]"}}), 1u);
  EXPECT_EQ(m7({{"add.w", "r0, r1, r2, lsl #2"}, {"add.w", "r3, r4, r5, lsl #2"}}), 2u);
  // DSP/SIMD only as the older of a pair.
  EXPECT_EQ(m7({{"uxtb", "r0, r1"}, {"add", "r2, r3, r4"}}), 1u);
  EXPECT_EQ(m7({{"add", "r2, r3, r4"}, {"uxtb", "r0, r1"}}), 2u);
  EXPECT_EQ(m7({{"smlad", "r0, r1, r2, r0"}, {"ldr", "r3, [r4]"}}), 1u);
}

TEST(CycleModelM7, LatenciesStall) {
  EXPECT_EQ(m7({{"ldr", "r0, [r1]"}, {"add", "r2, r0, r3"}}), 2u);    // word load: 1
  EXPECT_EQ(m7({{"ldrb", "r0, [r1]"}, {"add", "r2, r0, r3"}}), 3u);   // byte load: 2
  EXPECT_EQ(m7({{"ldr", "r0, [r1]"}, {"ldr", "r2, [r0]"}}), 3u);      // address: early
  EXPECT_EQ(m7({{"mul", "r0, r1, r2"}, {"add", "r3, r0, r4"}}), 3u);  // multiply: 2
  // The accumulator is read late: back-to-back multiply-accumulates into one register.
  EXPECT_EQ(m7({{"smlad", "r0, r1, r2, r0"}, {"smlad", "r0, r3, r4, r0"}}), 2u);
}

TEST(CycleModelM7, SingleIssueClasses) {
  EXPECT_EQ(m7({{"sdiv", "r0, r1, r2"}, {"add", "r3, r4, r5"}}), 8u);  // 7, then alone
  EXPECT_EQ(m7({{"ldrd", "r0, r1, [r2]"}, {"add", "r3, r4, r5"}}), 2u);
  EXPECT_EQ(m7({{"push", "{r4, r5, r6, lr}"}, {"add", "r3, r4, r5"}}), 3u);
  EXPECT_EQ(taken_branch_cycles(TimingModel::cortex_m7), 1u);
  // A loop body of the DSP kernels' shape issues in fewer cycles than the M4 charges it.
  const std::vector<std::pair<const char*, const char*>> body = {{"ldr", "r4, [r0], #4"},
                                                                 {"ldr", "r5, [r1], #4"},
                                                                 {"smlad", "r2, r4, r5, r2"},
                                                                 {"subs", "r3, #1"},
                                                                 {"bne", "#0x100"}};
  std::vector<Insn> seq;
  for (const auto& [m, ops] : body) seq.push_back({m, ops, 4});
  EXPECT_LT(m7(body), block_cycles(TimingModel::cortex_m4, seq.data(), seq.size()));
}

uint64_t m33(const std::vector<std::pair<const char*, const char*>>& code) {
  return run(TimingModel::cortex_m33, code);
}

// Cortex-M33: loads complete in one cycle (address generated in decode), single-cycle
// MAC, two 16-bit instructions may dual issue (sim/README.md names the sources).
TEST(CycleModelM33, SingleCycleLoadsAndMacs) {
  EXPECT_EQ(m33({{"ldr", "r0, [r1]"}, {"ldr", "r2, [r3]"}}), 2u);
  EXPECT_EQ(m33({{"ldr", "r0, [r1]"}, {"add", "r2, r0, r3"}}), 3u);  // estimate: use +1
  EXPECT_EQ(m33({{"mla", "r0, r1, r2, r3"}}), 1u);
  EXPECT_EQ(m33({{"smlad", "r0, r1, r2, r0"}, {"smlad", "r0, r3, r4, r0"}}), 2u);
  EXPECT_EQ(m33({{"push", "{r4, r5, r6, lr}"}}), 5u);  // 1 + N as on the M4
  EXPECT_EQ(m33({{"sdiv", "r0, r1, r2"}}), 7u);
}

TEST(CycleModelM33, SixteenBitPairsDualIssue) {
  EXPECT_EQ(m33({{"^adds", "r0, r1, r2"}, {"^adds", "r3, r4, r5"}}), 1u);
  EXPECT_EQ(m33({{"^adds", "r0, r1, r2"}, {"^adds", "r3, r0, r5"}}), 2u);  // dependent
  EXPECT_EQ(m33({{"add.w", "r0, r1, r2"}, {"add.w", "r3, r4, r5"}}), 2u);  // 32-bit
  EXPECT_EQ(m33({{"^ldr", "r0, [r1]"}, {"^adds", "r3, r4, r5"}}), 2u);     // memory
  EXPECT_EQ(taken_branch_cycles(TimingModel::cortex_m33), 1u);
  EXPECT_STREQ(timing_model_name(TimingModel::cortex_m33), "cortex-m33");
  EXPECT_STREQ(timing_model_name(TimingModel::cortex_m7), "cortex-m7");
}

}  // namespace
}  // namespace tinyforge::sim
