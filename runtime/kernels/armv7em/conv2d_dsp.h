// Conv2DDsp on a band of output rows: what strip-wise execution (conv_chain_dsp.cc) needs
// to run a convolution over a few rows of its input held in a small buffer.
#pragma once
#include <cstdint>

#include "tinyforge/kernel.h"

namespace tinyforge {

// The rows of one call. The input view holds input rows [in_row0, in_row0 + its height);
// padding is decided on the full heights. Output rows [out_row0, out_row1) are written from
// the output view's row 0. Batch 1 unless the call covers every row.
struct ConvRows {
  int32_t in_h;
  int32_t in_row0;
  int32_t out_h;
  int32_t out_row0, out_row1;
};

// Precondition: check_Conv2DDsp accepted the op over the full tensors, and the input view
// holds every input row the output rows read.
void conv2d_dsp_rows(const Conv2DDspParams& p, const KernelIO& io, const ConvRows& rows);

}  // namespace tinyforge
