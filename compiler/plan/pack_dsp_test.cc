// Offline packing for the DSP kernels: the dual-channel lanes really read A + 256 * B, the
// depthwise pairs sit in the lanes SXTB16 produces, the fast output stage equals TFLite's
// MultiplyByQuantizedMultiplier wherever make_channel_records selects it (including the
// constant channels), and the Add table holds the reference's rescaled inputs.
#include "plan/pack_dsp.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <random>

#include "plan/select_kernels.h"

namespace tinyforge::plan {
namespace {

int32_t lane(uint32_t word, int i) { return static_cast<int16_t>(word >> (16 * i)); }
int32_t byte_at(uint32_t word, int i) { return static_cast<int8_t>(word >> (8 * i)); }

TEST(PackDsp, DualWordsHoldAPlus256BInEveryLane) {
  std::mt19937 rng(3);
  // A quad, a last pair and an odd channel; a partial last group.
  const int32_t oc = 7, k = 11;
  std::vector<int8_t> w(static_cast<size_t>(oc) * k);
  for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  const std::vector<int32_t> words = pack_conv_filter(w, oc, k);
  const int32_t groups = (k + 3) / 4, quad_pairs = oc / 4 * 2;
  ASSERT_EQ(words.size(), static_cast<size_t>((oc + 1) / 2 * 2 * groups));
  // Quads interleave their two pairs word by word; later pairs are rows of their own.
  auto index = [&](int32_t pair, int32_t g, int word) {
    if (pair < quad_pairs) return ((pair / 2 * groups + g) * 2 + word) * 2 + pair % 2;
    return (pair * groups + g) * 2 + word;
  };
  for (int32_t pair = 0; pair < (oc + 1) / 2; ++pair) {
    for (int32_t g = 0; g < groups; ++g) {
      for (int word = 0; word < 2; ++word) {
        const uint32_t v = static_cast<uint32_t>(words[index(pair, g, word)]);
        for (int l = 0; l < 2; ++l) {
          const int32_t e = 4 * g + word + 2 * l;
          const int32_t a = e < k ? w[(2 * pair) * k + e] : 0;
          const int32_t b = (e < k && 2 * pair + 1 < oc) ? w[(2 * pair + 1) * k + e] : 0;
          EXPECT_EQ(lane(v, l), a + 256 * b) << "pair " << pair << " group " << g;
          EXPECT_EQ(byte_at(v, 2 * l), a) << "SXTB16 must give A alone";
        }
      }
    }
  }
}

TEST(PackDsp, FullyConnectedRowsAreThreeDualPairsPerGroup) {
  const int32_t units = 8, depth = 5;
  std::vector<int8_t> w(static_cast<size_t>(units) * depth);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  const std::vector<int32_t> words = pack_fc_filter(w, units, depth);
  const int32_t groups = 2, row_words = kFcUnitsPerRow * groups;
  ASSERT_EQ(words.size(), static_cast<size_t>(2 * row_words));
  // Row 1 (units 6..11), group 0, pair 1 (units 8 and 9, both absent): zero.
  EXPECT_EQ(words[row_words + 0 * 6 + 2], 0);
  // Row 1, group 1, pair 0 (units 6, 7), word 0, lane 0: element 4.
  const uint32_t v = static_cast<uint32_t>(words[row_words + 1 * 6 + 0]);
  EXPECT_EQ(lane(v, 0), w[6 * depth + 4] + 256 * w[7 * depth + 4]);
  EXPECT_EQ(lane(v, 1), 0);  // element 6 is past the depth
  // Row 0, group 0, pair 2 (units 4, 5), word 1, lane 1: element 3.
  const uint32_t u = static_cast<uint32_t>(words[0 * 6 + 2 * 2 + 1]);
  EXPECT_EQ(lane(u, 1), w[4 * depth + 3] + 256 * w[5 * depth + 3]);
}

TEST(PackDsp, RefusesMinus128ForTheDualLayout) {
  EXPECT_TRUE(dual_packable({-127, 0, 127}));
  EXPECT_FALSE(dual_packable({3, -128}));
}

TEST(PackDsp, DepthwisePairsMatchSxtb16Lanes) {
  const int32_t taps = 2, channels = 6;
  std::vector<int8_t> w(taps * channels);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(-60 + 11 * static_cast<int>(i));
  const std::vector<int32_t> words = pack_depthwise_filter(w, taps, channels);
  ASSERT_EQ(words.size(), 2u * taps * 2);
  // Group 0, tap 1: (w[c0], w[c2]) then (w[c1], w[c3]).
  EXPECT_EQ(lane(static_cast<uint32_t>(words[2]), 0), w[1 * channels + 0]);
  EXPECT_EQ(lane(static_cast<uint32_t>(words[2]), 1), w[1 * channels + 2]);
  EXPECT_EQ(lane(static_cast<uint32_t>(words[3]), 1), w[1 * channels + 3]);
  // Group 1 (channels 4, 5 and two absent ones), tap 0.
  EXPECT_EQ(lane(static_cast<uint32_t>(words[4]), 0), w[4]);
  EXPECT_EQ(lane(static_cast<uint32_t>(words[4]), 1), 0);
}

TEST(PackDsp, DepthwiseFilterAsConvIsBlockDiagonal) {
  // 2 taps, 2 input channels, multiplier 2: depthwise [tap][oc] = 10 * tap + oc + 1.
  const std::vector<int8_t> depthwise = {1, 2, 3, 4, 11, 12, 13, 14};
  // Conv [oc][tap][ic]: channels 0, 1 read input channel 0; channels 2, 3 input channel 1.
  const std::vector<int8_t> conv = {1, 0, 11, 0, 2, 0, 12, 0, 0, 3, 0, 13, 0, 4, 0, 14};
  EXPECT_EQ(depthwise_filter_as_conv(depthwise, 2, 2, 2), conv);
  // One input channel: [taps][M] transposed to [M][taps].
  EXPECT_EQ(depthwise_filter_as_conv({1, 2, 3, 4, 5, 6}, 3, 1, 2),
            (std::vector<int8_t>{1, 3, 5, 2, 4, 6}));
}

// The fast output stage (packed.h), in plain C++, for a record of make_channel_records.
int32_t fast_stage(int32_t a, const int32_t* record) {
  const int64_t doubled = std::clamp<int64_t>(2 * int64_t{a}, INT32_MIN, INT32_MAX);
  const int32_t y =
      static_cast<int32_t>(record[3] + ((doubled * record[1] + (int64_t{1} << 31)) >> 32));
  const int32_t t = static_cast<int32_t>(static_cast<uint32_t>(y) + (a < 0 ? 0xFFFFFFFFu : 0u));
  return t >> record[2];
}
int32_t clamp8(int32_t v) { return std::clamp(v, -128, 127); }

TEST(PackDsp, FastStageEqualsTheReferenceWhereSelected) {
  std::mt19937 rng(5);
  int fast_channels = 0, constant_channels = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    const int32_t zp = static_cast<int32_t>(rng() % 256) - 128;
    const int32_t multiplier =
        trial % 50 == 0 ? 0 : static_cast<int32_t>((1u << 30) + rng() % (1u << 30));
    const int32_t shift = -static_cast<int32_t>(rng() % 32);  // 0 .. -31
    const int32_t bias = trial % 7 == 0 ? static_cast<int32_t>(rng())
                                        : static_cast<int32_t>(rng() % 200001) - 100000;
    const int64_t spread = rng() % 5000000;
    const ChannelRecords r = make_channel_records({bias}, {multiplier}, {shift}, zp, {spread});
    if (r.mode != RequantMode::fast) continue;
    (r.words[1] == 0 ? constant_channels : fast_channels)++;
    for (int s = 0; s < 200; ++s) {
      const int64_t a64 = int64_t{bias} - spread + static_cast<int64_t>(rng() % (2 * spread + 1));
      if (a64 < INT32_MIN || a64 > INT32_MAX) continue;
      const int32_t a = static_cast<int32_t>(a64);
      const int32_t want = clamp8(multiply_by_quantized_multiplier(a, multiplier, shift) + zp);
      ASSERT_EQ(clamp8(fast_stage(a, r.words.data())), want)
          << "a " << a << " multiplier " << multiplier << " shift " << shift << " zp " << zp;
    }
  }
  EXPECT_GT(fast_channels, 100);
  EXPECT_GT(constant_channels, 10);
}

TEST(PackDsp, ShiftsOfTwentyAndLessAreFastForAnyAccumulator) {
  for (int32_t shift = -20; shift <= -1; ++shift) {
    const ChannelRecords r =
        make_channel_records({0}, {(1 << 30) + 12345}, {shift}, 3, {int64_t{1} << 40});
    EXPECT_EQ(r.mode, RequantMode::fast);
    for (int32_t a :
         {INT32_MIN, INT32_MIN + 1, -(1 << 30), (1 << 30) - 1, 1 << 30, INT32_MAX, -7, 0, 7})
      EXPECT_EQ(clamp8(fast_stage(a, r.words.data())),
                clamp8(multiply_by_quantized_multiplier(a, (1 << 30) + 12345, shift) + 3))
          << a << " " << shift;
  }
  EXPECT_EQ(make_channel_records({0}, {1 << 30}, {2}, 0, {1000}).mode,
            RequantMode::exact);  // left shift
}

TEST(PackDsp, AddTableHoldsTheRescaledInputs) {
  AddParams p{};
  p.left_shift = 20;
  p.input1_offset = 5;
  p.input1_multiplier = 1518500250;
  p.input1_shift = -1;
  p.input2_offset = -3;
  p.input2_multiplier = 1073741824;
  p.input2_shift = 0;
  p.output_multiplier = 1431655765;
  p.output_shift = -19;
  const AddTable t = make_add_table(p);
  ASSERT_EQ(t.words.size(), static_cast<size_t>(kAddTableWords));
  for (int32_t v : {-128, -1, 0, 77, 127}) {
    EXPECT_EQ(t.words[v + 128],
              multiply_by_quantized_multiplier((v + 5) * (1 << 20), p.input1_multiplier, -1));
    EXPECT_EQ(t.words[256 + v + 128],
              multiply_by_quantized_multiplier((v - 3) * (1 << 20), p.input2_multiplier, 0));
  }
  EXPECT_EQ(t.mode, RequantMode::fast);
  EXPECT_EQ(t.words[kAddTableStage + 2], 19);
}

TEST(SelectKernels, DspTwinsForCoresWithTheDspExtension) {
  EXPECT_EQ(kernel_set_for({"-mcpu=cortex-m4", "-mthumb"}), KernelSet::armv7em);
  EXPECT_EQ(kernel_set_for({"-mthumb", "-mcpu=cortex-m33"}), KernelSet::armv7em);
  EXPECT_EQ(kernel_set_for({"-mcpu=cortex-m7+nofp"}), KernelSet::armv7em);
  EXPECT_EQ(kernel_set_for({"-mcpu=cortex-m33+nodsp"}), KernelSet::reference);
  EXPECT_EQ(kernel_set_for({"-mcpu=cortex-m0plus"}), KernelSet::reference);
  EXPECT_EQ(kernel_set_for({}), KernelSet::reference);
}

}  // namespace
}  // namespace tinyforge::plan
