#include "sim/output_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace tinyforge::sim {

OutputCheck check_outputs(const std::vector<OutputLayout>& layout,
                          const std::vector<uint8_t>& device, const std::vector<uint8_t>& host) {
  OutputCheck c;
  uint64_t total = 0;
  for (const OutputLayout& o : layout) total += o.bytes;
  if (device.size() != host.size() || host.size() != total) {
    c.differing = 1;
    c.first = std::to_string(device.size()) + " output bytes, the host runtime " +
              std::to_string(host.size());
    return c;
  }
  char what[96];
  size_t at = 0;
  for (size_t o = 0; o < layout.size(); ++o) {
    const uint32_t size = layout[o].is_float ? 4 : 1;
    for (uint32_t k = 0; k < layout[o].bytes / size; ++k, at += size) {
      ++c.elements;
      bool same;
      if (layout[o].is_float) {
        float d, h;
        std::memcpy(&d, device.data() + at, 4);
        std::memcpy(&h, host.data() + at, 4);
        const float diff = std::fabs(d - h);
        if (std::isfinite(diff)) c.max_abs = std::max(c.max_abs, static_cast<double>(diff));
        same = diff <= kFloatAbsTol + kFloatRelTol * std::fabs(h);  // false for NaN
        std::snprintf(what, sizeof what, "%g vs %g", d, h);
      } else {
        same = device[at] == host[at];
        std::snprintf(what, sizeof what, "byte 0x%02x vs 0x%02x", device[at], host[at]);
      }
      if (!same && c.differing++ == 0)
        c.first = "output " + std::to_string(o) + " element " + std::to_string(k) + ": " + what;
    }
  }
  return c;
}

}  // namespace tinyforge::sim
