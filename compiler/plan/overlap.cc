#include "plan/overlap.h"

#include <algorithm>

namespace tinyforge::plan {

int64_t window_gap(const std::vector<int32_t>& in_nhwc, const std::vector<int32_t>& out_nhwc,
                   int32_t stride_h, int32_t stride_w, int32_t pad_top, int32_t pad_left,
                   WriteOrder order) {
  const int64_t in_h = in_nhwc[1], in_w = in_nhwc[2], in_c = in_nhwc[3];
  const int64_t batches = out_nhwc[0], out_h = out_nhwc[1], out_w = out_nhwc[2],
                out_c = out_nhwc[3];
  const int64_t rows = batches * out_h;  // output rows over all batches
  // First input byte output pixel (row r over all batches, column x) reads.
  auto first = [&](int64_t r, int64_t x) {
    const int64_t b = r / out_h, y = r % out_h;
    const int64_t iy = std::clamp<int64_t>(y * stride_h - pad_top, 0, in_h - 1);
    const int64_t ix = std::clamp<int64_t>(x * stride_w - pad_left, 0, in_w - 1);
    return ((b * in_h + iy) * in_w + ix) * in_c;
  };
  int64_t gap = kAnyGap;
  if (order == WriteOrder::row_after_next_row) {
    // Rows 0..r-1 are written once row r was read; later reads start at row r + 1.
    for (int64_t r = 1; r + 1 < rows; ++r) gap = std::max(gap, r * out_w * out_c - first(r + 1, 0));
    return gap;
  }
  const int64_t pixels = rows * out_w;
  for (int64_t u = 0; u < pixels; ++u) {
    const int64_t written_end = (u + 1) * out_c;
    if (order == WriteOrder::interleaved) {
      gap = std::max(gap, written_end - first(u / out_w, u % out_w));
    } else if (u + 1 < pixels) {
      gap = std::max(gap, written_end - first((u + 1) / out_w, (u + 1) % out_w));
    }
  }
  return gap;
}

int64_t row_gap(int64_t rows, int64_t in_row, int64_t out_row, WriteOrder order) {
  if (rows < 1) return kAnyGap;
  if (order == WriteOrder::interleaved) {
    // max over u of (u + 1) * out_row - u * in_row
    return std::max(out_row, rows * out_row - (rows - 1) * in_row);
  }
  if (rows == 1) return kAnyGap;
  // after_unit_reads: max over u < rows - 1 of (u + 1) * (out_row - in_row)
  return std::max(out_row - in_row, (rows - 1) * (out_row - in_row));
}

}  // namespace tinyforge::plan
