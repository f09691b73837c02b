// The int16 Softmax's lookup tables (TFLite's 16x8 SoftmaxInt16): the size the compiler
// makes them (compiler/ops/softmax.cc) and the kernel checks and reads them with
// (kernels/reference/softmax.cc). 512 intervals over the int16 range plus the end point,
// kInt16LUTArraySize in tflite-micro.
#pragma once
#include <cstdint>

namespace tinyforge {

inline constexpr int32_t kSoftmaxInt16TableSize = 513;

}  // namespace tinyforge
