// parse_manifest on records that end exactly at the manifest's end or run past it: a record
// header whose value would lie beyond the manifest is refused (truncated), even by a few
// bytes, and the same record with its value present is accepted (an unknown optional record
// is skipped). The manifest is handed over in a buffer of exactly its size, so a read past
// it is also an ASan report.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "ota/package_writer.h"
#include "runtime/ota/testing/ota_test_device.h"
#include "tinyforge/ota/package.h"

namespace tinyforge::ota {
namespace {

std::vector<uint8_t> valid_manifest() {
  const std::vector<uint8_t> pkg =
      testing::make_package(testing::test_payload(64, 1), {1, 2, 3}, 4, testing::test_keys());
  uint32_t manifest_size = 0;
  EXPECT_EQ(parse_package_header(pkg.data(), pkg.size(), &manifest_size), Status::ok);
  return std::vector<uint8_t>(pkg.begin() + kPackageHeaderBytes,
                              pkg.begin() + kPackageHeaderBytes + manifest_size);
}

Status parse_exact(const std::vector<uint8_t>& manifest) {
  std::unique_ptr<uint8_t[]> exact(new uint8_t[manifest.size()]);
  std::memcpy(exact.get(), manifest.data(), manifest.size());
  Manifest m;
  return parse_manifest(exact.get(), static_cast<uint32_t>(manifest.size()), &m);
}

void append_record_header(std::vector<uint8_t>& m, uint16_t type, uint16_t length) {
  const uint8_t h[4] = {static_cast<uint8_t>(type), static_cast<uint8_t>(type >> 8),
                        static_cast<uint8_t>(length), static_cast<uint8_t>(length >> 8)};
  m.insert(m.end(), h, h + 4);
}

TEST(OtaManifestBounds, RecordValueMustLieInsideTheManifest) {
  const std::vector<uint8_t> base = valid_manifest();
  ASSERT_EQ(parse_exact(base), Status::ok);
  constexpr uint16_t kUnknownOptional = 0x0100;

  std::vector<uint8_t> whole = base;
  append_record_header(whole, kUnknownOptional, 4);
  whole.insert(whole.end(), 4, 0);
  EXPECT_EQ(parse_exact(whole), Status::ok);  // skipped by rule

  std::vector<uint8_t> header_only = base;  // its 4 value bytes are missing
  append_record_header(header_only, kUnknownOptional, 4);
  EXPECT_EQ(parse_exact(header_only), Status::truncated);

  std::vector<uint8_t> short_value = base;  // 8 announced, 4 present
  append_record_header(short_value, kUnknownOptional, 8);
  short_value.insert(short_value.end(), 4, 0);
  EXPECT_EQ(parse_exact(short_value), Status::truncated);

  std::vector<uint8_t> half_header = base;  // a record header cut in two
  half_header.insert(half_header.end(), {0x00, 0x01});
  half_header.insert(half_header.end(), {0x00, 0x00});  // keeps the size a multiple of 4
  EXPECT_EQ(parse_exact(half_header), Status::ok);      // a complete empty record
  half_header.resize(half_header.size() - 2);
  EXPECT_EQ(parse_exact(half_header), Status::truncated);
}

}  // namespace
}  // namespace tinyforge::ota
