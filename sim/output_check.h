// Does the emulated device's output equal the host runtime's? float32 elements within the
// tolerance of docs/numerics.md, |device - host| <= kFloatAbsTol + kFloatRelTol x |host|;
// every other dtype byte for byte. `tinyforge bench` exits 4 when they differ.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::sim {

constexpr float kFloatAbsTol = 1e-5f, kFloatRelTol = 1e-4f;

struct OutputLayout {
  bool is_float;   // float32 elements, else compared byte for byte
  uint32_t bytes;  // of this output tensor
};

struct OutputCheck {
  uint64_t differing = 0, elements = 0;
  std::string first;   // where and how the first differing element differs
  double max_abs = 0;  // largest |device - host| over float elements
};

// `device` and `host` hold the outputs concatenated in `layout` order.
OutputCheck check_outputs(const std::vector<OutputLayout>& layout,
                          const std::vector<uint8_t>& device, const std::vector<uint8_t>& host);

}  // namespace tinyforge::sim
