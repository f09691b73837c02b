// Constant operands of the DSP kernels (runtime/kernels/armv7em/), packed offline by the
// compiler (compiler/plan/pack_dsp.cc) in exactly the order the kernels consume them, and
// the scratch twins the compiler calls to plan each kernel's scratch in the arena.
//
// Packed tensors are int32 words, so the validator's alignment rule (offset a multiple of
// the element size) guarantees the word alignment LDRD/LDM need.
//
// Dual-channel filter words (Conv2DDsp, FullyConnectedDsp). Two output channels A and B
// share each word so that one SMLAD accumulates both: for a group g of 4 patch elements
// k = 4g..4g+3 (patch order ky, kx, ic as TFLite's filter [OC,FH,FW,IC]),
//   word 0 = bytes A[4g], B'[4g], A[4g+2], B'[4g+2]
//   word 1 = bytes A[4g+1], B'[4g+1], A[4g+3], B'[4g+3]
// with B'[k] = B[k] - (A[k] < 0 ? 1 : 0), so that each 16-bit lane reads A[k] + 256 * B[k].
// SMLAD of the input lanes (x[4g], x[4g+2]) with word 0 then adds sum(x*A) + 256*sum(x*B),
// and SMLAD with SXTB16(word 0) = (A[4g], A[4g+2]) adds sum(x*A) alone: B's sum is the
// difference / 256, exact while |sum(x*B)| < 2^23, i.e. over runs of at most
// kDualChunkGroups groups. Needs weights in [-127, 127] (TFLite's int8 weight range; the
// compiler keeps the reference kernel for a filter holding -128). Elements past K and the
// channel missing from an odd count are 0.
//   Conv2DDsp filter, i32 [ceil(OC/2), 2*G] with G = ceil(K/4), K = FH*FW*IC: pair j =
//     channels (A, B) = (2j, 2j+1). The first floor(OC/4) quads of channels (pairs 2i and
//     2i+1, rows 2i and 2i+1 together) hold per group: pair 2i's word 0, pair 2i+1's
//     word 0, pair 2i's word 1, pair 2i+1's word 1, so that one LDRD loads both pairs'
//     words of the same patch lanes. A last pair (OC % 4 of 2 or 3) is one row of its 2
//     words per group in group order.
//   FullyConnectedDsp filter, i32 [ceil(U/6), 6*G] with G = ceil(K/4): row r = units
//     6r..6r+5 as pairs (6r, 6r+1), (6r+2, 6r+3), (6r+4, 6r+5); per group each pair's 2
//     words in pair order (kFcUnitsPerRow). Its channel records cover ceil(U/6)*6 units.
// Filter pairs of DepthwiseConv2DDsp, i32 [ceil(C/4), FH*FW*2]: row q holds channels
//   4q..4q+3; for each tap (ky, kx) two int16x2 pairs, (w[4q], w[4q+2]) then
//   (w[4q+1], w[4q+3]) (the lanes SXTB16 / SXTB16 ROR #8 produce from 4 input bytes). 0 past C.
#pragma once
#include <cstdint>

#include "tinyforge/params.h"

namespace tinyforge {

// Per-output-channel record of the DSP kernels, i32 [channels, 4]:
//   bias        the int32 bias (FullyConnectedDsp: plus input_offset * sum of the weights)
//   multiplier  TFLite's Q31 multiplier
//   shift       exact: TFLite's signed exponent (positive = left);
//               fast: the right shift e = -(TFLite's exponent), 1 <= e <= kFastMaxShift
//   rounding    fast only: 2^(e-1) + output_zero_point * 2^e
//
// RequantMode::fast computes, for the accumulator a (bias included):
//   y = SMMULR(QADD(a, a), multiplier)      (= SaturatingRoundingDoublingHighMul when
//                                            |a| < 2^30)
//   z = (y + rounding + (a < 0 ? -1 : 0)) >> e   (= RoundingDivideByPOT + zero point;
//       a < 0 differs from y < 0 only when y = 0, where both signs give the zero point)
// The compiler selects it only when every channel has a multiplier in [2^30, 2^31) and
// 1 <= e <= kFastMaxShift (or, for AddDsp, when it bounds |a| below 2^30), where it gives the
// reference's bytes for every int32 a: below 2^30 it is the same arithmetic, and from 2^30 up both
// saturate past the int8 clamp.
struct ChannelQuant {
  int32_t bias;
  int32_t multiplier;
  int32_t shift;
  int32_t rounding;
};
static_assert(sizeof(ChannelQuant) == 16, "ChannelQuant is 4 int32 words in the blob");
constexpr int32_t kFastMaxShift = 20;

// Groups of 4 elements a dual-channel sum may run before B's share is taken out of it
// for any weights: 64 * 4 elements * 255 * 128 < 2^23. The compiler states a longer run in
// the op's `run_groups` when the layer's actual weights allow one (every channel B with
// 255 * sum|B| < 2^23 lets a whole row run at once).
constexpr int32_t kDualChunkGroups = 64;

// Units per FullyConnectedDsp filter row (3 dual-channel pairs share each input word).
constexpr int32_t kFcUnitsPerRow = 6;

// Row record of FullyConnectedSparse, i32 [UNITS, 4]: the bias plus input_offset * sum of
// the row's weights (the zero weights add nothing), the output stage's multiplier and shift
// (TFLite's MultiplyByQuantizedMultiplier), and the row's number of entries.
struct SparseRow {
  int32_t bias;
  int32_t multiplier;
  int32_t shift;
  int32_t entries;
};
static_assert(sizeof(SparseRow) == 16, "SparseRow is 4 int32 words in the blob");
constexpr int32_t kSparseMaxStep = 255;  // a column step fits a byte

// Add table of AddDsp, i32 [kAddTableWords]:
//   [0, 256)    input 0's value v (index v + 128) rescaled: MultiplyByQuantizedMultiplier(
//               (v + input1_offset) << left_shift, input1_multiplier, input1_shift)
//   [256, 512)  the same for input 1
//   [512, 516)  the output stage as a ChannelQuant (bias 0) applied to the sum
constexpr int32_t kAddTableWords = 516;
constexpr int32_t kAddTableStage = 512;

// Scratch bytes the kernels need (the compiler plans them in the arena).
// Conv2DDsp: two patches of K elements widened to int16 (4 * 4*ceil(K/4) bytes), plus an
// int8 staging patch for the im2col kernel when IC is not a multiple of 4.
uint32_t conv2d_dsp_scratch_bytes(const Conv2DDspParams& p, int32_t in_c);
// DepthwiseConv2DDsp: two output rows (a row is written back once the next one is
// computed, which lets the output overwrite the input in place) and one pixel of input
// zero points (what the 3x3 kernel reads for taps outside the input).
uint32_t depthwise_conv2d_dsp_scratch_bytes(int32_t out_w, int32_t channels);
// ConvChainDsp: the middle rows the second conv's window spans, one output row of the
// second conv when the chain ends with an add, then the larger of the two convs' patches;
// each part a multiple of 4 bytes.
uint32_t conv_chain_dsp_scratch_bytes(const ConvChainDspParams& p, int32_t in_c, int32_t out_w,
                                      int32_t out_c);
// The rows of the middle tensor ConvChainDsp keeps: the second conv's dilated window height.
int32_t conv_chain_dsp_mid_rows(const ConvChainDspParams& p);

}  // namespace tinyforge
