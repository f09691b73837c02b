// OTA package format: round trip, tampering (every single-bit flip of a 4 KiB package),
// distinct status codes for each kind of bad input, the unknown-record rule, and the host
// helpers (describe, semantic versions, key files).
#include "tinyforge/ota/package.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "expect_error.h"
#include "ir/graph.h"
#include "ota/package_describe.h"
#include "ota/package_writer.h"
#include "ota/signing_keys.h"
#include "runtime/ota/testing/ota_test_device.h"

namespace tinyforge::ota {
namespace {

using testing::Device;
using testing::make_package;
using testing::test_keys;
using testing::test_payload;
using testing::test_plan;

void put_u16(std::vector<uint8_t>& m, uint16_t v) {
  m.push_back(static_cast<uint8_t>(v));
  m.push_back(static_cast<uint8_t>(v >> 8));
}

void put_record(std::vector<uint8_t>& m, uint16_t type, const std::vector<uint8_t>& value) {
  put_u16(m, type);
  put_u16(m, static_cast<uint16_t>(value.size()));
  m.insert(m.end(), value.begin(), value.end());
  while (m.size() % 4) m.push_back(0);
}

std::vector<uint8_t> u32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

PackageSpec spec_of(const char* model_id, SemVer version, uint32_t counter) {
  PackageSpec spec;
  spec.model_id = model_id;
  spec.version = version;
  spec.security_counter = counter;
  return spec;
}

PackageSpec spec_v(uint32_t major, uint32_t counter) {
  return spec_of("kws", {major, 0, 0}, counter);
}

TEST(OtaPackage, RoundTripThroughTheDeviceParser) {
  const KeyPair keys = test_keys();
  const auto payload = test_payload(3000, 1);
  PackageSpec spec = spec_of("keyword-spotter", {1, 2, 3}, 42);
  std::array<uint8_t, 32> base{};
  base[0] = 0xAB;
  spec.base_sha256 = base;
  const auto pkg = write_package(spec, payload, keys.secret_key);
  Manifest m;
  ASSERT_EQ(verify_package(pkg.data(), pkg.size(), keys.public_key.data(), &m), Status::ok);
  EXPECT_STREQ(m.model_id, "keyword-spotter");
  EXPECT_EQ(m.version.major, 1u);
  EXPECT_EQ(m.version.minor, 2u);
  EXPECT_EQ(m.version.patch, 3u);
  EXPECT_EQ(m.security_counter, 42u);
  EXPECT_STREQ(m.target, "cortex-m4");
  EXPECT_EQ(m.payload_size, payload.size());
  EXPECT_TRUE(m.has_base);
  EXPECT_EQ(m.base_sha256[0], 0xAB);
  uint8_t digest[32];
  crypto_hash_sha256(digest, payload.data(), payload.size());
  EXPECT_EQ(0, std::memcmp(digest, m.payload_sha256, 32));
  // The layout the docs promise: magic, version 1.0, signature right after the manifest.
  EXPECT_EQ(std::string(pkg.begin(), pkg.begin() + 4), "TFU1");
  EXPECT_EQ(pkg[4], 1);
  EXPECT_EQ(pkg[6], 1);
  EXPECT_TRUE(m.has_key_id);
  EXPECT_EQ(m.key_id, key_id_of(keys.public_key.data()));
  EXPECT_FALSE(m.has_self_test);
  const uint32_t manifest_size = pkg[8] | (pkg[9] << 8);
  EXPECT_EQ(pkg.size(), 12 + manifest_size + 64 + payload.size());
  EXPECT_EQ(0, crypto_sign_verify_detached(pkg.data() + 12 + manifest_size, pkg.data(),
                                           12 + manifest_size, keys.public_key.data()));
}

// Every single-bit flip of a 4 KiB package is rejected: by the in-memory verifier for all
// 32768 bits, and by the streaming agent (which must also leave the running model alone)
// for every 97th bit.
TEST(OtaPackage, EverySingleBitFlipOf4KiBPackageIsRejected) {
  const KeyPair keys = test_keys();
  const size_t block = make_package({}, {1, 0, 0}, 1, keys).size();
  const auto payload = test_payload(4096 - block, 5);
  const auto pkg = make_package(payload, {2, 0, 0}, 2, keys);
  ASSERT_EQ(pkg.size(), 4096u);
  Manifest m;
  ASSERT_EQ(verify_package(pkg.data(), pkg.size(), keys.public_key.data(), &m), Status::ok);
  const size_t manifest_end = block - 64;

  std::map<std::string, std::map<Status, int>> seen;  // region -> status -> count
  Device d;
  d.config().policy = kAllowNoSelfTest;  // the 4 KiB payload is raw bytes, not a plan
  d.reboot();
  const auto v1 = test_plan(1000, 1);
  ASSERT_EQ(d.install(make_package(v1, {1, 0, 0}, 1, keys)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  int agent_checked = 0;
  for (size_t bit = 0; bit < pkg.size() * 8; ++bit) {
    std::vector<uint8_t> bad = pkg;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const Status s = verify_package(bad.data(), bad.size(), keys.public_key.data(), &m);
    ASSERT_NE(s, Status::ok) << "bit " << bit;
    const size_t at = bit / 8;
    const char* region = at < 12             ? "header"
                         : at < manifest_end ? "manifest"
                         : at < block        ? "signature"
                                             : "payload";
    seen[region][s]++;
    if (bit % 97 == 0) {
      const Status a = d.install(bad, 333);
      ASSERT_NE(a, Status::ok) << "agent accepted bit " << bit;
      d.agent().abort_update();
      ++agent_checked;
    }
  }
  // Header flips fail on magic/version/size/signature; manifest and signature flips on the
  // signature; payload flips on the hash.
  EXPECT_EQ(seen["payload"].size(), 1u);
  EXPECT_EQ(seen["payload"][Status::bad_hash], static_cast<int>(payload.size() * 8));
  EXPECT_EQ(seen["manifest"][Status::bad_signature], static_cast<int>((manifest_end - 12) * 8));
  EXPECT_EQ(seen["signature"][Status::bad_signature], 64 * 8);
  EXPECT_GT(seen["header"][Status::bad_magic], 0);
  EXPECT_GT(seen["header"][Status::bad_version], 0);
  ASSERT_EQ(d.reboot(), Status::ok);
  EXPECT_EQ(d.running_payload(), v1);  // nothing of the tampered streams became pending
  EXPECT_GT(agent_checked, 300);
  EXPECT_EQ(d.sim().violations(), 0u);
  for (const auto& [region, counts] : seen)
    for (const auto& [status, n] : counts)
      std::printf("  %-9s %-14s %d\n", region.c_str(), status_name(status), n);
}

// Each kind of bad input has its own status, through the streaming agent.
// verify_signed_block takes exactly the signed block its header announces (package.h): a
// caller passing a longer buffer (the block with payload bytes behind it) is told so, and
// does not get a prefix verified as if it were the whole.
TEST(OtaPackage, SignedBlockMustBeExactlyTheAnnouncedSize) {
  const KeyPair keys = test_keys();
  const auto package = make_package(test_plan(1000, 1), {1, 0, 0}, 1, keys);
  uint32_t manifest_size = 0;
  ASSERT_EQ(parse_package_header(package.data(), package.size(), &manifest_size), Status::ok);
  const uint32_t block = signed_block_bytes(manifest_size);
  ASSERT_LT(block, package.size());
  const uint8_t* key = keys.public_key.data();
  Manifest m;
  EXPECT_EQ(verify_signed_block(package.data(), block, key, &m), Status::ok);
  EXPECT_EQ(verify_signed_block(package.data(), block - 1, key, &m), Status::truncated);
  EXPECT_EQ(verify_signed_block(package.data(), block + 1, key, &m), Status::bad_manifest);
  EXPECT_EQ(verify_signed_block(package.data(), package.size(), key, &m), Status::bad_manifest);
}

TEST(OtaPackage, DistinctStatusPerKindOfBadInput) {
  const KeyPair keys = test_keys();
  Device d;
  d.reboot();
  ASSERT_EQ(d.install(make_package(test_plan(1000, 1), {1, 0, 0}, 5, keys)), Status::ok);
  ASSERT_EQ(d.reboot(), Status::ok);
  const auto payload = test_plan(2000, 2);
  const auto good = make_package(payload, {2, 0, 0}, 6, keys);

  std::vector<uint8_t> huge_manifest = good;  // header's manifest_size
  huge_manifest[8] = 0x00;
  huge_manifest[9] = 0x00;
  huge_manifest[10] = 0x01;  // 64 KiB
  // A validly signed manifest whose payload_size is 4 GiB - 1.
  PackageSpec huge_spec = spec_v(2, 6);
  huge_spec.key_id = key_id(keys.public_key);
  std::vector<uint8_t> manifest = encode_manifest(huge_spec, payload);
  for (size_t at = 0; at + 8 <= manifest.size(); at += 4) {
    if (manifest[at] == static_cast<uint8_t>(RecordType::payload_size) && manifest[at + 2] == 4) {
      for (int i = 0; i < 4; ++i) manifest[at + 4 + i] = 0xFF;
      break;
    }
  }
  const auto huge_payload = assemble_package(manifest, payload, keys.secret_key);
  std::vector<uint8_t> damaged_signature = good;
  damaged_signature[12 + (good[8] | (good[9] << 8)) + 5] ^= 0x20;

  struct Case {
    const char* what;
    std::vector<uint8_t> package;
    Status expected;
  } cases[] = {
      {"unknown key", make_package(payload, {2, 0, 0}, 6, test_keys(7)), Status::bad_key},
      {"damaged signature", damaged_signature, Status::bad_signature},
      {"replayed older counter", make_package(payload, {0, 9, 0}, 4, keys), Status::rollback},
      {"truncated stream", std::vector<uint8_t>(good.begin(), good.end() - 1), Status::truncated},
      {"oversized manifest length", huge_manifest, Status::too_large},
      {"oversized payload length", huge_payload, Status::too_large},
      {"other target", make_package(payload, {2, 0, 0}, 6, keys, "riscv32"), Status::bad_target},
      {"not a package", std::vector<uint8_t>(100, 0x42), Status::bad_magic},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(d.install(c.package, 700), c.expected) << c.what;
    d.agent().abort_update();
  }
  ASSERT_EQ(d.install(good), Status::ok);
}

// Manifest rules: unknown optional records are skipped, unknown critical ones refused;
// duplicates, missing required records, bad lengths, bad text, non-zero padding refused.
TEST(OtaPackage, ManifestRecordRules) {
  const KeyPair keys = test_keys();
  const auto payload = test_payload(100, 1);
  const std::vector<uint8_t> base = encode_manifest(spec_v(1, 1), payload);
  auto check = [&](const std::vector<uint8_t>& manifest, Status expected, const char* what) {
    const auto pkg = assemble_package(manifest, payload, keys.secret_key);
    Manifest m;
    EXPECT_EQ(verify_package(pkg.data(), pkg.size(), keys.public_key.data(), &m), expected) << what;
  };
  check(base, Status::ok, "plain");
  auto with = [&](uint16_t type, std::vector<uint8_t> value) {
    std::vector<uint8_t> m = base;
    put_record(m, type, value);
    return m;
  };
  check(with(0x0042, {1, 2, 3}), Status::ok, "unknown optional record");
  check(with(0x4000, {}), Status::ok, "unknown optional empty record");
  check(with(0x8042, {1}), Status::bad_version, "unknown critical record");
  check(with(static_cast<uint16_t>(RecordType::security_counter), u32(99)), Status::bad_manifest,
        "duplicate");
  check(with(static_cast<uint16_t>(RecordType::base_sha256), {1, 2}), Status::bad_manifest,
        "short digest");
  std::vector<uint8_t> no_counter;
  put_record(no_counter, 1, {'k'});
  put_record(no_counter, 2, std::vector<uint8_t>(12, 0));
  put_record(no_counter, 4, {'c', 'o', 'r', 't', 'e', 'x', '-', 'm', '4'});
  put_record(no_counter, 5, u32(100));
  uint8_t digest[32];
  crypto_hash_sha256(digest, payload.data(), payload.size());
  put_record(no_counter, 6, std::vector<uint8_t>(digest, digest + 32));
  check(no_counter, Status::bad_manifest, "missing security counter");
  std::vector<uint8_t> long_id;
  put_record(long_id, 1, std::vector<uint8_t>(33, 'a'));
  long_id.insert(long_id.end(), no_counter.begin() + 8, no_counter.end());
  put_record(long_id, 3, u32(1));
  check(long_id, Status::too_large, "model id of 33 bytes");
  std::vector<uint8_t> control = base;
  control[4] = '\n';  // model id "kws" -> "\nws"
  check(control, Status::bad_manifest, "control character in model id");
  std::vector<uint8_t> padding = base;
  padding[7] = 1;  // the pad byte after "kws"
  check(padding, Status::bad_manifest, "non-zero padding");
  std::vector<uint8_t> overrun = base;
  overrun[2] = 0xF0;  // model id record claims 240 bytes
  check(overrun, Status::truncated, "record longer than the manifest");
  std::vector<uint8_t> misaligned = base;
  misaligned.push_back(0);
  misaligned.push_back(0);
  check(misaligned, Status::bad_manifest, "manifest size not a multiple of 4");
  // Another format major is refused before anything else is read.
  const auto v2 = assemble_package(base, payload, keys.secret_key, 2);
  Manifest m;
  EXPECT_EQ(verify_package(v2.data(), v2.size(), keys.public_key.data(), &m), Status::bad_version);
  // Short inputs of every length never read out of bounds (ASan builds check this).
  const auto pkg = assemble_package(base, payload, keys.secret_key);
  for (size_t n = 0; n < pkg.size(); ++n) {
    std::vector<uint8_t> cut(pkg.begin(), pkg.begin() + n);
    EXPECT_EQ(verify_package(cut.data(), cut.size(), keys.public_key.data(), &m), Status::truncated)
        << n;
  }
}

TEST(OtaPackage, DescribeShowsTheManifest) {
  const KeyPair keys = test_keys();
  const auto payload = test_payload(777, 3);
  PackageSpec spec = spec_of("vww", {2, 5, 1}, 17);
  auto pkg = write_package(spec, payload, keys.secret_key);
  EXPECT_TRUE(is_package(pkg));
  nlohmann::json j = describe_package(pkg);
  EXPECT_EQ(j["kind"], "ota_package");
  EXPECT_EQ(j["model_id"], "vww");
  EXPECT_EQ(j["version"], "2.5.1");
  EXPECT_EQ(j["security_counter"], 17);
  EXPECT_EQ(j["target"], "cortex-m4");
  EXPECT_EQ(j["payload_bytes"], 777);
  EXPECT_EQ(j["payload_hash_matches"], true);
  EXPECT_EQ(j["format_version"], "1.1");
  EXPECT_EQ(j["key_id"], key_id_of(keys.public_key.data()));
  EXPECT_EQ(j["signature"].get<std::string>().size(), 128u);
  pkg.back() ^= 1;
  EXPECT_EQ(describe_package(pkg)["payload_hash_matches"], false);
  EXPECT_FALSE(is_package(payload));
  EXPECT_ERROR(describe_package(payload), tinyforge::Error,
               "not a valid OTA package header: bad_magic");
  EXPECT_ERROR(describe_package(std::vector<uint8_t>(pkg.begin(), pkg.begin() + 20)),
               tinyforge::Error, "truncated inside the signed block");
}

TEST(OtaPackage, WriterValidatesItsInputs) {
  EXPECT_EQ(semver_text(parse_semver("1.20.300")), "1.20.300");
  EXPECT_EQ(parse_semver("4294967295.0.0").major, 4294967295u);
  for (const char* bad :
       {"", "1", "1.2", "1.2.3.4", "1..3", "a.b.c", "1.2.3-rc1", "4294967296.0.0", " 1.2.3"}) {
    SCOPED_TRACE(bad);
    EXPECT_ERROR(parse_semver(bad), tinyforge::Error, "version");
  }
  const KeyPair keys = test_keys();
  PackageSpec spec = spec_v(1, 1);
  spec.model_id = std::string(33, 'x');
  EXPECT_ERROR(write_package(spec, {}, keys.secret_key), tinyforge::Error,
               "model id must be 1..32 characters");
  spec.model_id = "";
  EXPECT_ERROR(write_package(spec, {}, keys.secret_key), tinyforge::Error,
               "model id must be 1..32 characters");
  spec = spec_v(1, 1);
  spec.target = "tab\tted";
  EXPECT_ERROR(write_package(spec, {}, keys.secret_key), tinyforge::Error,
               "target must be printable ASCII");
}

TEST(OtaPackage, KeyFilesRoundTripAndRefuseOverwrite) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge_ota_keys_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string key = (dir / "k").string();
  const KeyPair a = generate_keypair();
  save_keypair(key, a, false);
  EXPECT_EQ((fs::status(key).permissions() & fs::perms::others_read), fs::perms::none);
  EXPECT_EQ(load_secret_key(key).secret_key, a.secret_key);
  EXPECT_EQ(load_public_key(key + ".pub"), a.public_key);
  const KeyPair b = generate_keypair();
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_ERROR(save_keypair(key, b, false), tinyforge::Error,
               "already exists (use --force to overwrite)");
  EXPECT_EQ(load_public_key(key + ".pub"), a.public_key);  // untouched
  save_keypair(key, b, true);
  EXPECT_EQ(load_public_key(key + ".pub"), b.public_key);
  EXPECT_ERROR(load_public_key(key), tinyforge::Error,
               "not a tinyforge-ed25519-public-v1 key file");  // a secret key is not a public key
  EXPECT_ERROR(load_secret_key(key + ".pub"), tinyforge::Error,
               "not a tinyforge-ed25519-secret-v1 key file");
  std::ofstream(dir / "short") << "tinyforge-ed25519-public-v1 abcd\n";
  EXPECT_ERROR(load_public_key((dir / "short").string()), tinyforge::Error,
               "expected 64 hex digits");
  EXPECT_ERROR(load_public_key((dir / "missing").string()), tinyforge::Error, "cannot open");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyforge::ota
