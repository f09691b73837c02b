// Encoding of the journaled OTA state record; see state_record.h.
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

}  // namespace tinyforge::ota
