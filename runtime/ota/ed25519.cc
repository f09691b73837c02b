// Ed25519 verification: point decoding (RFC 8032 5.1.3), extended-coordinate addition and
// doubling for a = -1 (RFC 8032 5.1.4), a joint double-and-add (Shamir's trick) for
// [S]B + [k](-A), and the encoding comparison. Written for size; public data only, so
// variable time is fine.
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
constexpr Point kBase = {
    {{0x8f25d51a, 0xc9562d60, 0x9525a7b2, 0x692cc760, 0xfdd6dc5c, 0xc0a4e231, 0xcd6e53fe, 0x216936d3}},
    {{0x66666658, 0x66666666, 0x66666666, 0x66666666, 0x66666666, 0x66666666, 0x66666666, 0x66666666}},
    {{1, 0, 0, 0, 0, 0, 0, 0}},
    {{0xa5b7dda3, 0x6dde8ab3, 0x775152f5, 0x20f09f80, 0x64abe37d, 0x66ea4e8e, 0xd78b7665, 0x67875f0f}}};
constexpr Fe kOne = {{1, 0, 0, 0, 0, 0, 0, 0}};

// Group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 5.1).
constexpr uint32_t kL[8] = {0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de,
                            0x00000000, 0x00000000, 0x00000000, 0x10000000};

// y of the two order-8 points (the other small-order y values are 0, 1 and p-1).
constexpr uint8_t kOrder8Y[2][32] = {
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
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
  if (middle_zero) return y[0] <= 1;                  // 0, 1
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

// RFC 8032 5.1.4 addition (complete for edwards25519). r may alias p or q.
void point_add(Point& r, const Point& p, const Point& q) {
  Fe a, b, c, d, t;
  fe_sub(a, p.y, p.x);
  fe_sub(t, q.y, q.x);
  fe_mul(a, a, t);
  fe_add(b, p.y, p.x);
  fe_add(t, q.y, q.x);
  fe_mul(b, b, t);
  fe_mul(c, p.t, q.t);
  fe_mul(c, c, k2D);
  fe_mul(d, p.z, q.z);
  fe_add(d, d, d);
  Fe e, f, g, h;
  fe_sub(e, b, a);
  fe_sub(f, d, c);
  fe_add(g, d, c);
  fe_add(h, b, a);
  fe_mul(r.x, e, f);
  fe_mul(r.y, g, h);
  fe_mul(r.t, e, h);
  fe_mul(r.z, f, g);
}

// RFC 8032 5.1.4 doubling. r may alias p.
void point_double(Point& r, const Point& p) {
  Fe a, b, c, e, f, g, h;
  fe_mul(a, p.x, p.x);
  fe_mul(b, p.y, p.y);
  fe_mul(c, p.z, p.z);
  fe_add(c, c, c);
  fe_add(h, a, b);
  fe_add(e, p.x, p.y);
  fe_mul(e, e, e);
  fe_sub(e, h, e);
  fe_sub(g, a, b);
  fe_add(f, c, g);
  fe_mul(r.x, e, f);
  fe_mul(r.y, g, h);
  fe_mul(r.t, e, h);
  fe_mul(r.z, f, g);
}

// RFC 8032 5.1.3 decoding, then negation: out = -A. The caller has already rejected
// y >= p; false if no x exists (not on the curve) or x = 0 with the sign bit set.
bool decode_negated(Point& out, const uint8_t s[32]) {
  Fe y, u, v, v3, x, check;
  fe_from_bytes(y, s);
  y.w[7] &= 0x7fffffff;
  fe_mul(u, y, y);
  fe_mul(v, u, kD);
  fe_add(v, v, kOne);     // v = d y^2 + 1
  fe_sub(u, u, kOne);     // u = y^2 - 1
  fe_mul(v3, v, v);
  fe_mul(v3, v3, v);      // v^3
  fe_mul(x, v3, v3);
  fe_mul(x, x, v);
  fe_mul(x, x, u);        // u v^7
  fe_pow22523(x, x);      // (u v^7)^((p-5)/8)
  fe_mul(x, x, v3);
  fe_mul(x, x, u);        // candidate x = u v^3 (u v^7)^((p-5)/8)
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

bool bit_of(const uint32_t w[8], int i) { return (w[i >> 5] >> (i & 31)) & 1; }

// r = [s]B + [k]P for s, k < 2^253, by one shared chain of doublings.
void double_scalar_mul(Point& r, const uint32_t s[8], const Point& p, const uint32_t k[8]) {
  Point table[3];  // B, P, B + P, indexed by (s bit) | (k bit) << 1, minus one
  table[0] = kBase;
  table[1] = p;
  point_add(table[2], kBase, p);
  r = Point{{}, kOne, kOne, {}};  // neutral element (0, 1, 1, 0)
  bool started = false;
  for (int i = 252; i >= 0; --i) {
    if (started) point_double(r, r);
    const int idx = static_cast<int>(bit_of(s, i)) | (static_cast<int>(bit_of(k, i)) << 1);
    if (idx != 0) {
      point_add(r, r, table[idx - 1]);
      started = true;
    }
  }
}

void encode(uint8_t out[32], const Point& p) {
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

  uint8_t digest[kSha512Bytes];
  Sha512 hash;
  hash.update(r_bytes, 32);
  hash.update(public_key, 32);
  hash.update(message, size);
  hash.final(digest);
  uint32_t k[8];
  reduce_mod_l(k, digest);

  Point r;
  double_scalar_mul(r, s, neg_a, k);
  uint8_t check[32];
  encode(check, r);
  return std::memcmp(check, r_bytes, 32) == 0;
}

}  // namespace tinyforge::ota
