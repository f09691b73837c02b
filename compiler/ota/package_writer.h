// Host side of OTA packages (.tfu): builds and signs them with libsodium. The format is
// the one the device parses (runtime/include/tinyforge/ota/package.h, docs/ota-format.md).
// Errors throw tinyforge::Error with a message naming what was wrong.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tinyforge/ota/package.h"

namespace tinyforge::ota {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;  // libsodium layout: seed || public key

struct PackageSpec {
  std::string model_id;  // 1..32 printable ASCII
  SemVer version{};
  uint32_t security_counter = 0;
  std::string target = "cortex-m4";  // 1..16 printable ASCII
  std::optional<std::array<uint8_t, kDigestBytes>> base_sha256;
  std::optional<uint32_t> key_id;            // write_package fills it from the signing key
  std::optional<uint32_t> self_test_offset;  // write_package fills it when given a self-test
  std::optional<PublicKey> add_key;          // key rotation: trust this key once confirmed
  std::optional<uint32_t> revoke_key_id;     // revocation: distrust this key once confirmed
  // A delta package (delta record): the stream's size and SHA-256 (write_delta_package).
  std::optional<uint32_t> delta_size;
  std::array<uint8_t, kDigestBytes> delta_sha256{};
};

uint32_t key_id(const PublicKey& key);  // key_id_of(): first 4 bytes of SHA-256(key)

// "MAJOR.MINOR.PATCH", each a decimal u32; throws otherwise.
SemVer parse_semver(const std::string& text);
std::string semver_text(const SemVer& v);

// The manifest records for `spec` describing `payload` (validated: throws on bad fields).
std::vector<uint8_t> encode_manifest(const PackageSpec& spec, const std::vector<uint8_t>& payload);

// header + manifest + Ed25519 signature over header + manifest + payload. `manifest` is
// used as given (tests craft unusual ones); `format_major` likewise.
std::vector<uint8_t> assemble_package(const std::vector<uint8_t>& manifest,
                                      const std::vector<uint8_t>& payload, const SecretKey& key,
                                      uint16_t format_major = kPackageVersionMajor);

// The usual path: the payload is `plan` followed (at a 4-byte boundary) by `self_test`
// (a block from make_self_test; empty: none, which devices refuse unless they opt out);
// the key id is the signing key's. Then encode_manifest + assemble_package.
std::vector<uint8_t> write_package(const PackageSpec& spec, const std::vector<uint8_t>& plan,
                                   const SecretKey& key,
                                   const std::vector<uint8_t>& self_test = {});

// The payload write_package ships: `plan`, then (at a 4-byte boundary) `self_test`;
// `spec` gets its key id and self-test offset.
std::vector<uint8_t> package_payload(PackageSpec* spec, const std::vector<uint8_t>& plan,
                                     const SecretKey& key, const std::vector<uint8_t>& self_test);

}  // namespace tinyforge::ota
