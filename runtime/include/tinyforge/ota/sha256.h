// SHA-256 (FIPS 180-4), streaming. Freestanding: no heap, fixed 108-byte state, no
// dynamic stack use. Feed any number of update() calls of any size, then final().
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinyforge::ota {

constexpr size_t kSha256Bytes = 32;

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const uint8_t* data, size_t size);
  // Writes the digest; the object must be reset() before it is used again.
  void final(uint8_t digest[kSha256Bytes]);

 private:
  void compress(const uint8_t block[64]);
  uint32_t state_[8];
  uint64_t total_bytes_;
  uint8_t block_[64];
  uint32_t block_used_;
};

// One-shot convenience.
void sha256(const uint8_t* data, size_t size, uint8_t digest[kSha256Bytes]);

}  // namespace tinyforge::ota
