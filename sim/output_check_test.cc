#include "sim/output_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace tinyforge::sim {
namespace {

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(OutputCheck, FloatWithinTheNumericsTolerance) {
  const std::vector<OutputLayout> layout = {{true, 12}};
  const std::vector<float> host = {1.0f, -200.0f, 0.0f};
  OutputCheck c = check_outputs(layout, bytes_of({1.00009f, -200.019f, 9e-6f}), bytes_of(host));
  EXPECT_EQ(c.differing, 0u) << c.first;
  EXPECT_EQ(c.elements, 3u);
  EXPECT_GT(c.max_abs, 0.0);
  c = check_outputs(layout, bytes_of({1.0f, -200.03f, 0.0f}), bytes_of(host));
  EXPECT_EQ(c.differing, 1u);
  EXPECT_EQ(c.first.rfind("output 0 element 1: -200.03 vs -200", 0), 0u) << c.first;
  c = check_outputs(layout, bytes_of({1.0f, -200.0f, std::nanf("")}), bytes_of(host));
  EXPECT_EQ(c.differing, 1u);
}

TEST(OutputCheck, IntegersByteForByteAndSizes) {
  const std::vector<OutputLayout> layout = {{true, 4}, {false, 3}};
  std::vector<uint8_t> host = bytes_of({0.5f});
  host.insert(host.end(), {1, 2, 3});
  std::vector<uint8_t> device = host;
  EXPECT_EQ(check_outputs(layout, device, host).differing, 0u);
  device[6] = 4;
  const OutputCheck c = check_outputs(layout, device, host);
  EXPECT_EQ(c.differing, 1u);
  EXPECT_EQ(c.first, "output 1 element 2: byte 0x04 vs 0x03");
  device.pop_back();
  EXPECT_EQ(check_outputs(layout, device, host).differing, 1u);
}

}  // namespace
}  // namespace tinyforge::sim
