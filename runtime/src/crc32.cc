// CRC-32 (IEEE 802.3 polynomial, reflected, init and final xor 0xFFFFFFFF), bitwise:
// the runtime checks a blob once at init, so a 1 KiB table is not worth its flash.
#include "tinyforge/plan_format.h"

namespace tinyforge {

uint32_t crc32(const uint8_t* data, uint32_t size, uint32_t crc) {
  crc = ~crc;
  for (uint32_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

uint32_t plan_checksum(const uint8_t* blob, uint32_t total_size) {
  constexpr uint32_t at = 68;  // offsetof(PlanHeader, checksum)
  static_assert(sizeof(PlanHeader) == at + 4, "checksum is the header's last field");
  return crc32(blob + at + 4, total_size - at - 4, crc32(blob, at));
}

}  // namespace tinyforge
