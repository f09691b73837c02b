// Host side of the known-answer self-test carried in OTA packages: runs the plan with the
// host runtime (the device's own code) on a deterministic input and records input and
// output in the block format of runtime/include/tinyforge/ota/self_test.h. The device
// reruns the plan on that input before it confirms the update.
#pragma once
#include <cstdint>
#include <vector>

namespace tinyforge::ota {

struct SelfTestSpec {
  // One raw tensor per model input; empty: pseudo-random values from `seed` (int types:
  // every byte pattern; float32: uniform in [-1, 1]).
  std::vector<std::vector<uint8_t>> inputs;
  uint32_t seed = 1;
  uint32_t int_tolerance = 0;  // the int kernels are bit-exact on every target
  // float32 outputs: absolute tolerance; negative = 1e-3 x (1 + largest |expected|),
  // room for another libm or instruction order on the device.
  float float_tolerance = -1.0f;
};

// Throws tinyforge::Error (naming the problem) if the blob does not validate or an input has the
// wrong size.
std::vector<uint8_t> make_self_test(const std::vector<uint8_t>& blob, const SelfTestSpec& spec);

}  // namespace tinyforge::ota
