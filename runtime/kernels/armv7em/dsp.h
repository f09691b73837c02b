// The few Armv7E-M DSP-extension instructions the armv7em kernels are written with, as
// inline functions: the instruction itself (ACLE, <arm_acle.h>) when the compiler targets
// a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33), and exact portable
// C elsewhere (the host, Cortex-M0+), so the same kernels run, and are tested bit for bit
// against the reference kernels, everywhere.
//
// Semantics (Arm Architecture Reference Manual, Armv7-M, A7.7 "Alphabetical list of
// instructions"): a "pair" is a 32-bit word read as two signed 16-bit lanes, lane 0 in bits
// 0..15. All 32-bit sums wrap modulo 2^32 as the hardware does (SMLAD only sets the sticky Q
// flag on overflow, which nothing here reads).
#pragma once
#include <cstdint>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define TINYFORGE_HAVE_DSP 1
#else
#define TINYFORGE_HAVE_DSP 0
#endif

// A function whose inline assembly allocates every register by hand, r7 included: the
// frame pointer must stay free even in unoptimized (-O0) builds.
#define TINYFORGE_ASM_FUNCTION __attribute__((optimize("omit-frame-pointer")))

namespace tinyforge::dsp {

// A pair from two 16-bit lanes (portable helpers; the DSP path never needs them).
inline uint32_t pair(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xFFFFu) | (static_cast<uint32_t>(hi) << 16);
}
inline int32_t lane0(uint32_t p) { return static_cast<int16_t>(p & 0xFFFFu); }
inline int32_t lane1(uint32_t p) { return static_cast<int16_t>(p >> 16); }

inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// Bytes 0 and 2 of x, sign-extended into lanes 0 and 1 (SXTB16).
inline uint32_t sxtb16(uint32_t x) {
#if TINYFORGE_HAVE_DSP
  return __sxtb16(x);
#else
  return pair(static_cast<int8_t>(x & 0xFF), static_cast<int8_t>((x >> 16) & 0xFF));
#endif
}

// Bytes 1 and 3 of x, sign-extended into lanes 0 and 1 (SXTB16 with ROR #8).
inline uint32_t sxtb16_ror8(uint32_t x) {
#if TINYFORGE_HAVE_DSP
  uint32_t r;
  asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
#else
  return pair(static_cast<int8_t>((x >> 8) & 0xFF), static_cast<int8_t>(x >> 24));
#endif
}

// a + sxtb16(x), lane by lane, each lane wrapping at 16 bits (SXTAB16).
inline uint32_t sxtab16(uint32_t a, uint32_t x) {
#if TINYFORGE_HAVE_DSP
  return __sxtab16(a, x);
#else
  const uint32_t e = sxtb16(x);
  return pair(lane0(a) + lane0(e), lane1(a) + lane1(e));
#endif
}

// a + sxtb16_ror8(x), lane by lane (SXTAB16 with ROR #8).
inline uint32_t sxtab16_ror8(uint32_t a, uint32_t x) {
#if TINYFORGE_HAVE_DSP
  uint32_t r;
  asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
#else
  const uint32_t e = sxtb16_ror8(x);
  return pair(lane0(a) + lane0(e), lane1(a) + lane1(e));
#endif
}

// acc + x.lane0 * y.lane0 + x.lane1 * y.lane1, wrapping (SMLAD).
inline int32_t smlad(uint32_t x, uint32_t y, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  return __smlad(x, y, acc);
#else
  // Each product fits int32 (|lane| <= 2^15); their sum may not, so add as unsigned.
  const uint32_t p0 = static_cast<uint32_t>(lane0(x) * lane0(y));
  const uint32_t p1 = static_cast<uint32_t>(lane1(x) * lane1(y));
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + p0 + p1);
#endif
}

// acc + x.lane0 * y.lane0 - x.lane1 * y.lane1 (SMLSD) and acc + x.lane0 * y.lane1 +
// x.lane1 * y.lane0 (SMLADX), wrapping: a complex product's real and imaginary parts.
inline int32_t smlsd(uint32_t x, uint32_t y, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  return __smlsd(x, y, acc);
#else
  const uint32_t p0 = static_cast<uint32_t>(lane0(x) * lane0(y));
  const uint32_t p1 = static_cast<uint32_t>(lane1(x) * lane1(y));
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + p0 - p1);
#endif
}
inline int32_t smladx(uint32_t x, uint32_t y, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  return __smladx(x, y, acc);
#else
  const uint32_t p0 = static_cast<uint32_t>(lane0(x) * lane1(y));
  const uint32_t p1 = static_cast<uint32_t>(lane1(x) * lane0(y));
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + p0 + p1);
#endif
}

// acc + x.lane0 * y.lane0 (SMLABB) and acc + x.lane1 * y.lane1 (SMLATT), wrapping.
inline int32_t smlabb(uint32_t x, uint32_t y, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  return __smlabb(x, y, acc);
#else
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(lane0(x) * lane0(y)));
#endif
}
inline int32_t smlabt(uint32_t x, uint32_t y, int32_t acc) {  // x.lane0 * y.lane1 (SMLABT)
#if TINYFORGE_HAVE_DSP
  return __smlabt(x, y, acc);
#else
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(lane0(x) * lane1(y)));
#endif
}
inline int32_t smlatt(uint32_t x, uint32_t y, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  return __smlatt(x, y, acc);
#else
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(lane1(x) * lane1(y)));
#endif
}

