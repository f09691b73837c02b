// The OTA fuzz target's signing key and its independent oracle (header only): seeds are
// packages signed with harness_keys() (make_fuzz_seeds), and signed_by_harness() decides with
// libsodium -- not with our verifier -- whether a package's signed block really carries the
// harness key's signature over it, and whether its payload matches the signed hash.
#pragma once
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "ota/signing_keys.h"
#include "tinyforge/ota/package.h"

namespace tinyforge::fuzz {

inline const ota::KeyPair& harness_keys() {
  static const ota::KeyPair keys = ota::keypair_from_seed(std::array<uint8_t, 32>{7, 7, 7});
  return keys;
}

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Walks the manifest's TLV records (4-byte aligned) and returns the value of `type`, or
// nullptr; `length` receives its length.
inline const uint8_t* find_record(const uint8_t* manifest, uint32_t size, uint16_t type,
                                  uint16_t* length) {
  for (uint32_t at = 0; size - at >= 4;) {
    const uint16_t t = static_cast<uint16_t>(manifest[at] | (manifest[at + 1] << 8));
    const uint16_t n = static_cast<uint16_t>(manifest[at + 2] | (manifest[at + 3] << 8));
    const uint32_t padded = (uint32_t{n} + 3u) & ~3u;
    if (padded > size - at - 4) return nullptr;
    if (t == type) {
      *length = n;
      return manifest + at + 4;
    }
    at += 4 + padded;
  }
  return nullptr;
}

// True when `signed_block` (header + manifest + signature, `available` bytes readable) is
// signed by the harness key and `payload` (payload_size bytes readable, or nullptr to skip
// the payload check) hashes to the manifest's payload_sha256.
inline bool signed_by_harness(const uint8_t* signed_block, size_t available, const uint8_t* payload,
                              size_t payload_available) {
  if (available < ota::kPackageHeaderBytes) return false;
  const uint32_t manifest_size = load_le32(signed_block + 8);
  if (manifest_size > ota::kMaxManifestBytes) return false;
  const size_t message = ota::kPackageHeaderBytes + manifest_size;
  if (available < message + ota::kSignatureBytes) return false;
  if (crypto_sign_verify_detached(signed_block + message, signed_block, message,
                                  harness_keys().public_key.data()) != 0)
    return false;
  if (payload == nullptr) return true;
  uint16_t n = 0;
  const uint8_t* size_record =
      find_record(signed_block + ota::kPackageHeaderBytes, manifest_size,
                  static_cast<uint16_t>(ota::RecordType::payload_size), &n);
  if (size_record == nullptr || n != 4) return false;
  const uint32_t payload_size = load_le32(size_record);
  const uint8_t* hash = find_record(signed_block + ota::kPackageHeaderBytes, manifest_size,
                                    static_cast<uint16_t>(ota::RecordType::payload_sha256), &n);
  if (hash == nullptr || n != crypto_hash_sha256_BYTES || payload_size > payload_available)
    return false;
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, payload, payload_size);
  return std::memcmp(digest, hash, sizeof digest) == 0;
}

}  // namespace tinyforge::fuzz
