// CRC-32 of the plan blob and the OTA state record against the published check values of
// CRC-32/ISO-HDLC (the zlib/PNG CRC: poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF):
// the writer and the reader share this function, so only fixed values show that it is the
// standard CRC other tools compute.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tinyforge/plan_format.h"

namespace tinyforge {
namespace {

uint32_t crc_of(const std::string& s) {
  return crc32(reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size()));
}

TEST(Crc32, PublishedCheckValues) {
  EXPECT_EQ(crc_of(""), 0x00000000u);
  EXPECT_EQ(crc_of("a"), 0xE8B7BE43u);
  EXPECT_EQ(crc_of("123456789"), 0xCBF43926u);  // the catalogue's "check" value
  EXPECT_EQ(crc_of("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(Crc32, ChainsAcrossPieces) {
  const std::string a = "12345", b = "6789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(b.data()), 4, crc_of(a)), 0xCBF43926u);
}

TEST(Crc32, PlanChecksumSkipsOnlyTheChecksumField) {
  std::vector<uint8_t> blob(100);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7 + 1);
  std::vector<uint8_t> without(blob);
  without.erase(without.begin() + 68, without.begin() + 72);
  const uint32_t want = crc32(without.data(), static_cast<uint32_t>(without.size()));
  EXPECT_EQ(plan_checksum(blob.data(), 100), want);
  blob[70] ^= 0xFF;  // inside the checksum field: ignored
  EXPECT_EQ(plan_checksum(blob.data(), 100), want);
  blob[72] ^= 0x01;  // the first byte after it: covered
  EXPECT_NE(plan_checksum(blob.data(), 100), want);
  blob[72] ^= 0x01;
  blob[67] ^= 0x01;  // the last byte before it: covered
  EXPECT_NE(plan_checksum(blob.data(), 100), want);
}

}  // namespace
}  // namespace tinyforge
