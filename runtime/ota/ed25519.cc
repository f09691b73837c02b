// Ed25519 verification: point decoding (RFC 8032 5.1.3), extended-coordinate addition and
// doubling for a = -1 (RFC 8032 5.1.4), one shared chain of doublings with signed 4-bit
// windows for [S]B + [k](-A), and the encoding comparison. Public data only, so variable
// time is fine; written for size first, then for the doublings that dominate the time.
#include "tinyforge/ota/ed25519.h"

#include <cstring>

#include "ota/fe25519.h"
#include "tinyforge/ota/sha512.h"

namespace tinyforge::ota {
namespace {

struct Point {  // extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z
  Fe x, y, z, t;
};

// Curve constants as little-endian 32-bit words (computed from RFC 8032 5.1: d =
// -121665/121666, sqrt(-1) = 2^((p-1)/4), B = (x, 4/5) with x even).
constexpr Fe kD = {{0x135978a3, 0x75eb4dca, 0x4141d8ab, 0x00700a4d, 0x7779e898, 0x8cc74079,
                    0x2b6ffe73, 0x52036cee}};
constexpr Fe k2D = {{0x26b2f159, 0xebd69b94, 0x8283b156, 0x00e0149a, 0xeef3d130, 0x198e80f2,
                     0x56dffce7, 0x2406d9dc}};
constexpr Fe kSqrtM1 = {{0x4a0ea0b0, 0xc4ee1b27, 0xad2fe478, 0x2f431806, 0x3dfbd7a7, 0x2b4d0099,
                         0x4fc1df0b, 0x2b832480}};
constexpr Point kBase = {{{0x8f25d51a, 0xc9562d60, 0x9525a7b2, 0x692cc760, 0xfdd6dc5c, 0xc0a4e231,
                           0xcd6e53fe, 0x216936d3}},
                         {{0x66666658, 0x66666666, 0x66666666, 0x66666666, 0x66666666, 0x66666666,
                           0x66666666, 0x66666666}},
                         {{1, 0, 0, 0, 0, 0, 0, 0}},
                         {{0xa5b7dda3, 0x6dde8ab3, 0x775152f5, 0x20f09f80, 0x64abe37d, 0x66ea4e8e,
                           0xd78b7665, 0x67875f0f}}};
constexpr Fe kOne = {{1, 0, 0, 0, 0, 0, 0, 0}};

// Group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 5.1).
constexpr uint32_t kL[8] = {0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de,
                            0x00000000, 0x00000000, 0x00000000, 0x10000000};

// y of the two order-8 points (the other small-order y values are 0, 1 and p-1).
constexpr uint8_t kOrder8Y[2][32] = {
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

void load_words(uint32_t w[8], const uint8_t s[32]) {
  for (int i = 0; i < 8; ++i) {
    w[i] = uint32_t{s[4 * i]} | (uint32_t{s[4 * i + 1]} << 8) | (uint32_t{s[4 * i + 2]} << 16) |
           (uint32_t{s[4 * i + 3]} << 24);
  }
}

bool less_than_l(const uint32_t w[8]) {
  for (int i = 7; i >= 0; --i) {
    if (w[i] != kL[i]) return w[i] < kL[i];
  }
  return false;
}

// The small-order blacklist of libsodium 1.0.18 (ge25519_has_small_order), sign bit ignored:
// y in {0, 1, p-1, p, p+1} or y of an order-8 point.
bool has_small_order(const uint8_t s[32]) {
  uint8_t y[32];
  std::memcpy(y, s, 32);
  y[31] &= 0x7f;
  for (const auto& bad : kOrder8Y)
    if (std::memcmp(y, bad, 32) == 0) return true;
  bool middle_zero = y[31] == 0, middle_ones = y[31] == 0x7f;
  for (int i = 1; i < 31; ++i) {
    middle_zero = middle_zero && y[i] == 0;
    middle_ones = middle_ones && y[i] == 0xff;
  }
  if (middle_zero) return y[0] <= 1;                     // 0, 1
  if (middle_ones) return y[0] >= 0xec && y[0] <= 0xee;  // p-1, p, p+1
  return false;
}

// y < p, i.e. not (bits 8..254 all ones and low byte >= 0xed).
bool is_canonical_y(const uint8_t s[32]) {
  if ((s[31] & 0x7f) != 0x7f || s[0] < 0xed) return true;
  for (int i = 1; i < 31; ++i)
    if (s[i] != 0xff) return true;
  return false;
}

// k = h mod L for a 512-bit little-endian h, by binary long division (512 shift/subtract
// steps: slow next to the point arithmetic only in theory, and very small).
void reduce_mod_l(uint32_t k[8], const uint8_t h[64]) {
  std::memset(k, 0, 8 * sizeof(uint32_t));
  for (int bit = 511; bit >= 0; --bit) {
    uint32_t carry = (h[bit >> 3] >> (bit & 7)) & 1;
    for (int i = 0; i < 8; ++i) {  // k = 2k + bit; k < L < 2^253 so this cannot overflow
      const uint32_t out = k[i] >> 31;
      k[i] = (k[i] << 1) | carry;
      carry = out;
    }
    if (!less_than_l(k)) {
      uint32_t borrow = 0;
      for (int i = 0; i < 8; ++i) {
        const uint64_t d = uint64_t{k[i]} - kL[i] - borrow;
        k[i] = static_cast<uint32_t>(d);
        borrow = static_cast<uint32_t>(d >> 63);
      }
    }
  }
}

// A point prepared for repeated addition: (Y + X, Y - X, 2Z, 2dT).
struct Cached {
  Fe y_plus_x, y_minus_x, z2, t2d;
};

void to_cached(Cached& c, const Point& p) {
  fe_add(c.y_plus_x, p.y, p.x);
  fe_sub(c.y_minus_x, p.y, p.x);
  fe_add(c.z2, p.z, p.z);
  fe_mul(c.t2d, p.t, k2D);
}

// r = p + q, or p - q when `subtract` (-q swaps Y+X with Y-X and negates T). The RFC 8032
// 5.1.4 addition formulas (complete on edwards25519) with q's factors precomputed; five
// temporaries instead of eight keep the frame small. r may alias p.
void add_cached(Point& r, const Point& p, const Cached& q, bool subtract) {
  Fe a, b, c, d, t;
  fe_sub(a, p.y, p.x);
  fe_mul(a, a, subtract ? q.y_plus_x : q.y_minus_x);  // A
  fe_add(b, p.y, p.x);
  fe_mul(b, b, subtract ? q.y_minus_x : q.y_plus_x);  // B
  fe_mul(c, p.t, q.t2d);                              // C (negated when subtracting)
  fe_mul(d, p.z, q.z2);                               // D
  fe_sub(t, b, a);                                    // E = B - A
  fe_add(b, b, a);                                    // H = B + A
  if (subtract) {
    fe_add(a, d, c);  // F = D - (-C)
    fe_sub(d, d, c);  // G = D + (-C)
  } else {
    fe_sub(a, d, c);  // F = D - C
    fe_add(d, d, c);  // G = D + C
  }
  fe_mul(r.x, t, a);  // E F
  fe_mul(r.y, d, b);  // G H
  fe_mul(r.t, t, b);  // E H
  fe_mul(r.z, a, d);  // F G
}

// RFC 8032 5.1.4 doubling. T is not an input of doubling, so it is only computed when an
// addition comes next. r may alias p.
void point_double(Point& r, const Point& p, bool need_t) {
  Fe a, b, c, e, h;
  fe_sq(a, p.x);  // A = X^2
  fe_sq(b, p.y);  // B = Y^2
  fe_sq(c, p.z);
  fe_add(c, c, c);  // C = 2 Z^2
  fe_add(e, p.x, p.y);
  fe_sq(e, e);        // (X + Y)^2
  fe_add(h, a, b);    // H = A + B
  fe_sub(e, h, e);    // E = H - (X + Y)^2
  fe_sub(a, a, b);    // G = A - B
  fe_add(c, c, a);    // F = C + G
  fe_mul(r.x, e, c);  // E F
  fe_mul(r.y, a, h);  // G H
  if (need_t) fe_mul(r.t, e, h);
  fe_mul(r.z, c, a);  // F G
}

// RFC 8032 5.1.3 decoding, then negation: out = -A. The caller has already rejected
// y >= p; false if no x exists (not on the curve) or x = 0 with the sign bit set.
[[gnu::noinline]] bool decode_negated(Point& out, const uint8_t s[32]) {
  Fe y, u, v, v3, x, check;
  fe_from_bytes(y, s);
  y.w[7] &= 0x7fffffff;
  fe_mul(u, y, y);
  fe_mul(v, u, kD);
  fe_add(v, v, kOne);  // v = d y^2 + 1
  fe_sub(u, u, kOne);  // u = y^2 - 1
  fe_mul(v3, v, v);
  fe_mul(v3, v3, v);  // v^3
  fe_mul(x, v3, v3);
  fe_mul(x, x, v);
  fe_mul(x, x, u);    // u v^7
  fe_pow22523(x, x);  // (u v^7)^((p-5)/8)
  fe_mul(x, x, v3);
  fe_mul(x, x, u);  // candidate x = u v^3 (u v^7)^((p-5)/8)
  fe_mul(check, x, x);
  fe_mul(check, check, v);  // v x^2
  if (!fe_equal(check, u)) {
    fe_add(check, check, u);
    if (!fe_is_zero(check)) return false;  // v x^2 = -u: x needs a factor sqrt(-1)
    fe_mul(x, x, kSqrtM1);
  }
  const bool sign = (s[31] >> 7) != 0;
  if (fe_is_zero(x) && sign) return false;
  // Choose the root with the requested sign, then negate: both at once.
  if (fe_is_odd(x) == sign) fe_sub(x, Fe{}, x);
  out.x = x;
  out.y = y;
  out.z = kOne;
  fe_mul(out.t, x, y);
  return true;
}

// Signed-digit (width-w NAF) form of k < 2^253: k = sum d_i 2^i with every d_i zero or
// odd in (-2^(w-1), 2^(w-1)), and no two non-zero digits closer than w positions. Digits
// are stored two per byte (4-bit two's complement) to halve the stack they take.
constexpr int kWindow = 4;  // digits in {+-1, +-3, +-5, +-7}: tables of 4 points
void to_naf(uint8_t digits[128], const uint32_t k[8]) {
  uint32_t v[9];
  for (int i = 0; i < 8; ++i) v[i] = k[i];
  v[8] = 0;
  std::memset(digits, 0, 128);
  for (int i = 0; i < 256; ++i) {
    int d = 0;
    if (v[0] & 1) {
      d = static_cast<int>(v[0] & ((1u << kWindow) - 1));
      if (d >= (1 << (kWindow - 1))) d -= 1 << kWindow;
      // v -= d clears the low w bits: a borrow (d > 0) or a carry (d < 0) ripples up.
      uint32_t delta = static_cast<uint32_t>(d > 0 ? d : -d);
      for (int j = 0; j < 9 && delta != 0; ++j) {
        const uint32_t before = v[j];
        v[j] = d > 0 ? before - delta : before + delta;
        delta = d > 0 ? (v[j] > before) : (v[j] < before);
      }
    }
    digits[i / 2] |= static_cast<uint8_t>((d & 15) << (4 * (i % 2)));
    for (int j = 0; j < 8; ++j) v[j] = (v[j] >> 1) | (v[j + 1] << 31);
    v[8] >>= 1;
  }
}

int naf_digit(const uint8_t digits[128], int i) {
  const int nibble = (digits[i / 2] >> (4 * (i % 2))) & 15;
  return nibble >= 8 ? nibble - 16 : nibble;
}

// table[i] = (2i + 1) p for i = 0..3; table[3] holds 2p until it is overwritten last.
void odd_multiples(Cached table[4], const Point& p) {
  Point acc;
  point_double(acc, p, true);
  to_cached(table[3], acc);
  to_cached(table[0], p);
  acc = p;
  for (int i = 1; i < 4; ++i) {
    add_cached(acc, acc, table[3], false);
    to_cached(table[i], acc);
  }
}

void apply_digit(Point& r, const Cached table[4], int d) {
  if (d > 0) add_cached(r, r, table[d / 2], false);
  if (d < 0) add_cached(r, r, table[-d / 2], true);
}

// r = [s]B + [k]P for s, k < 2^253: one shared chain of doublings, signed windows.
[[gnu::noinline]] void double_scalar_mul(Point& r, const uint32_t s[8], const Point& p,
                                         const uint32_t k[8]) {
  uint8_t ds[128], dk[128];
  to_naf(ds, s);
  to_naf(dk, k);
  Cached tb[4], tp[4];
  odd_multiples(tb, kBase);
  odd_multiples(tp, p);
  r = Point{{}, kOne, kOne, {}};  // neutral element (0, 1, 1, 0)
  int i = 255;
  while (i >= 0 && naf_digit(ds, i) == 0 && naf_digit(dk, i) == 0) --i;
  for (bool first = true; i >= 0; --i, first = false) {
    const int a = naf_digit(ds, i), b = naf_digit(dk, i);
    if (!first) point_double(r, r, a != 0 || b != 0);
    apply_digit(r, tb, a);
    apply_digit(r, tp, b);
  }
}

// k = SHA-512(R || A || M) mod L. Kept out of line so the hash state's stack frame is
// gone before the scalar multiplication builds its tables.
[[gnu::noinline]] void challenge(uint32_t k[8], const uint8_t r[32], const uint8_t a[32],
                                 const uint8_t* message, size_t size) {
  uint8_t digest[kSha512Bytes];
  Sha512 hash;
  hash.update(r, 32);
  hash.update(a, 32);
  hash.update(message, size);
  hash.final(digest);
  reduce_mod_l(k, digest);
}

[[gnu::noinline]] void encode(uint8_t out[32], const Point& p) {
  Fe zinv, x, y;
  fe_invert(zinv, p.z);
  fe_mul(x, p.x, zinv);
  fe_mul(y, p.y, zinv);
  fe_to_bytes(out, y);
  if (fe_is_odd(x)) out[31] |= 0x80;
}

}  // namespace

bool ed25519_verify(const uint8_t signature[kEd25519SignatureBytes], const uint8_t* message,
                    size_t size, const uint8_t public_key[kEd25519PublicKeyBytes]) {
  const uint8_t* r_bytes = signature;
  uint32_t s[8];
  load_words(s, signature + 32);
  if (!less_than_l(s)) return false;  // non-canonical S (malleability)
  if (has_small_order(r_bytes)) return false;
  if (!is_canonical_y(public_key) || has_small_order(public_key)) return false;
  Point neg_a;
  if (!decode_negated(neg_a, public_key)) return false;

  uint32_t k[8];
  challenge(k, r_bytes, public_key, message, size);

  Point r;
  double_scalar_mul(r, s, neg_a, k);
  uint8_t check[32];
  encode(check, r);
  return std::memcmp(check, r_bytes, 32) == 0;
}

}  // namespace tinyforge::ota
