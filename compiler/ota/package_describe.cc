// JSON description of an OTA package, parsed with the device's own parser.
#include "ota/package_describe.h"

#include <sodium.h>

#include <cstring>

#include "ir/graph.h"
#include "ota/package_writer.h"
#include "ota/signing_keys.h"
#include "tinyforge/ota/package.h"

namespace tinyforge::ota {

bool is_package(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 'T' && bytes[1] == 'F' && bytes[2] == 'U' &&
         bytes[3] == '1';
}

nlohmann::json describe_package(const std::vector<uint8_t>& bytes) {
  uint32_t manifest_size = 0;
  Status s = parse_package_header(bytes.data(), bytes.size(), &manifest_size);
  if (s != Status::ok)
    throw tinyforge::Error(std::string("not a valid OTA package header: ") + status_name(s));
  const uint32_t signed_size = signed_block_bytes(manifest_size);
  if (bytes.size() < signed_size)
    throw tinyforge::Error("OTA package truncated inside the signed block");
  Manifest m;
  s = parse_manifest(bytes.data() + kPackageHeaderBytes, manifest_size, &m);
  if (s != Status::ok)
    throw tinyforge::Error(std::string("invalid OTA manifest: ") + status_name(s));

  const uint64_t payload_bytes = bytes.size() - signed_size;
  const uint32_t body_bytes = m.has_delta ? m.delta_size : m.payload_size;  // what is sent
  bool hash_matches = false;
  if (payload_bytes == body_bytes) {
    uint8_t digest[kDigestBytes];
    if (sodium_init() < 0) throw tinyforge::Error("libsodium failed to initialize");
    crypto_hash_sha256(digest, bytes.data() + signed_size, body_bytes);
    hash_matches =
        std::memcmp(digest, m.has_delta ? m.delta_sha256 : m.payload_sha256, kDigestBytes) == 0;
  }
  nlohmann::json j;
  j["kind"] = "ota_package";
  j["format_version"] =
      std::to_string(bytes[4] | (bytes[5] << 8)) + "." + std::to_string(bytes[6] | (bytes[7] << 8));
  j["model_id"] = m.model_id;
  j["version"] = semver_text(m.version);
  j["security_counter"] = m.security_counter;
  j["target"] = m.target;
  j["payload_bytes"] = m.payload_size;
  j["payload_sha256"] = to_hex(m.payload_sha256, kDigestBytes);
  if (m.has_base) j["base_sha256"] = to_hex(m.base_sha256, kDigestBytes);
  if (m.has_delta) {
    j["delta_bytes"] = m.delta_size;
    j["delta_sha256"] = to_hex(m.delta_sha256, kDigestBytes);
  }
  if (m.has_key_id) j["key_id"] = m.key_id;
  j["plan_bytes"] = m.has_self_test ? m.self_test_offset : m.payload_size;
  j["self_test_bytes"] = m.has_self_test ? m.payload_size - m.self_test_offset : 0;
  if (m.has_add_key) j["add_key"] = to_hex(m.add_key, 32);
  if (m.has_revoke_key) j["revoke_key_id"] = m.revoke_key_id;
  j["manifest_bytes"] = manifest_size;
  j["package_bytes"] = bytes.size();
  j["size_matches"] = payload_bytes == body_bytes;
  j["payload_hash_matches"] = hash_matches;
  j["signature"] = to_hex(bytes.data() + kPackageHeaderBytes + manifest_size, kSignatureBytes);
  j["signature_checked"] = false;  // needs the public key: tinyforge verify
  return j;
}

}  // namespace tinyforge::ota
