// In-place execution: how far below its input an op's output may start in the arena so
// that the kernel, writing as it goes, never overwrites an input byte it has yet to read.
//
// With input at offset I and output at offset O, when the kernel writes output bytes up to
// O + e, every input byte it reads later lies at I + f or above; the placement is safe when
// e <= I - O + f at every write, i.e. when I - O >= max(e - f): the gap. The memory planner
// lets the two buffers overlap only at or beyond that gap (a gap of 0: truly in place).
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

namespace tinyforge::plan {

// No constraint: the kernel reads its whole input before writing anything.
constexpr int64_t kAnyGap = std::numeric_limits<int64_t>::min() / 4;

// When a windowed kernel writes, relative to its reads. Units are visited in raster order.
enum class WriteOrder {
  after_unit_reads,    // an output pixel is written after all of its own window was read
  interleaved,         // an output pixel may be written while its window is still read
  row_after_next_row,  // output row y is written once output row y + 1 has been read
};

// A windowed op over NHWC tensors (conv, depthwise conv, pool): output pixel (y, x) reads
// input rows from y * stride_h - pad_top and columns from x * stride_w - pad_left (clipped
// at 0) on.
int64_t window_gap(const std::vector<int32_t>& in_nhwc, const std::vector<int32_t>& out_nhwc,
                   int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                   WriteOrder order);

// Rows of `in_row` input bytes -> rows of `out_row` output bytes (fully connected; element-
// wise ops with in_row == out_row == 1).
int64_t row_gap(int64_t rows, int64_t in_row, int64_t out_row, WriteOrder order);

}  // namespace tinyforge::plan
