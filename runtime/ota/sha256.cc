// SHA-256 as specified in FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 5.3.3, 6.2).
// A 16-word rolling message schedule keeps the stack small. This hash runs over the whole
// payload, so its rounds are unrolled eight at a time (about 1 KiB more code, 2-3x faster
// on Cortex-M4 than one round per loop iteration).
#include "tinyforge/ota/sha256.h"

#include <cstring>

namespace tinyforge::ota {
namespace {

// FIPS 180-4 4.2.2: first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 5.3.3: first 32 bits of the fractional parts of the square roots of the first
// 8 primes.
constexpr uint32_t kInitial[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// One round of FIPS 180-4 6.2.2 step 3. Instead of shifting a..h each round, the caller
// rotates the argument order, so only d and h change here.
[[gnu::always_inline]] inline void round(uint32_t a, uint32_t b, uint32_t c, uint32_t& d,
                                         uint32_t e, uint32_t f, uint32_t g, uint32_t& h,
                                         uint32_t k_plus_w) {
  const uint32_t t1 =
      h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k_plus_w;
  const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
  d += t1;
  h = t1 + t2;
}

// The next 16 words of the message schedule (FIPS 180-4 6.2.2 step 1), in place: w holds
// W_{t-16} .. W_{t-1} and becomes W_t .. W_{t+15}. Updating in order is right because
// each word only needs words 2, 7, 15 and 16 positions back.
void expand(uint32_t w[16]) {
#pragma GCC unroll 16  // constant ring indices: half the instructions of the rolled loop
  for (int i = 0; i < 16; ++i) {
    const uint32_t w15 = w[(i + 1) & 15], w2 = w[(i + 14) & 15];
    w[i] += (rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)) + w[(i + 9) & 15] +
            (rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10));
  }
}

}  // namespace

void Sha256::reset() {
  std::memcpy(state_, kInitial, sizeof(state_));
  total_bytes_ = 0;
  block_used_ = 0;
}

void Sha256::compress(const uint8_t block[64]) {
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = load_be32(block + 4 * i);
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (int group = 0; group < 4; ++group) {
    if (group > 0) expand(w);
    const uint32_t* k = kRound + 16 * group;
    for (int i = 0; i < 16; i += 8) {
      round(a, b, c, d, e, f, g, h, k[i + 0] + w[i + 0]);
      round(h, a, b, c, d, e, f, g, k[i + 1] + w[i + 1]);
      round(g, h, a, b, c, d, e, f, k[i + 2] + w[i + 2]);
      round(f, g, h, a, b, c, d, e, k[i + 3] + w[i + 3]);
      round(e, f, g, h, a, b, c, d, k[i + 4] + w[i + 4]);
      round(d, e, f, g, h, a, b, c, k[i + 5] + w[i + 5]);
      round(c, d, e, f, g, h, a, b, k[i + 6] + w[i + 6]);
      round(b, c, d, e, f, g, h, a, k[i + 7] + w[i + 7]);
    }
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::update(const uint8_t* data, size_t size) {
  total_bytes_ += size;
  while (size > 0) {
    if (block_used_ == 0 && size >= 64) {  // whole blocks straight from the caller's buffer
      compress(data);
      data += 64;
      size -= 64;
      continue;
    }
    const size_t take = (64 - block_used_) < size ? (64 - block_used_) : size;
    std::memcpy(block_ + block_used_, data, take);
    block_used_ += static_cast<uint32_t>(take);
    data += take;
    size -= take;
    if (block_used_ == 64) {
      compress(block_);
      block_used_ = 0;
    }
  }
}

void Sha256::final(uint8_t digest[kSha256Bytes]) {
  // FIPS 180-4 5.1.1: append 0x80, zeros, then the message length in bits (64-bit BE).
  const uint64_t bits = total_bytes_ * 8;
  block_[block_used_++] = 0x80;
  if (block_used_ > 56) {
    std::memset(block_ + block_used_, 0, 64 - block_used_);
    compress(block_);
    block_used_ = 0;
  }
  std::memset(block_ + block_used_, 0, 56 - block_used_);
  for (int i = 0; i < 8; ++i) block_[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  compress(block_);
  for (int i = 0; i < 8; ++i) {
    digest[4 * i + 0] = static_cast<uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<uint8_t>(state_[i]);
  }
}

void sha256(const uint8_t* data, size_t size, uint8_t digest[kSha256Bytes]) {
  Sha256 h;
  h.update(data, size);
  h.final(digest);
}

}  // namespace tinyforge::ota
