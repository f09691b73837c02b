// GF(2^255 - 19) with eight 32-bit limbs; see fe25519.h. Reduction uses 2^256 = 38 (mod p).
#include "ota/fe25519.h"

#include <cstring>

namespace tinyforge::ota {
namespace {

// w += carry * 2^256, folded back as carry * 38 until nothing is left over.
void fold_carry(uint32_t w[8], uint64_t carry) {
  while (carry != 0) {
    uint64_t c = carry * 38;
    for (int i = 0; i < 8 && c != 0; ++i) {
      c += w[i];
      w[i] = static_cast<uint32_t>(c);
      c >>= 32;
    }
    carry = c;
  }
}

}  // namespace

void fe_add(Fe& r, const Fe& a, const Fe& b) {
  uint64_t c = 0;
  for (int i = 0; i < 8; ++i) {
    c += uint64_t{a.w[i]} + b.w[i];
    r.w[i] = static_cast<uint32_t>(c);
    c >>= 32;
  }
  fold_carry(r.w, c);
}

void fe_sub(Fe& r, const Fe& a, const Fe& b) {
  uint32_t borrow = 0;
  for (int i = 0; i < 8; ++i) {
    const uint64_t d = uint64_t{a.w[i]} - b.w[i] - borrow;
    r.w[i] = static_cast<uint32_t>(d);
    borrow = static_cast<uint32_t>(d >> 63);
  }
  // A borrow means r = a - b + 2^256 = a - b + 38 (mod p): take 38 away again, as often
  // as that itself wraps (at most twice).
  while (borrow != 0) {
    uint32_t sub = 38;
    borrow = 0;
    for (int i = 0; i < 8; ++i) {
      const uint64_t d = uint64_t{r.w[i]} - sub;
      r.w[i] = static_cast<uint32_t>(d);
      sub = static_cast<uint32_t>(d >> 63);
      if (sub == 0) break;
    }
    borrow = sub;
  }
}

namespace {

// r = t mod p for a 512-bit t, partly: r < 2^256 (t_hi * 2^256 = t_hi * 38).
void reduce_wide(Fe& r, const uint32_t t[16]) {
  uint64_t c = 0;
  for (int i = 0; i < 8; ++i) {
    c += uint64_t{t[i + 8]} * 38 + t[i];
    r.w[i] = static_cast<uint32_t>(c);
    c >>= 32;
  }
  fold_carry(r.w, c);
}

}  // namespace

void fe_mul(Fe& r, const Fe& a, const Fe& b) {
  uint32_t t[16] = {};
  for (int i = 0; i < 8; ++i) {
    uint64_t c = 0;  // a*b + t + c <= 2^64 - 1: never overflows
    for (int j = 0; j < 8; ++j) {
      c += uint64_t{a.w[i]} * b.w[j] + t[i + j];
      t[i + j] = static_cast<uint32_t>(c);
      c >>= 32;
    }
    t[i + 8] = static_cast<uint32_t>(c);
  }
  reduce_wide(r, t);
}

// Squaring: each cross product a_i a_j (i < j) once, doubled, plus the squares a_i^2:
// 36 multiplications instead of 64.
void fe_sq(Fe& r, const Fe& a) {
  uint32_t t[16] = {};
  for (int i = 0; i < 7; ++i) {
    uint64_t c = 0;
    for (int j = i + 1; j < 8; ++j) {
      c += uint64_t{a.w[i]} * a.w[j] + t[i + j];
      t[i + j] = static_cast<uint32_t>(c);
      c >>= 32;
    }
    t[i + 8] = static_cast<uint32_t>(c);
  }
  for (int i = 15; i > 0; --i) t[i] = (t[i] << 1) | (t[i - 1] >> 31);  // cross terms < 2^511
  t[0] <<= 1;
  uint64_t c = 0;
  for (int i = 0; i < 8; ++i) {
    const uint64_t sq = uint64_t{a.w[i]} * a.w[i];
    c += uint64_t{t[2 * i]} + static_cast<uint32_t>(sq);
    t[2 * i] = static_cast<uint32_t>(c);
    c >>= 32;
    c += uint64_t{t[2 * i + 1]} + (sq >> 32);
    t[2 * i + 1] = static_cast<uint32_t>(c);
    c >>= 32;
  }
  reduce_wide(r, t);
}

void fe_sq_n(Fe& r, const Fe& a, int n) {
  fe_sq(r, a);
  for (int i = 1; i < n; ++i) fe_sq(r, r);
}

void fe_reduce(Fe& r) {
  // Fold bit 255 (2^255 = 19 mod p): the value is now below 2^255 + 19 < 2p.
  const uint32_t top = r.w[7] >> 31;
  r.w[7] &= 0x7fffffff;
  uint64_t c = uint64_t{19} * top;
  for (int i = 0; i < 8; ++i) {
    c += r.w[i];
    r.w[i] = static_cast<uint32_t>(c);
    c >>= 32;
  }
  // value >= p exactly when value + 19 reaches 2^255; then value - p = value + 19 - 2^255.
  Fe s;
  c = 19;
  for (int i = 0; i < 8; ++i) {
    c += r.w[i];
    s.w[i] = static_cast<uint32_t>(c);
    c >>= 32;
  }
  if (s.w[7] >> 31) {
    s.w[7] &= 0x7fffffff;
    r = s;
  }
}

bool fe_is_zero(const Fe& a) {
  Fe t = a;
  fe_reduce(t);
  uint32_t any = 0;
  for (uint32_t w : t.w) any |= w;
  return any == 0;
}

bool fe_is_odd(const Fe& a) {
  Fe t = a;
  fe_reduce(t);
  return (t.w[0] & 1) != 0;
}

bool fe_equal(const Fe& a, const Fe& b) {
  Fe d;
  fe_sub(d, a, b);
  return fe_is_zero(d);
}

void fe_from_bytes(Fe& r, const uint8_t s[32]) {
  for (int i = 0; i < 8; ++i) {
    r.w[i] = uint32_t{s[4 * i]} | (uint32_t{s[4 * i + 1]} << 8) | (uint32_t{s[4 * i + 2]} << 16) |
             (uint32_t{s[4 * i + 3]} << 24);
  }
}

void fe_to_bytes(uint8_t s[32], const Fe& a) {
  Fe t = a;
  fe_reduce(t);
  for (int i = 0; i < 32; ++i) s[i] = static_cast<uint8_t>(t.w[i / 4] >> (8 * (i % 4)));
}

namespace {

// z^(2^250 - 1), and z^11 on the side: the shared prefix of the two addition chains below
// (the usual chain for p = 2^255 - 19: 250 squarings and 11 multiplications).
void pow_2_250_1(Fe& out, Fe& z11, const Fe& z) {
  Fe z2, z9, a, b, t;
  fe_sq_n(z2, z, 1);    // z^2
  fe_sq_n(t, z2, 2);    // z^8
  fe_mul(z9, t, z);     // z^9
  fe_mul(z11, z9, z2);  // z^11
  fe_sq_n(t, z11, 1);   // z^22
  fe_mul(a, t, z9);     // a = z^(2^5 - 1)
  fe_sq_n(t, a, 5);
  fe_mul(a, t, a);  // a = z^(2^10 - 1)
  fe_sq_n(t, a, 10);
  fe_mul(b, t, a);  // b = z^(2^20 - 1)
  fe_sq_n(t, b, 20);
  fe_mul(t, t, b);  // z^(2^40 - 1)
  fe_sq_n(t, t, 10);
  fe_mul(a, t, a);  // a = z^(2^50 - 1)
  fe_sq_n(t, a, 50);
  fe_mul(b, t, a);  // b = z^(2^100 - 1)
  fe_sq_n(t, b, 100);
  fe_mul(t, t, b);  // z^(2^200 - 1)
  fe_sq_n(t, t, 50);
  fe_mul(out, t, a);  // z^(2^250 - 1)
}

}  // namespace

void fe_invert(Fe& r, const Fe& z) {
  Fe t, z11;
  pow_2_250_1(t, z11, z);
  fe_sq_n(t, t, 5);
  fe_mul(r, t, z11);  // (2^250 - 1) * 2^5 + 11 = 2^255 - 21 = p - 2
}

void fe_pow22523(Fe& r, const Fe& z) {
  Fe t, z11;
  pow_2_250_1(t, z11, z);
  fe_sq_n(t, t, 2);
  fe_mul(r, t, z);  // (2^250 - 1) * 4 + 1 = 2^252 - 3 = (p - 5) / 8
}

}  // namespace tinyforge::ota
