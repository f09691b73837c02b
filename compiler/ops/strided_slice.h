// IR params of StridedSlice: declared here so importers and tests can build nodes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tinyforge::ops {

// TFLite STRIDED_SLICE's operands and options as given (one entry per input dim; bit d of a
// mask is dim d). TFLite SLICE imports as the equivalent strided slice. ellipsis_mask,
// new_axis_mask and offset are refused at import.
struct StridedSliceOptions {
  std::vector<int32_t> begin, end, strides;
  int32_t begin_mask = 0, end_mask = 0, shrink_axis_mask = 0;
  bool operator==(const StridedSliceOptions& o) const {
    return begin == o.begin && end == o.end && strides == o.strides && begin_mask == o.begin_mask &&
           end_mask == o.end_mask && shrink_axis_mask == o.shrink_axis_mask;
  }
};

// The options reading `count` elements from `first` by `step` along each dim (count >= 1).
inline StridedSliceOptions strided_slice_of(const std::vector<int64_t>& first,
                                            const std::vector<int64_t>& step,
                                            const std::vector<int64_t>& count) {
  StridedSliceOptions o;
  for (std::size_t d = 0; d < first.size(); ++d) {
    const int64_t end = first[d] + count[d] * step[d];
    o.begin.push_back(static_cast<int32_t>(first[d]));
    o.strides.push_back(static_cast<int32_t>(step[d]));
    o.end.push_back(end < 0 ? 0 : static_cast<int32_t>(end));
    if (end < 0) o.end_mask |= 1 << d;  // runs to the start of the dim
  }
  return o;
}

}  // namespace tinyforge::ops