// Lane-wise 16-bit subtract, wrapping (SSUB16); and the exchanged forms: SASX gives
// (a.lane0 - b.lane1, a.lane1 + b.lane0), SSAX (a.lane0 + b.lane1, a.lane1 - b.lane0).
inline uint32_t ssub16(uint32_t a, uint32_t b) {
#if TINYFORGE_HAVE_DSP
  return __ssub16(a, b);
#else
  return pair(lane0(a) - lane0(b), lane1(a) - lane1(b));
#endif
}
inline uint32_t sasx(uint32_t a, uint32_t b) {
#if TINYFORGE_HAVE_DSP
  return __sasx(a, b);
#else
  return pair(lane0(a) - lane1(b), lane1(a) + lane0(b));
#endif
}
inline uint32_t ssax(uint32_t a, uint32_t b) {
#if TINYFORGE_HAVE_DSP
  return __ssax(a, b);
#else
  return pair(lane0(a) + lane1(b), lane1(a) - lane0(b));
#endif
}

// Four input bytes at byte steps: x advances by each byte of `steps` in turn (lowest
// first) and v[i] is the signed byte it reaches. On the DSP path the four addresses come
// first (UXTAB) and the four loads follow back to back, which the Cortex-M4 pipelines.
inline void load_stepped4(uintptr_t& x, uint32_t steps, int32_t v[4]) {
#if TINYFORGE_HAVE_DSP
  int32_t a0, a1, a2, a3;
  asm volatile(
      "uxtab %[a0], %[x], %[s]\n\t"
      "uxtab %[a1], %[a0], %[s], ror #8\n\t"
      "uxtab %[a2], %[a1], %[s], ror #16\n\t"
      "uxtab %[x], %[a2], %[s], ror #24\n\t"
      "ldrsb %[a0], [%[a0]]\n\t"
      "ldrsb %[a1], [%[a1]]\n\t"
      "ldrsb %[a2], [%[a2]]\n\t"
      "ldrsb %[a3], [%[x]]"
      : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "+r"(x)
      : [s] "r"(steps)
      : "memory");
  v[0] = a0, v[1] = a1, v[2] = a2, v[3] = a3;
#else
  for (int i = 0; i < 4; ++i, steps >>= 8) {
    x += steps & 0xFFu;
    v[i] = *reinterpret_cast<const int8_t*>(x);
  }
#endif
}

// Lane-wise 16-bit add, wrapping (SADD16; the GE flags it sets are not used).
inline uint32_t sadd16(uint32_t a, uint32_t b) {
#if TINYFORGE_HAVE_DSP
  return __sadd16(a, b);
#else
  return pair(lane0(a) + lane0(b), lane1(a) + lane1(b));
#endif
}

// x saturated to the signed range of `bits` bits (SSAT); bits is a compile-time constant.
template <int bits>
inline int32_t ssat(int32_t x) {
  static_assert(bits >= 1 && bits <= 32, "SSAT saturates to 1..32 bits");
#if TINYFORGE_HAVE_DSP
  return __ssat(x, bits);
#else
  constexpr int64_t hi = (int64_t{1} << (bits - 1)) - 1;
  constexpr int64_t lo = -(int64_t{1} << (bits - 1));
  return static_cast<int32_t>(x > hi ? hi : (x < lo ? lo : x));
#endif
}

// Saturating 32-bit add (QADD).
inline int32_t qadd(int32_t a, int32_t b) {
#if TINYFORGE_HAVE_DSP
  return __qadd(a, b);
#else
  const int64_t s = int64_t{a} + b;
  return static_cast<int32_t>(s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : s));
#endif
}

// (a * b + 2^31) >> 32: the rounded high word of the 64-bit product (SMMULR).
inline int32_t smmulr(int32_t a, int32_t b) {
#if TINYFORGE_HAVE_DSP
  int32_t r;
  asm("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return static_cast<int32_t>((int64_t{a} * b + (int64_t{1} << 31)) >> 32);
#endif
}

// acc + ((a * b + 2^31) >> 32), wrapping (SMMLAR: the accumulate costs nothing extra).
inline int32_t smmlar(int32_t a, int32_t b, int32_t acc) {
#if TINYFORGE_HAVE_DSP
  int32_t r;
  asm("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
#else
  return wrap_add(acc, smmulr(a, b));
#endif
}

// x >> (n & 0xFF), arithmetic, as ASR by a register: amounts of 32 and more give the sign
// fill (defined for any n, which the kernels read from constant data).
inline int32_t asr(int32_t x, int32_t n) {
#if TINYFORGE_HAVE_DSP
  int32_t r;
  asm("asr %0, %1, %2" : "=r"(r) : "r"(x), "r"(n));
  return r;
#else
  const uint32_t amount = static_cast<uint32_t>(n) & 0xFFu;
  return amount >= 32 ? (x < 0 ? -1 : 0) : (x >> amount);
#endif
}

// An int8 value in all 4 bytes of a word (bounds for SSUB8 + SEL clamps of 4 bytes at once).
inline uint32_t bytes4(int32_t v) { return static_cast<uint8_t>(v) * 0x01010101u; }

// 32-bit loads and stores at any alignment (int8 tensors are byte-aligned). Cortex-M4
// performs unaligned LDR/STR in hardware; memcpy compiles to exactly that.
inline uint32_t load32(const void* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);  // builtin: stays an inline load under -ffreestanding
  return v;
}
inline void store32(void* p, uint32_t v) { __builtin_memcpy(p, &v, 4); }

}  // namespace tinyforge::dsp
