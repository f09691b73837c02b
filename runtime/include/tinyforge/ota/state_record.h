// The OTA agent's persistent records.
//
// Journal (StateRecord, 32 bytes): which slot is active / pending. Journaled over two flash
// pages: each new record goes to the page that does NOT hold the current one (erase,
// write, read back), so a power cut at any point leaves the previous record intact; at
// boot the valid record (magic + CRC-32) with the highest sequence number wins. Layout
// (little-endian): magic "TFOS" u32 | sequence u32 | active u8 | pending u8 (0xFF = none) |
// trial u8 | reserved u8 (0) | counter_floor u32 (a mirror, a lower bound only) |
// reserved 8 bytes (0) | CRC-32 (IEEE) of bytes 0..27 u32.
//
// Security record (SecurityState, 128 bytes): the anti-rollback floor and the key changes
// (keys added, key ids revoked). Values only ever grow, and two copies on two pages are
// written one after the other, so any valid copy is a lower bound of the truth; the agent
// fails closed when neither copy is valid (docs/ota-format.md, section 3). Layout:
// magic "TFSC" u32 | generation u32 | floor u32 | added u8 | revoked u8 | reserved u16 (0) |
// added keys 2 x 32 B | revoked key ids 4 x u32 | reserved 28 B (0) | CRC-32 of 0..123 u32.
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
  uint32_t counter_floor;  // mirror of the security floor when written (a lower bound)
};

void encode_state(const StateRecord& r, uint8_t out[kStateRecordBytes]);
// False unless magic, CRC and every field's range check out.
bool decode_state(const uint8_t in[kStateRecordBytes], StateRecord* out);

constexpr uint32_t kSecurityMagic = 0x43534654;  // bytes "TFSC"
constexpr uint32_t kSecurityRecordBytes = 128;
constexpr uint32_t kMaxAddedKeys = 2;
constexpr uint32_t kMaxRevokedKeys = 4;

struct SecurityState {
  uint32_t generation;  // +1 per write; the newer of two valid copies wins
  uint32_t floor;       // lowest security counter still accepted
  uint8_t num_added;
  uint8_t num_revoked;
  uint8_t added[kMaxAddedKeys][32];  // public keys trusted besides the factory ones
  uint32_t revoked[kMaxRevokedKeys];  // key ids no longer trusted for new packages
};

void encode_security(const SecurityState& s, uint8_t out[kSecurityRecordBytes]);
bool decode_security(const uint8_t in[kSecurityRecordBytes], SecurityState* out);

}  // namespace tinyforge::ota
