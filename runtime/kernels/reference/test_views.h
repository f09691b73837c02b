// Kernel tests: a tensor owned by the test, viewed as the executor hands it to a kernel.
#pragma once
#include <cstdint>
#include <vector>

#include "tinyforge/kernel.h"

namespace tinyforge::testing {

template <typename T>
TensorView test_view(DType type, std::vector<T>& data, const std::vector<int32_t>& shape,
                     float scale = 0, int32_t zero_point = 0) {
  TensorView v{};
  v.type = type;
  v.rank = static_cast<uint8_t>(shape.size());
  for (int i = 0; i < kMaxRank; ++i) v.dims[i] = i < v.rank ? shape[i] : 1;
  v.data = data.data();
  v.bytes = static_cast<uint32_t>(data.size() * sizeof(T));
  v.scale = scale;
  v.zero_point = zero_point;
  return v;
}

}  // namespace tinyforge::testing
