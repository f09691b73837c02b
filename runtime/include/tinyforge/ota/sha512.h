// SHA-512 (FIPS 180-4), streaming; used by Ed25519 verification. Freestanding: no heap,
// fixed 208-byte state, no dynamic stack use.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinyforge::ota {

constexpr size_t kSha512Bytes = 64;

class Sha512 {
 public:
  Sha512() { reset(); }
  void reset();
  void update(const uint8_t* data, size_t size);
  // Writes the digest; the object must be reset() before it is used again.
  void final(uint8_t digest[kSha512Bytes]);

 private:
  void compress(const uint8_t block[128]);
  uint64_t state_[8];
  uint64_t total_bytes_;  // the 128-bit bit length of 5.1.2 is derived from this byte count
  uint8_t block_[128];
  uint32_t block_used_;
};

void sha512(const uint8_t* data, size_t size, uint8_t digest[kSha512Bytes]);

}  // namespace tinyforge::ota
