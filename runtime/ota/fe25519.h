// Arithmetic in GF(2^255 - 19) for Ed25519 verification (internal to runtime/ota).
//
// An element is eight 32-bit little-endian words holding any value in [0, 2^256); it is
// congruent to the field element, not necessarily reduced. Every operation accepts and
// returns that form; fe_reduce() gives the unique representative in [0, p) for encoding
// and comparison. Verification handles only public data, so nothing here needs to run in
// constant time; the code is written for size (loops, no unrolling).
#pragma once
#include <cstdint>

namespace tinyforge::ota {

struct Fe {
  uint32_t w[8];
};

void fe_add(Fe& r, const Fe& a, const Fe& b);
void fe_sub(Fe& r, const Fe& a, const Fe& b);
void fe_mul(Fe& r, const Fe& a, const Fe& b);  // r may alias a or b
void fe_sq(Fe& r, const Fe& a);                // r may alias a
void fe_sq_n(Fe& r, const Fe& a, int n);       // r = a^(2^n), n >= 1
void fe_reduce(Fe& r);                         // r into [0, p)
bool fe_is_zero(const Fe& a);
bool fe_is_odd(const Fe& a);  // low bit of the reduced value ("negative")
bool fe_equal(const Fe& a, const Fe& b);
void fe_from_bytes(Fe& r, const uint8_t s[32]);  // all 256 bits, caller masks bit 255
void fe_to_bytes(uint8_t s[32], const Fe& a);    // reduced
void fe_invert(Fe& r, const Fe& z);              // z^(p-2)
void fe_pow22523(Fe& r, const Fe& z);            // z^((p-5)/8), for square roots

}  // namespace tinyforge::ota
