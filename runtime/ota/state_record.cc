// Encoding of the OTA agent's journal and security records; see state_record.h.
#include "tinyforge/ota/state_record.h"

#include <cstring>

#include "tinyforge/plan_format.h"  // crc32

namespace tinyforge::ota {
namespace {

void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

constexpr uint32_t kCrcAt = kStateRecordBytes - 4;
constexpr uint32_t kSecurityCrcAt = kSecurityRecordBytes - 4;
constexpr uint32_t kAddedAt = 16;
constexpr uint32_t kRevokedAt = kAddedAt + kMaxAddedKeys * 32;

}  // namespace

void encode_state(const StateRecord& r, uint8_t out[kStateRecordBytes]) {
  std::memset(out, 0, kStateRecordBytes);
  store_u32(out, kStateMagic);
  store_u32(out + 4, r.sequence);
  out[8] = r.active;
  out[9] = r.pending;
  out[10] = r.trial;
  store_u32(out + 12, r.counter_floor);
  store_u32(out + kCrcAt, crc32(out, kCrcAt));
}

bool decode_state(const uint8_t in[kStateRecordBytes], StateRecord* out) {
  if (load_u32(in) != kStateMagic) return false;
  if (load_u32(in + kCrcAt) != crc32(in, kCrcAt)) return false;
  if (in[8] > 1 || (in[9] > 1 && in[9] != kNoSlot) || in[10] > 1 || in[9] == in[8]) return false;
  out->sequence = load_u32(in + 4);
  out->active = in[8];
  out->pending = in[9];
  out->trial = in[10];
  out->counter_floor = load_u32(in + 12);
  return out->sequence != 0;
}

void encode_security(const SecurityState& s, uint8_t out[kSecurityRecordBytes]) {
  std::memset(out, 0, kSecurityRecordBytes);
  store_u32(out, kSecurityMagic);
  store_u32(out + 4, s.generation);
  store_u32(out + 8, s.floor);
  out[12] = s.num_added;
  out[13] = s.num_revoked;
  for (uint32_t i = 0; i < s.num_added && i < kMaxAddedKeys; ++i)
    std::memcpy(out + kAddedAt + 32 * i, s.added[i], 32);
  for (uint32_t i = 0; i < s.num_revoked && i < kMaxRevokedKeys; ++i)
    store_u32(out + kRevokedAt + 4 * i, s.revoked[i]);
  store_u32(out + kSecurityCrcAt, crc32(out, kSecurityCrcAt));
}

bool decode_security(const uint8_t in[kSecurityRecordBytes], SecurityState* out) {
  if (load_u32(in) != kSecurityMagic) return false;
  if (load_u32(in + kSecurityCrcAt) != crc32(in, kSecurityCrcAt)) return false;
  if (in[12] > kMaxAddedKeys || in[13] > kMaxRevokedKeys || in[14] != 0 || in[15] != 0)
    return false;
  *out = SecurityState{};
  out->generation = load_u32(in + 4);
  out->floor = load_u32(in + 8);
  out->num_added = in[12];
  out->num_revoked = in[13];
  for (uint32_t i = 0; i < out->num_added; ++i) std::memcpy(out->added[i], in + kAddedAt + 32 * i, 32);
  for (uint32_t i = 0; i < out->num_revoked; ++i) out->revoked[i] = load_u32(in + kRevokedAt + 4 * i);
  return out->generation != 0;
}

}  // namespace tinyforge::ota
