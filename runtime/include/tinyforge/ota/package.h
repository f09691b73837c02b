// OTA update package (.tfu), format version 1, and its parser. Byte-level description:
// docs/ota-format.md. All integers little-endian.
//
//   header    12 B   magic "TFU1", format major u16, minor u16, manifest_size u32
//   manifest  TLV records (type u16, length u16, value, zero padding to 4 B)
//   signature 64 B   Ed25519 over header + manifest
//   payload   the plan blob, manifest.payload_size bytes (or, in a delta package, the
//             delta stream that rebuilds it from the running plan: delta.h)
//
// The manifest holds the payload's SHA-256, so the signature covers the payload too. The
// signature sits *before* the payload so a device can authenticate the package before it
// erases or writes a single flash page. Unknown records are skipped unless their type has
// the critical bit (0x8000) set, in which case the package needs a newer reader.
//
// Nothing here allocates; every length is checked against the end of its buffer first.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinyforge/status.h"

namespace tinyforge::ota {

constexpr uint32_t kPackageMagic = 0x31554654;  // bytes "TFU1"
constexpr uint16_t kPackageVersionMajor = 1;    // readers refuse any other major
constexpr uint16_t kPackageVersionMinor = 1;    // additions that old readers may ignore
constexpr uint32_t kPackageHeaderBytes = 12;
constexpr uint32_t kSignatureBytes = 64;
// Header + manifest + signature: the "signed block" a device buffers in RAM and stores in
// front of the payload in its slot.
constexpr uint32_t kMaxSignedBlockBytes = 512;
constexpr uint32_t kMaxManifestBytes = kMaxSignedBlockBytes - kPackageHeaderBytes - kSignatureBytes;
constexpr uint32_t kMaxModelIdBytes = 32;
constexpr uint32_t kMaxTargetBytes = 16;
constexpr uint32_t kDigestBytes = 32;

// Manifest record types. Bit 15 marks a record a reader must understand.
enum class RecordType : uint16_t {
  model_id = 1,          // 1..32 bytes, printable ASCII
  version = 2,           // 12 bytes: major, minor, patch (u32 each)
  security_counter = 3,  // 4 bytes u32, anti-rollback
  target = 4,            // 1..16 bytes, printable ASCII, e.g. "cortex-m4"
  payload_size = 5,      // 4 bytes u32
  payload_sha256 = 6,    // 32 bytes
  base_sha256 = 7,       // 32 bytes, optional: the payload the device must be running
  self_test = 8,         // 4 bytes u32: payload [0, v) is the plan, [v, end) its known answer
  key_id = 9,            // 4 bytes u32: key_id_of() the key that signed the package
  add_key = 10,          // 32 bytes: a public key the device trusts once this update confirms
  revoke_key = 11,       // 4 bytes u32: a key id the device stops trusting once it confirms
  // Critical (old readers refuse it): the package carries a delta stream (delta.h), not the
  // payload; 36 bytes: stream size u32, SHA-256 of the stream. Requires base_sha256.
  delta = 0x800C,
};
constexpr uint16_t kRecordCritical = 0x8000;

struct SemVer {
  uint32_t major, minor, patch;
};

struct Manifest {
  char model_id[kMaxModelIdBytes + 1];  // NUL-terminated
  SemVer version;
  uint32_t security_counter;
  char target[kMaxTargetBytes + 1];  // NUL-terminated
  uint32_t payload_size;
  uint8_t payload_sha256[kDigestBytes];
  bool has_base;
  uint8_t base_sha256[kDigestBytes];
  bool has_self_test;
  uint32_t self_test_offset;  // multiple of 4, <= payload_size
  bool has_key_id;
  uint32_t key_id;
  bool has_add_key;
  uint8_t add_key[32];
  bool has_revoke_key;
  uint32_t revoke_key_id;
  bool has_delta;  // payload_size / payload_sha256 describe the rebuilt payload
  uint32_t delta_size;
  uint8_t delta_sha256[kDigestBytes];
};

// A key's id: the first 4 bytes of SHA-256(public key), little-endian.
uint32_t key_id_of(const uint8_t public_key[32]);

// The key id a signed block claims, read WITHOUT checking the signature (so the device can
// pick the key to check it with). Same errors as parse_manifest; bad_key if it has none.
Status peek_key_id(const uint8_t* block, size_t size, uint32_t* key_id);

// Reads the 12-byte header: truncated if fewer bytes, bad_magic, bad_version (other major),
// too_large (manifest_size > kMaxManifestBytes), bad_manifest (0 or not a multiple of 4).
Status parse_package_header(const uint8_t* data, size_t size, uint32_t* manifest_size);

// Parses manifest records (no signature check: callers verify first, see below).
// bad_manifest: missing/duplicate/malformed record, non-zero padding; truncated: a record
// runs past the end; too_large: a string longer than its limit; bad_version: an unknown
// critical record.
Status parse_manifest(const uint8_t* data, uint32_t size, Manifest* out);

// Bytes of the signed block announced by a valid header.
inline uint32_t signed_block_bytes(uint32_t manifest_size) {
  return kPackageHeaderBytes + manifest_size + kSignatureBytes;
}

// Header, then the signature (bad_signature), then the manifest. `size` must be exactly the
// signed block (truncated if shorter, bad_manifest if longer than the header announces).
Status verify_signed_block(const uint8_t* block, size_t size, const uint8_t public_key[32],
                           Manifest* out);

// A whole package in memory: the signed block, then the size (truncated if short, too_large
// if bytes follow the payload), then the payload hash (bad_hash). For a delta package the
// bytes after the signed block are the delta stream, checked against delta_size and
// delta_sha256 (the rebuilt payload can only be checked with the base, on the device).
Status verify_package(const uint8_t* package, size_t size, const uint8_t public_key[32],
                      Manifest* out);

}  // namespace tinyforge::ota
