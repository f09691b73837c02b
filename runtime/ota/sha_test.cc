// SHA-256 / SHA-512: FIPS 180-4 example vectors and a cross-check against libsodium on
// random messages fed in random chunk sizes.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tinyforge/ota/sha256.h"
#include "tinyforge/ota/sha512.h"

namespace tinyforge::ota {
namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string sha256_hex(const std::string& m) {
  uint8_t d[32];
  sha256(reinterpret_cast<const uint8_t*>(m.data()), m.size(), d);
  return hex(d, 32);
}

std::string sha512_hex(const std::string& m) {
  uint8_t d[64];
  sha512(reinterpret_cast<const uint8_t*>(m.data()), m.size(), d);
  return hex(d, 64);
}

// FIPS 180-4 examples (NIST CSRC "Examples with intermediate values"): "abc", the two-block
// messages, the empty message and one million 'a'.
TEST(OtaSha256, FipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(OtaSha512, FipsVectors) {
  EXPECT_EQ(sha512_hex(""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(sha512_hex("abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(sha512_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  EXPECT_EQ(sha512_hex(std::string(1000000, 'a')),
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
            "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

// Every padding boundary (55/56/64 and 111/112/128 bytes) and random chunking, against
// libsodium's implementations.
TEST(OtaSha, MatchesLibsodiumOnRandomMessagesAndChunks) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t size = trial < 300 ? static_cast<size_t>(trial) : rng() % 5000;
    std::vector<uint8_t> m(size);
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    Sha256 h256;
    Sha512 h512;
    for (size_t at = 0; at < size;) {
      const size_t chunk = std::min<size_t>(size - at, 1 + rng() % 200);
      h256.update(m.data() + at, chunk);
      h512.update(m.data() + at, chunk);
      at += chunk;
    }
    uint8_t ours256[32], ours512[64], ref256[32], ref512[64];
    h256.final(ours256);
    h512.final(ours512);
    crypto_hash_sha256(ref256, m.data(), m.size());
    crypto_hash_sha512(ref512, m.data(), m.size());
    ASSERT_EQ(0, std::memcmp(ours256, ref256, 32)) << "sha256 size " << size;
    ASSERT_EQ(0, std::memcmp(ours512, ref512, 64)) << "sha512 size " << size;
  }
}

TEST(OtaSha, ResetStartsOver) {
  Sha256 h;
  const uint8_t junk[3] = {1, 2, 3};
  h.update(junk, 3);
  h.reset();
  h.update(reinterpret_cast<const uint8_t*>("abc"), 3);
  uint8_t d[32];
  h.final(d);
  EXPECT_EQ(hex(d, 32), sha256_hex("abc"));
}

}  // namespace
}  // namespace tinyforge::ota
