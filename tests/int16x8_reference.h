// TFLite's integer arithmetic as the 16x8 tests' references use it, written here from its
// published definitions (independent of the runtime's fixed_point.h, which it checks):
// - QuantizeMultiplier (tensorflow/lite/kernels/internal/quantization_util.cc): frexp, the
//   fraction rounded to Q31 (a fraction rounding to 2^31 halves it, exponent + 1);
// - SaturatingRoundingDoublingHighMul and RoundingDivideByPOT (gemmlowp fixedpoint.h), and
//   MultiplyByQuantizedMultiplier built from them (kernels/internal/common.h);
// - MultiplyByQuantizedMultiplier's int64 overload (kernels/internal/common.cc): the Q31
//   multiplier rounded to 16 bits (0x7FFF from 0x7FFF0000 up), then (x * it + 2^(s-1)) >> s
//   with s = 15 - shift;
// - CalculateActivationRangeQuantized for int16, zero point 0 (bounds divided in float);
// - LUTPopulate<int16_t> and LUTLookup (kernels/internal/common.h, LUTPopulateInt16 in float:
//   512 samples and the end point, each lowered by half its interpolation error at the
//   midpoint, rounded half away from zero; entry 256 + (v >> 7), the slope on the low 7 bits,
//   (slope * offset + 64) >> 7, the slope and sum wrapped to int16).
// With a one-op runner and random int16 values; used by compiler/ops/*_int16x8_test.cc.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "emit/plan_writer.h"
#include "host/host_runner.h"
#include "import/tflite/import_tflite.h"
#include "plan/build_plan.h"
#include "tflite_model_builder.h"

namespace tinyforge::testing::int16x8 {

struct Multiplier {
  int32_t q;
  int shift;
};

inline Multiplier quantize_multiplier(double real) {
  if (real == 0.0) return {0, 0};
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);
  int64_t q = std::llround(fraction * 2147483648.0);
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  return {static_cast<int32_t>(q), exponent};
}

inline int32_t doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t{a} * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // truncates toward zero
}

inline int32_t divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // floor(x / 2^exponent), written without shifting a negative value
  const int64_t floor = (int64_t{x} - remainder) / (int64_t{1} << exponent);
  return static_cast<int32_t>(floor + (remainder > threshold ? 1 : 0));
}

// MultiplyByQuantizedMultiplier (int32): x * 2^left, doubled high product, rounded right shift.
inline int32_t multiply(int32_t x, Multiplier m) {
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  return divide_by_pot(
      doubling_high_mul(static_cast<int32_t>(int64_t{x} * (int64_t{1} << left)), m.q), right);
}

// MultiplyByQuantizedMultiplier (int64 accumulator), as the 16x8 conv family requantizes.
inline int32_t requantize(int64_t x, Multiplier m) {
  const int64_t reduced = m.q < 0x7FFF0000 ? (m.q + 32768) / 65536 : 0x7FFF;
  const int s = 15 - m.shift;
  const __int128 total = static_cast<__int128>(x) * reduced + (static_cast<__int128>(1) << (s - 1));
  // floor division by 2^s (an arithmetic shift), written without shifting a negative value
  __int128 q = total / (static_cast<__int128>(1) << s);
  if (total < 0 && q * (static_cast<__int128>(1) << s) != total) q -= 1;
  return static_cast<int32_t>(q);
}

struct Range {
  int32_t lo, hi;
};

// CalculateActivationRangeQuantized for int16, zero point 0.
inline Range activation_range(tfl::ActivationFunctionType a, float scale) {
  using Act = tfl::ActivationFunctionType;
  auto q = [&](float real) { return static_cast<int32_t>(std::round(real / scale)); };
  Range r{-32768, 32767};
  if (a == Act::RELU || a == Act::RELU6) r.lo = std::max(r.lo, q(0.0f));
  if (a == Act::RELU6) r.hi = std::min(r.hi, q(6.0f));
  if (a == Act::RELU_N1_TO_1) r = {std::max(r.lo, q(-1.0f)), std::min(r.hi, q(1.0f))};
  return r;
}

