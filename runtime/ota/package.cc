// Parser and verifier of OTA packages; see tinyforge/ota/package.h and docs/ota-format.md.
// A small TLV walk in the spirit of MCUboot's tlv.c: every length is checked against the
// end before it is used, and unknown records are skipped by an explicit rule.
#include "tinyforge/ota/package.h"

#include <cstring>

#include "tinyforge/ota/ed25519.h"
#include "tinyforge/ota/sha256.h"

namespace tinyforge::ota {
namespace {

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Printable ASCII, 1..limit bytes, copied NUL-terminated.
Status read_text(const uint8_t* value, uint16_t length, uint32_t limit, char* out) {
  if (length == 0) return Status::bad_manifest;
  if (length > limit) return Status::too_large;
  for (uint16_t i = 0; i < length; ++i) {
    if (value[i] < 0x20 || value[i] > 0x7e) return Status::bad_manifest;
    out[i] = static_cast<char>(value[i]);
  }
  out[length] = '\0';
  return Status::ok;
}

constexpr uint32_t bit(RecordType t) { return 1u << static_cast<uint16_t>(t); }
constexpr uint32_t kRequired = bit(RecordType::model_id) | bit(RecordType::version) |
                               bit(RecordType::security_counter) | bit(RecordType::target) |
                               bit(RecordType::payload_size) | bit(RecordType::payload_sha256);

// Interprets one known record; `length` is within bounds.
Status read_record(RecordType type, const uint8_t* v, uint16_t length, Manifest* m) {
  switch (type) {
    case RecordType::model_id:
      return read_text(v, length, kMaxModelIdBytes, m->model_id);
    case RecordType::target:
      return read_text(v, length, kMaxTargetBytes, m->target);
    case RecordType::version:
      if (length != 12) return Status::bad_manifest;
      m->version = {load_u32(v), load_u32(v + 4), load_u32(v + 8)};
      return Status::ok;
    case RecordType::security_counter:
      if (length != 4) return Status::bad_manifest;
      m->security_counter = load_u32(v);
      return Status::ok;
    case RecordType::payload_size:
      if (length != 4) return Status::bad_manifest;
      m->payload_size = load_u32(v);
      return Status::ok;
    case RecordType::payload_sha256:
      if (length != kDigestBytes) return Status::bad_manifest;
      std::memcpy(m->payload_sha256, v, kDigestBytes);
      return Status::ok;
    case RecordType::base_sha256:
      if (length != kDigestBytes) return Status::bad_manifest;
      std::memcpy(m->base_sha256, v, kDigestBytes);
      m->has_base = true;
      return Status::ok;
    case RecordType::self_test:
      if (length != 4) return Status::bad_manifest;
      m->self_test_offset = load_u32(v);
      if (m->self_test_offset % 4 != 0) return Status::bad_manifest;  // read in place
      m->has_self_test = true;
      return Status::ok;
    case RecordType::key_id:
      if (length != 4) return Status::bad_manifest;
      m->key_id = load_u32(v);
      m->has_key_id = true;
      return Status::ok;
    case RecordType::add_key:
      if (length != 32) return Status::bad_manifest;
      std::memcpy(m->add_key, v, 32);
      m->has_add_key = true;
      return Status::ok;
    case RecordType::revoke_key:
      if (length != 4) return Status::bad_manifest;
      m->revoke_key_id = load_u32(v);
      m->has_revoke_key = true;
      return Status::ok;
    case RecordType::delta:
      if (length != 4 + kDigestBytes) return Status::bad_manifest;
      m->delta_size = load_u32(v);
      std::memcpy(m->delta_sha256, v + 4, kDigestBytes);
      m->has_delta = true;
      return Status::ok;
  }
  return Status::bad_manifest;
}

bool is_known(uint16_t type) {
  return (type >= static_cast<uint16_t>(RecordType::model_id) &&
          type <= static_cast<uint16_t>(RecordType::revoke_key)) ||
         type == static_cast<uint16_t>(RecordType::delta);
}

}  // namespace

Status parse_package_header(const uint8_t* data, size_t size, uint32_t* manifest_size) {
  if (size < kPackageHeaderBytes) return Status::truncated;
  if (load_u32(data) != kPackageMagic) return Status::bad_magic;
  if (load_u16(data + 4) != kPackageVersionMajor) return Status::bad_version;
  const uint32_t m = load_u32(data + 8);
  if (m > kMaxManifestBytes) return Status::too_large;
  if (m == 0 || m % 4 != 0) return Status::bad_manifest;
  *manifest_size = m;
  return Status::ok;
}

Status parse_manifest(const uint8_t* data, uint32_t size, Manifest* out) {
  std::memset(out, 0, sizeof(*out));
  uint32_t seen = 0;
  uint32_t at = 0;
  while (at < size) {
    if (size - at < 4) return Status::truncated;
    const uint16_t type = load_u16(data + at);
    const uint16_t length = load_u16(data + at + 2);
    const uint32_t padded = (uint32_t{length} + 3u) & ~3u;
    if (padded > size - at - 4) return Status::truncated;
    const uint8_t* value = data + at + 4;
    for (uint32_t i = length; i < padded; ++i)
      if (value[i] != 0) return Status::bad_manifest;
    if (is_known(type)) {
      const uint32_t mask = 1u << (type & 31u);      // types 1..11 and 0x800C: bits 1..12
      if (seen & mask) return Status::bad_manifest;  // duplicates could hide a second value
      seen |= mask;
      const Status s = read_record(static_cast<RecordType>(type), value, length, out);
      if (s != Status::ok) return s;
    } else if (type & kRecordCritical) {
      return Status::bad_version;  // a feature this reader does not implement
    }                              // else: an optional record from a newer writer, skipped
    at += 4 + padded;
  }
  if ((seen & kRequired) != kRequired) return Status::bad_manifest;
  if (out->has_self_test && out->self_test_offset > out->payload_size) return Status::bad_manifest;
  if (out->has_delta && !out->has_base) return Status::bad_manifest;  // a delta needs its base
  return Status::ok;
}

uint32_t key_id_of(const uint8_t public_key[32]) {
  uint8_t digest[kDigestBytes];
  sha256(public_key, 32, digest);
  return load_u32(digest);
}

Status peek_key_id(const uint8_t* block, size_t size, uint32_t* key_id) {
  uint32_t manifest_size = 0;
  Status s = parse_package_header(block, size, &manifest_size);
  if (s != Status::ok) return s;
  if (size < signed_block_bytes(manifest_size)) return Status::truncated;
  Manifest m;
  s = parse_manifest(block + kPackageHeaderBytes, manifest_size, &m);
  if (s != Status::ok) return s;
  if (!m.has_key_id) return Status::bad_key;
  *key_id = m.key_id;
  return Status::ok;
}

Status verify_signed_block(const uint8_t* block, size_t size, const uint8_t public_key[32],
                           Manifest* out) {
  uint32_t manifest_size = 0;
  Status s = parse_package_header(block, size, &manifest_size);
  if (s != Status::ok) return s;
  const uint32_t signed_size = signed_block_bytes(manifest_size);
  if (size < signed_size) return Status::truncated;
  if (size > signed_size) return Status::bad_manifest;
  const uint32_t message_size = kPackageHeaderBytes + manifest_size;
  if (!ed25519_verify(block + message_size, block, message_size, public_key))
    return Status::bad_signature;
  return parse_manifest(block + kPackageHeaderBytes, manifest_size, out);
}

Status verify_package(const uint8_t* package, size_t size, const uint8_t public_key[32],
                      Manifest* out) {
  uint32_t manifest_size = 0;
  Status s = parse_package_header(package, size, &manifest_size);
  if (s != Status::ok) return s;
  const uint32_t signed_size = signed_block_bytes(manifest_size);
  if (size < signed_size) return Status::truncated;
  s = verify_signed_block(package, signed_size, public_key, out);
  if (s != Status::ok) return s;
  const uint32_t body = out->has_delta ? out->delta_size : out->payload_size;
  const uint64_t total = uint64_t{signed_size} + body;
  if (size < total) return Status::truncated;
  if (size > total) return Status::too_large;
  uint8_t digest[kDigestBytes];
  sha256(package + signed_size, body, digest);
  const uint8_t* expected = out->has_delta ? out->delta_sha256 : out->payload_sha256;
  if (std::memcmp(digest, expected, kDigestBytes) != 0) return Status::bad_hash;
  return Status::ok;
}

}  // namespace tinyforge::ota
