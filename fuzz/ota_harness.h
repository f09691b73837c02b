// The OTA fuzz target's signing key and its independent oracle (header only): seeds are
// packages signed with harness_keys() (make_fuzz_seeds), and signed_by_harness() decides with
// libsodium -- not with our verifier -- whether a package's signed block really carries the
// harness key's signature over it, and whether its payload matches the signed hash.
#pragma once
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ota/package_writer.h"
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

// The model the delta part of the fuzz target runs before it streams a delta package:
// 2 KiB of patterned bytes (not a plan: the fuzz device accepts images without a known
// answer, and a confirmed slot is not re-validated at boot), signed by the harness key.
inline const std::vector<uint8_t>& harness_base_payload() {
  static const std::vector<uint8_t> base = [] {
    std::vector<uint8_t> b(2048);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>((i * 7) ^ (i >> 5));
    return b;
  }();
  return base;
}

inline const std::vector<uint8_t>& harness_base_package() {
  static const std::vector<uint8_t> package = [] {
    ota::PackageSpec spec;
    spec.model_id = "base";
    spec.version = {0, 0, 1};
    return ota::write_package(spec, harness_base_payload(), harness_keys().secret_key);
  }();
  return package;
}

// True when `signed_block` (header + manifest + signature, `available` bytes readable) is
// signed by the harness key and `payload` (payload_size bytes readable, or nullptr to skip
// the payload check) hashes to the manifest's payload_sha256. With `as_sent`, a delta
// package's body is checked against its signed delta size and hash instead (the payload
// exists only once rebuilt on the device).
inline bool signed_by_harness(const uint8_t* signed_block, size_t available, const uint8_t* payload,
                              size_t payload_available, bool as_sent = true) {
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
  const uint8_t* delta = find_record(signed_block + ota::kPackageHeaderBytes, manifest_size,
                                     static_cast<uint16_t>(ota::RecordType::delta), &n);
  if (delta != nullptr && as_sent) {
    if (n != 4 + crypto_hash_sha256_BYTES) return false;
    const uint32_t delta_size = load_le32(delta);
    if (delta_size > payload_available) return false;
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, payload, delta_size);
    return std::memcmp(digest, delta + 4, sizeof digest) == 0;
  }
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
