// Builds and signs OTA packages; see package_writer.h.
#include "ota/package_writer.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "ir/graph.h"

namespace tinyforge::ota {
namespace {

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_record(std::vector<uint8_t>& out, RecordType type, const std::vector<uint8_t>& value) {
  put_u16(out, static_cast<uint16_t>(type));
  put_u16(out, static_cast<uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  while (out.size() % 4 != 0) out.push_back(0);
}

std::vector<uint8_t> text_value(const std::string& what, const std::string& s, size_t limit) {
  if (s.empty() || s.size() > limit)
    throw tinyforge::Error(what + " must be 1.." + std::to_string(limit) + " characters, got \"" +
                           s + "\"");
  for (char c : s)
    if (c < 0x20 || c > 0x7e)
      throw tinyforge::Error(what + " must be printable ASCII: \"" + s + "\"");
  return std::vector<uint8_t>(s.begin(), s.end());
}

std::vector<uint8_t> u32_value(uint32_t v) {
  std::vector<uint8_t> out;
  put_u32(out, v);
  return out;
}

void init_sodium() {
  if (sodium_init() < 0) throw tinyforge::Error("libsodium failed to initialize");
}

}  // namespace

SemVer parse_semver(const std::string& text) {
  SemVer v{};
  uint32_t* parts[3] = {&v.major, &v.minor, &v.patch};
  size_t at = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = at;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    const bool separator_ok = i < 2 ? (end < text.size() && text[end] == '.') : end == text.size();
    if (end == at || end - at > 10 || !separator_ok)
      throw tinyforge::Error("version must be MAJOR.MINOR.PATCH (decimal numbers), got \"" + text +
                             "\"");
    const unsigned long long n = std::strtoull(text.substr(at, end - at).c_str(), nullptr, 10);
    if (n > 0xffffffffull) throw tinyforge::Error("version part too large in \"" + text + "\"");
    *parts[i] = static_cast<uint32_t>(n);
    at = end + 1;
  }
  return v;
}

std::string semver_text(const SemVer& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

std::vector<uint8_t> encode_manifest(const PackageSpec& spec, const std::vector<uint8_t>& payload) {
  if (payload.size() > 0xffffffffull - kMaxSignedBlockBytes)
    throw tinyforge::Error("payload of " + std::to_string(payload.size()) + " bytes is too large");
  init_sodium();
  std::vector<uint8_t> m;
  put_record(m, RecordType::model_id, text_value("model id", spec.model_id, kMaxModelIdBytes));
  std::vector<uint8_t> version;
  put_u32(version, spec.version.major);
  put_u32(version, spec.version.minor);
  put_u32(version, spec.version.patch);
  put_record(m, RecordType::version, version);
  put_record(m, RecordType::security_counter, u32_value(spec.security_counter));
  put_record(m, RecordType::target, text_value("target", spec.target, kMaxTargetBytes));
  put_record(m, RecordType::payload_size, u32_value(static_cast<uint32_t>(payload.size())));
  std::vector<uint8_t> digest(kDigestBytes);
  crypto_hash_sha256(digest.data(), payload.data(), payload.size());
  put_record(m, RecordType::payload_sha256, digest);
  if (spec.base_sha256)
    put_record(m, RecordType::base_sha256,
               std::vector<uint8_t>(spec.base_sha256->begin(), spec.base_sha256->end()));
  if (spec.self_test_offset) {
    if (*spec.self_test_offset % 4 != 0 || *spec.self_test_offset > payload.size())
      throw tinyforge::Error("self-test offset " + std::to_string(*spec.self_test_offset) +
                             " is not a 4-byte boundary inside the payload");
    put_record(m, RecordType::self_test, u32_value(*spec.self_test_offset));
  }
  if (spec.key_id) put_record(m, RecordType::key_id, u32_value(*spec.key_id));
  if (spec.add_key)
    put_record(m, RecordType::add_key,
               std::vector<uint8_t>(spec.add_key->begin(), spec.add_key->end()));
  if (spec.revoke_key_id) put_record(m, RecordType::revoke_key, u32_value(*spec.revoke_key_id));
  if (spec.delta_size) {
    if (!spec.base_sha256) throw tinyforge::Error("a delta package needs the base's SHA-256");
    std::vector<uint8_t> delta = u32_value(*spec.delta_size);
    delta.insert(delta.end(), spec.delta_sha256.begin(), spec.delta_sha256.end());
    put_record(m, RecordType::delta, delta);
  }
  return m;
}

uint32_t key_id(const PublicKey& key) {
  init_sodium();
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, key.data(), key.size());
  return uint32_t{digest[0]} | (uint32_t{digest[1]} << 8) | (uint32_t{digest[2]} << 16) |
         (uint32_t{digest[3]} << 24);
}

std::vector<uint8_t> assemble_package(const std::vector<uint8_t>& manifest,
                                      const std::vector<uint8_t>& payload, const SecretKey& key,
                                      uint16_t format_major) {
  init_sodium();
  std::vector<uint8_t> out;
  put_u32(out, kPackageMagic);
  put_u16(out, format_major);
  put_u16(out, kPackageVersionMinor);
  put_u32(out, static_cast<uint32_t>(manifest.size()));
  out.insert(out.end(), manifest.begin(), manifest.end());
  uint8_t signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, out.data(), out.size(), key.data());
  out.insert(out.end(), signature, signature + sizeof signature);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> package_payload(PackageSpec* spec, const std::vector<uint8_t>& plan,
                                     const SecretKey& key, const std::vector<uint8_t>& self_test) {
  PublicKey public_key;
  std::copy(key.begin() + 32, key.end(), public_key.begin());  // seed || public key
  if (!spec->key_id) spec->key_id = key_id(public_key);
  std::vector<uint8_t> payload = plan;
  if (!self_test.empty()) {
    while (payload.size() % 4 != 0) payload.push_back(0);
    spec->self_test_offset = static_cast<uint32_t>(payload.size());
    payload.insert(payload.end(), self_test.begin(), self_test.end());
  }
  return payload;
}

std::vector<uint8_t> write_package(const PackageSpec& spec_in, const std::vector<uint8_t>& plan,
                                   const SecretKey& key, const std::vector<uint8_t>& self_test) {
  PackageSpec spec = spec_in;
  const std::vector<uint8_t> payload = package_payload(&spec, plan, key, self_test);
  const std::vector<uint8_t> manifest = encode_manifest(spec, payload);
  if (manifest.size() > kMaxManifestBytes)
    throw tinyforge::Error("manifest of " + std::to_string(manifest.size()) + " bytes exceeds " +
                           std::to_string(kMaxManifestBytes));
  return assemble_package(manifest, payload, key);
}

}  // namespace tinyforge::ota
