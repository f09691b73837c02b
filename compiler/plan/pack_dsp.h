// Offline packing for the Armv7E-M DSP kernels: filters in the order the kernels read them,
// per-channel output-stage records, and the lookup table of AddDsp. The layouts are
// defined in runtime/include/tinyforge/packed.h; everything here is a pure function of
// its arguments (tested in pack_dsp_test.cc and, end to end, by the kernel harness).
#pragma once
#include <cstdint>
#include <vector>

#include "tinyforge/packed.h"
#include "tinyforge/params.h"

namespace tinyforge::plan {

// True when the dual-channel layout can hold these int8 weights (none is -128).
bool dual_packable(const std::vector<int8_t>& weights);

// Conv2DDsp filter words from a filter [oc][k] (row-major, k = FH*FW*IC).
std::vector<int32_t> pack_conv_filter(const std::vector<int8_t>& filter, int32_t oc, int32_t k);

// A depthwise filter [taps][in_c * multiplier] (TFLite [1,KH,KW,IC*M]) as the filter of
// the equivalent Conv2D [in_c * multiplier][taps][in_c] (row-major, TFLite [OC,KH,KW,IC]):
// output channel oc reads input channel oc / multiplier with the depthwise weights and
// every other input channel with weight 0 (block diagonal; a plain reshape when in_c is 1).
std::vector<int8_t> depthwise_filter_as_conv(const std::vector<int8_t>& filter, int32_t taps,
                                             int32_t in_c, int32_t multiplier);

// FullyConnectedDsp filter words from a filter [units][depth].
std::vector<int32_t> pack_fc_filter(const std::vector<int8_t>& filter, int32_t units,
                                    int32_t depth);

// A filter [units][depth] with only its nonzero weights, for FullyConnectedSparse
// (params.h): the weights and column steps row by row, a zero weight with the maximum step
// bridging a gap longer than it, zero entries padding each row to a multiple of four, and
// each row's number of entries.
struct SparseFilter {
  std::vector<int8_t> weights;
  std::vector<uint8_t> steps;
  std::vector<int32_t> entries;  // per unit
};
SparseFilter sparse_fc_filter(const std::vector<int8_t>& filter, int32_t units, int32_t depth);

// DepthwiseConv2DDsp filter pairs from a filter [taps][channels] (TFLite [1,FH,FW,C]).
std::vector<int32_t> pack_depthwise_filter(const std::vector<int8_t>& filter, int32_t taps,
                                           int32_t channels);

// Output-stage records for per-channel bias, multiplier and TFLite shift, and the mode the
// kernel must use: fast whenever every channel allows it (packed.h), else exact.
// `spread[c]` bounds |accumulator - bias| of channel c over every possible input, so the
// accumulator lies in [bias - spread, bias + spread]. Where the reference's result is the
// same over all of that interval (a zero multiplier, a scale so small that no input moves
// the result, a bias that dominates), the channel is stored as a constant: multiplier 0,
// shift 1 and rounding 2 * value + 1, which the fast form turns into `value` for any
// accumulator. That keeps dead and near-constant channels from forcing the exact form.
struct ChannelRecords {
  std::vector<int32_t> words;  // [channels][4]
  RequantMode mode = RequantMode::exact;
};
ChannelRecords make_channel_records(const std::vector<int32_t>& bias,
                                    const std::vector<int32_t>& multiplier,
                                    const std::vector<int32_t>& shift, int32_t output_zero_point,
                                    const std::vector<int64_t>& spread);

// Whether (multiplier, shift) may use RequantMode::fast for accumulators of any value.
bool fast_requant_ok(int32_t multiplier, int32_t shift);

// The run_groups of a dual-channel layer (packed.h kDualChunkGroups): the whole row when
// every channel B of every pair has x_max * sum|B| < 2^23, else kDualChunkGroups.
int32_t dual_run_groups(const std::vector<int64_t>& spreads, int32_t groups);

// Bound of |sum(w * x)| per channel for |x| <= x_max (weights row-major, `per_channel` each).
std::vector<int64_t> accumulator_spreads(const std::vector<int8_t>& weights, int32_t channels,
                                         int32_t per_channel, int64_t x_max);

// TFLite's MultiplyByQuantizedMultiplier (the reference's arithmetic, wrapping shifts).
int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

// AddDsp's table for an int8 Add's params (packed.h).
struct AddTable {
  std::vector<int32_t> words;  // kAddTableWords
  RequantMode mode = RequantMode::exact;
};
AddTable make_add_table(const AddParams& p);

}  // namespace tinyforge::plan
