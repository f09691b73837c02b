// The OTA agent's persistent state: one 32-byte record, journaled
// over two flash pages. Each new record goes to the page that does NOT hold the current
// one (erase, then write), so a power cut at any point leaves the previous record intact;
// at boot the valid record (magic + CRC-32) with the highest sequence number wins.
//
// Record layout (little-endian): magic "TFOS" u32 | sequence u32 | active u8 |
// pending u8 (0xFF = none) | trial u8 | reserved u8 (0) | counter_floor u32 |
// reserved 8 bytes (0) | CRC-32 (IEEE) of bytes 0..27 u32.
#pragma once
#include <cstdint>

namespace tinyforge::ota {

constexpr uint32_t kStateMagic = 0x534f4654;  // bytes "TFOS"
constexpr uint32_t kStateRecordBytes = 32;
constexpr uint8_t kNoSlot = 0xFF;

struct StateRecord {
  uint32_t sequence;       // 0 = no record written yet
  uint8_t active;          // confirmed slot the device runs (0 or 1)
  uint8_t pending;         // slot holding a verified update awaiting its first boot, or kNoSlot
  uint8_t trial;           // 1 once the pending slot's first boot has started
  uint32_t counter_floor;  // lowest security counter still accepted
};

void encode_state(const StateRecord& r, uint8_t out[kStateRecordBytes]);
// False unless magic, CRC and every field's range check out.
bool decode_state(const uint8_t in[kStateRecordBytes], StateRecord* out);

}  // namespace tinyforge::ota