// LUTPopulate<int16_t>(s_in, zp_in, s_out, 0, f).
inline std::vector<int64_t> lut(const std::function<float(float)>& f, float s_in, int zp_in,
                                float s_out) {
  const float lo = s_in * static_cast<float>(-32768 - zp_in);
  const float hi = s_in * static_cast<float>(32767 - zp_in);
  const float inv = 65536.0f / (s_out * 32767.0f - s_out * -32768.0f);
  const float step = (hi - lo) / 512;
  std::vector<int64_t> t(513);
  for (int i = 0; i < 512; ++i) {
    const float a = f(lo + static_cast<float>(i) * step);
    const float mid = f(lo + static_cast<float>(i) * step + step / 2);
    const float b = f(lo + static_cast<float>(i + 1) * step);
    const float interp = std::round((b * inv + std::round(a * inv)) / 2);
    const float v = std::round(a * inv) - std::round((interp - std::round(mid * inv)) / 2);
    t[i] = static_cast<int64_t>(std::clamp(v, -32768.0f, 32767.0f));
  }
  t[512] = static_cast<int64_t>(std::clamp(std::round(f(hi) * inv), -32768.0f, 32767.0f));
  return t;
}

inline int64_t floor_div_pot(int64_t a, int k) {
  const int64_t d = int64_t{1} << k;
  return a >= 0 ? a / d : -((-a + d - 1) / d);
}

// LUTLookup(v, t) for v in [-32768, 32767].
inline int64_t lookup(int64_t v, const std::vector<int64_t>& t) {
  const int64_t index = 256 + floor_div_pot(v, 7);
  const int64_t offset = v - floor_div_pot(v, 7) * 128;
  const auto slope = static_cast<int16_t>(t[index + 1] - t[index]);
  return static_cast<int16_t>(t[index] + floor_div_pot(slope * offset + 64, 7));
}

inline int32_t pick(std::mt19937& rng, int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
}

inline int32_t count(const std::vector<int32_t>& shape) {
  int32_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

// An int16 activation of TFLite's 16x8 scheme: per tensor, zero point 0.
inline TensorSpec int16_tensor(const std::string& name, std::vector<int32_t> shape, float scale) {
  return {name, std::move(shape), tfl::TensorType::INT16, {}, {scale}, {0}};
}

// A one-op 16x8 model imported, planned (as `expected`) and run on the host: its int16
// outputs for the int16 inputs `in`.
inline std::vector<int16_t> run(const ModelSpec& model, const std::vector<std::vector<int16_t>>& in,
                                OpCode expected) {
  const std::vector<uint8_t> file = build_tflite(model);
  const plan::Plan built = plan::build_plan(import_tflite(file.data(), file.size(), "m.tflite"));
  EXPECT_EQ(built.ops.size(), 1u);
  if (built.ops.empty()) return {};
  EXPECT_EQ(built.ops[0].op, expected) << op_info(built.ops[0].op).name;
  host::HostRunner runner(emit::write_plan_blob(built), "m.tflite");
  std::vector<std::vector<uint8_t>> bytes;
  for (const std::vector<int16_t>& v : in) bytes.push_back(bytes_of(v));
  const std::vector<std::vector<uint8_t>> out = runner.run(bytes, 1);
  std::vector<int16_t> got(out.at(0).size() / 2);
  std::memcpy(got.data(), out[0].data(), got.size() * 2);
  return got;
}

// Random int16 values, a tenth of them each extreme.
inline std::vector<int16_t> values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int16_t> v(n);
  for (int16_t& x : v) {
    const int32_t kind = pick(rng, 0, 9);
    x = static_cast<int16_t>(kind == 0 ? -32768 : kind == 1 ? 32767 : pick(rng, -32768, 32767));
  }
  return v;
}

}  // namespace tinyforge::testing::int16x8
