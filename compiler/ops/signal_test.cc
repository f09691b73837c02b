// The signal-library ops against references written here from the published arithmetic of
// TFLM's signal library (tflite-micro signal/src/window.cc, energy.cc, filter_bank.cc,
// square_root_64.cc, log.cc, filter_bank_log.cc, fft_auto_scale.cc, max_abs.cc,
// rfft_int16.cc with kissfft's FIXED_POINT=16 kiss_fftr, filter_bank_spectral_subtraction.cc
// pcan_argc_fixed.cc and delay.cc), each in its own form rather than
// TFLM's loop (a floor division instead of a shift, each channel's two half-filters summed
// apart, a square root by search, a logarithm by its segment interpolation in 64 bits,
// kissfft on plain int16 structs where the runtime packs complex values in words), op by op
// on random and extreme inputs and as micro_speech's chain on synthesized audio, frame after
// frame (the noise estimate is state) and after reset_state. Every model
// is a .tflite with the custom ops and their FlexBuffer options, built here, imported,
// planned and run by the device runtime; micro_speech's preprocessor also on the emulated
// Cortex-M4 (`tinyforge bench`). Also the options the reader refuses.
#include "ops/signal.h"

#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "audio/frontend_spec.h"
#include "emit/cross_build.h"
#include "emit/plan_writer.h"
#include "emit/subprocess.h"
#include "emit/validated_plan.h"
#include "import/tflite/import_tflite.h"
#include "io/files.h"
#include "ir/error.h"
#include "ir/unsupported.h"
#include "plan/build_plan.h"
#include "shared_data.h"
#include "signal_models.h"
#include "tflite_model_builder.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/runtime.h"

namespace tinyforge {
namespace {

using testing::bytes_of;
using testing::Chain;
using testing::chain_model;
using testing::custom;
using testing::FilterBankTables;
using testing::kBins;
using testing::kChannels;
using testing::kCorrection;
using testing::kEnd;
using testing::kEvenSmoothing;
using testing::kFft;
using testing::kFrame;
using testing::kLogScale;
using testing::kMinRemaining;
using testing::kOddSmoothing;
using testing::kSmoothingBits;
using testing::kSnrShift;
using testing::kStart;
using testing::kSubtractionBits;
using testing::make_chain;
using testing::make_tables;
using testing::micro_speech_model;
using testing::ModelSpec;
using testing::OpSpec;
using testing::options;
using testing::TensorSpec;
using TT = tfl::TensorType;

// The model's plan on the device runtime: one input and one output, raw bytes.
class Device {
 public:
  explicit Device(const ModelSpec& spec) {
    const std::vector<uint8_t> model = testing::build_tflite(spec);
    plan_ = std::make_unique<emit::ValidatedPlan>(
        emit::write_plan_blob(plan::build_plan(import_tflite(model.data(), model.size(), "sig"))),
        "sig");
    arena_.resize(Runtime::region_size(plan_->data(), 0) / 8 + 1);
    EXPECT_EQ(rt_.init(plan_->data(), plan_->size(), reinterpret_cast<uint8_t*>(arena_.data()),
                       arena_.size() * 8),
              Status::ok);
  }
  template <typename Out, typename In>
  std::vector<Out> run(const std::vector<In>& input) {
    const TensorView in = rt_.input(0), out = rt_.output(0);
    EXPECT_EQ(in.bytes, input.size() * sizeof(In));
    std::memcpy(in.data, input.data(), in.bytes);
    EXPECT_EQ(rt_.invoke(), Status::ok);
    std::vector<Out> result(out.bytes / sizeof(Out));
    std::memcpy(result.data(), out.data, out.bytes);
    return result;
  }
  // Input k (k > 0: run() writes input 0).
  template <typename In>
  void set_input(int k, const std::vector<In>& input) {
    const TensorView in = rt_.input(k);
    ASSERT_EQ(in.bytes, input.size() * sizeof(In));
    std::memcpy(in.data, input.data(), in.bytes);
  }
  // Output k of the last run.
  template <typename Out>
  std::vector<Out> output(int k) {
    const TensorView out = rt_.output(k);
    std::vector<Out> result(out.bytes / sizeof(Out));
    std::memcpy(result.data(), out.data, out.bytes);
    return result;
  }
  void reset_state() { rt_.reset_state(); }

 private:
  std::unique_ptr<emit::ValidatedPlan> plan_;
  std::vector<uint64_t> arena_;
  Runtime rt_;
};

template <typename T>
std::vector<T> random_ints(size_t n, int64_t lo, int64_t hi, std::mt19937& rng) {
  std::uniform_int_distribution<int64_t> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

// --- references -----------------------------------------------------------------------

int16_t saturate16(int64_t v) {
  return static_cast<int16_t>(std::clamp<int64_t>(v, INT16_MIN, INT16_MAX));
}

// window.cc: an arithmetic shift right is a division rounding toward minus infinity.
std::vector<int16_t> ref_window(const std::vector<int16_t>& in, const std::vector<int16_t>& w,
                                int shift) {
  std::vector<int16_t> out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t product = int64_t{in[i]} * w[i % w.size()];
    const auto divisor = static_cast<double>(int64_t{1} << shift);
    out[i] = saturate16(static_cast<int64_t>(std::floor(static_cast<double>(product) / divisor)));
  }
  return out;
}

// energy.cc: re^2 + im^2 stored as uint32 (the int32 sum of two squares, modulo 2^32).
std::vector<uint32_t> ref_energy(const std::vector<int16_t>& in, int start, int end) {
  std::vector<uint32_t> out(in.size() / 2, 0);
  for (int i = start; i < end; ++i) {
    const uint64_t sum =
        uint64_t(int64_t{in[2 * i]} * in[2 * i]) + uint64_t(int64_t{in[2 * i + 1]} * in[2 * i + 1]);
    out[static_cast<size_t>(i)] = static_cast<uint32_t>(sum % (uint64_t{1} << 32));
  }
  return out;
}

// filter_bank.cc: output c is channel c + 1's rising half (weights) plus channel c's falling
// half (unweights), each int16 weight times the uint32 energy taken modulo 2^64.
std::vector<uint64_t> ref_filter_bank(const std::vector<uint32_t>& energy,
                                      const FilterBankTables& t) {
  const size_t channels = t.widths.size() - 1;
  auto half = [&](const std::vector<int16_t>& w, size_t ch) {
    uint64_t sum = 0;
    for (int j = 0; j < t.widths[ch]; ++j)
      sum += static_cast<uint64_t>(int64_t{w[static_cast<size_t>(t.weight_starts[ch] + j)]}) *
             energy[static_cast<size_t>(t.freq_starts[ch] + j)];
    return sum;
  };
  std::vector<uint64_t> out(channels);
  for (size_t c = 0; c < channels; ++c) out[c] = half(t.unweights, c) + half(t.weights, c + 1);
  return out;
}

// square_root_64.cc / square_root_32.cc: floor(sqrt(x)) found by binary search, plus one
// when the remainder exceeds it (rounding), unless it is already the 16-bit (x < 2^32) or
// 32-bit maximum.
uint32_t ref_sqrt(uint64_t x) {
  uint64_t lo = 0, hi = uint64_t{1} << 32;
  while (hi - lo > 1) {
    const uint64_t mid = (lo + hi) / 2;
    (mid * mid <= x ? lo : hi) = mid;
  }
  const uint64_t cap = x >> 32 == 0 ? 0xFFFF : 0xFFFFFFFF;
  if (x - lo * lo > lo && lo != cap) ++lo;
  return static_cast<uint32_t>(lo);
}

// log.cc: log2 in Q16 from the integer part and the table-interpolated fraction, times
// ln(2) (45426 in Q16) rounded, then times output_scale / 2^16 rounded, in uint32.
const uint16_t kLut[] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646,
    2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460,
    4549, 4633, 4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408,
    5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633,
    5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249,
    5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341,
    4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981,
    2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224,
    1094, 963,  830,  695,  559,  421,  282,  142,  0,    0};

int16_t ref_log(uint32_t in, int correction_bits, int32_t output_scale) {
  const uint32_t x = in << correction_bits;
  if (x <= 1) return 0;
  int integer = 31;
  while (!(x >> integer)) --integer;
  // The fraction (x - 2^integer) / 2^integer in Q16, truncated toward zero.
  const int64_t rest = int64_t{x} - (int64_t{1} << integer);
  const int64_t frac = integer < 16 ? rest << (16 - integer) : rest >> (integer - 16);
  const int64_t seg = frac / 512;  // 128 segments of 512
  const int64_t c0 = kLut[seg], c1 = kLut[seg + 1];
  const int64_t within = frac - seg * 512;
  const int64_t delta = c1 - c0;
  // An arithmetic shift of a negative product rounds toward minus infinity.
  const int64_t rel = (delta * within - ((delta * within) < 0 ? 65535 : 0)) / 65536;
  const uint64_t log2 = (uint64_t(integer) << 16) + uint64_t(frac + c0 + rel);
  const uint64_t ln = (45426 * log2 + 32768) >> 16;
  const uint32_t scaled =
      static_cast<uint32_t>((uint64_t{static_cast<uint32_t>(output_scale)} * ln + 32768) %
                            (uint64_t{1} << 32)) >>
      16;
  return static_cast<int16_t>(std::min<uint32_t>(scaled, 32767));
}

// --- single ops -----------------------------------------------------------------------

TEST(SignalOps, WindowMatchesTheSignalLibraryOnEveryFrame) {
  std::mt19937 rng(1);
  for (int shift : {0, 6, 12, 31}) {
    const int frames = 3, n = 40;
    const std::vector<int16_t> w = random_ints<int16_t>(n, INT16_MIN, INT16_MAX, rng);
    ModelSpec spec;
    spec.tensors = {TensorSpec("in", {frames, n}, TT::INT16),
                    TensorSpec("w", {n}, TT::INT16, bytes_of(w)),
                    TensorSpec("out", {frames, n}, TT::INT16)};
    spec.ops = {custom("SignalWindow", {0, 1}, {2}, options({{"shift", shift}}))};
    spec.inputs = {0};
    spec.outputs = {2};
    Device device(spec);
    std::vector<int16_t> in = random_ints<int16_t>(frames * n, INT16_MIN, INT16_MAX, rng);
    in[0] = INT16_MIN;  // full scale both ways
    in[1] = INT16_MAX;
    EXPECT_EQ((device.run<int16_t>(in)), ref_window(in, w, shift)) << "shift " << shift;
  }
}

TEST(SignalOps, EnergyMatchesTheSignalLibraryIncludingFullScale) {
  std::mt19937 rng(2);
  const int bins = 33;
  for (auto [start, end] : {std::pair{0, 33}, {4, 20}, {7, 7}}) {
    ModelSpec spec;
    spec.tensors = {TensorSpec("spectrum", {2 * bins}, TT::INT16),
                    TensorSpec("energy", {bins}, TT::UINT32)};
    spec.ops = {
        custom("SignalEnergy", {0}, {1}, options({{"end_index", end}, {"start_index", start}}))};
    spec.inputs = {0};
    spec.outputs = {1};
    Device device(spec);
    std::vector<int16_t> in = random_ints<int16_t>(2 * bins, INT16_MIN, INT16_MAX, rng);
    in[2 * 5] = in[2 * 5 + 1] = INT16_MIN;  // 2^31: past int32, as TFLM's wrap stores it
    EXPECT_EQ((device.run<uint32_t>(in)), ref_energy(in, start, end));
  }
}

ModelSpec filter_bank_model(const FilterBankTables& t, int bins) {
  const int channels = static_cast<int>(t.widths.size()) - 1;
  const int32_t nw = static_cast<int32_t>(t.weights.size());
  ModelSpec spec;
  spec.tensors = {TensorSpec("energy", {bins}, TT::UINT32),
                  TensorSpec("weights", {nw}, TT::INT16, bytes_of(t.weights)),
                  TensorSpec("unweights", {nw}, TT::INT16, bytes_of(t.unweights)),
                  TensorSpec("freq_starts", {channels + 1}, TT::INT16, bytes_of(t.freq_starts)),
                  TensorSpec("weight_starts", {channels + 1}, TT::INT16, bytes_of(t.weight_starts)),
                  TensorSpec("widths", {channels + 1}, TT::INT16, bytes_of(t.widths)),
                  TensorSpec("channels", {channels}, TT::UINT64)};
  spec.ops = {
      custom("SignalFilterBank", {0, 1, 2, 3, 4, 5}, {6}, options({{"num_channels", channels}}))};
  spec.inputs = {0};
  spec.outputs = {6};
  return spec;
}

TEST(SignalOps, FilterBankMatchesTheSignalLibraryIn64Bits) {
  std::mt19937 rng(3);
  const int bins = 129, channels = 40;
  FilterBankTables t = make_tables(channels, bins, rng);
  t.weights[3] = -7;  // a negative weight wraps modulo 2^64 as TFLM's conversion does
  Device device(filter_bank_model(t, bins));
  for (uint32_t max : {1000u, 0xFFFFFFFFu}) {
    const std::vector<uint32_t> energy = random_ints<uint32_t>(bins, 0, max, rng);
    EXPECT_EQ((device.run<uint64_t>(energy)), ref_filter_bank(energy, t)) << "max " << max;
  }
}

TEST(SignalOps, FilterBankSquareRootMatchesTheSignalLibrary) {
  std::mt19937 rng(4);
  for (int32_t bits : {0, 5, 31}) {
    const int channels = 64;
    ModelSpec spec;
    spec.tensors = {TensorSpec("in", {channels}, TT::UINT64),
                    TensorSpec("bits", {1}, TT::INT32, bytes_of(std::vector<int32_t>{bits})),
                    TensorSpec("out", {channels}, TT::UINT32)};
    spec.ops = {custom("SignalFilterBankSquareRoot", {0, 1}, {2})};
    spec.inputs = {0};
    spec.outputs = {2};
    Device device(spec);
    std::vector<uint64_t> in = random_ints<uint64_t>(channels, 0, INT64_MAX, rng);
    const std::vector<uint64_t> small = random_ints<uint64_t>(16, 0, 0xFFFFFFFF, rng);
    std::copy(small.begin(), small.end(), in.begin());
    in[16] = 0;
    in[17] = 0xFFFFFFFFull;                    // the 32-bit path's 16-bit cap
    in[18] = 0xFFFFFFFFFFFFFFFFull;            // the 64-bit path's 32-bit cap
    in[19] = uint64_t{65535} * 65535 + 65535;  // remainder equal to the root: not rounded up
    std::vector<uint32_t> expected;
    for (uint64_t x : in) expected.push_back(ref_sqrt(x) >> bits);
    EXPECT_EQ((device.run<uint32_t>(in)), expected) << "scale_bits " << bits;
  }
}

TEST(SignalOps, FilterBankLogMatchesTheSignalLibraryAndTheNaturalLog) {
  std::mt19937 rng(5);
  for (auto [bits, scale] : {std::pair{0, 1600}, {3, 1 << 16}, {5, 700}}) {
    const int channels = 80;
    ModelSpec spec;
    spec.tensors = {TensorSpec("in", {channels}, TT::UINT32),
                    TensorSpec("out", {channels}, TT::INT16)};
    spec.ops = {custom("SignalFilterBankLog", {0}, {1},
                       options({{"input_correction_bits", bits}, {"output_scale", scale}}))};
    spec.inputs = {0};
    spec.outputs = {1};
    Device device(spec);
    std::vector<uint32_t> in = random_ints<uint32_t>(channels, 0, 0xFFFFFFFF >> bits, rng);
    in[0] = 0;
    in[1] = 1;
    in[2] = 0xFFFFFFFF;  // wraps when shifted: TFLM's uint32 shift
    const std::vector<int16_t> got = device.run<int16_t>(in);
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(got[i], ref_log(in[i], bits, scale)) << "x " << in[i];
      const uint32_t x = in[i] << bits;
      // Within a few units of ln(x) * scale where scale * ln(x) in Q16 fits in 32 bits (TFLM
      // multiplies in uint32: scale 2^16 wraps, which only the reference follows).
      if (x > 1 && scale <= 2048) {
        const double exact = std::min(32767.0, std::log(double(x)) * scale);
        EXPECT_NEAR(got[i], exact, 2.0) << "x " << x;
      }
    }
  }
}

// fft_auto_scale.cc with max_abs.cc: the running maximum is kept in int16, so -32768 stores
// -32768 (its negation wraps) and any later sample then replaces it.
std::pair<std::vector<int16_t>, int32_t> ref_auto_scale(const std::vector<int16_t>& in) {
  int16_t max = 0;
  for (int16_t v : in) {
    if (v > max)
      max = v;
    else if (-v > max)
      max = static_cast<int16_t>(static_cast<uint16_t>(-v));
  }
  const uint32_t m = static_cast<uint32_t>(static_cast<int32_t>(max));
  int msb = 0;
  while (msb < 32 && (m >> msb) != 0) ++msb;
  const int32_t bits = std::max(0, 15 - msb);
  std::vector<int16_t> out;
  for (int16_t v : in) out.push_back(static_cast<int16_t>(static_cast<uint16_t>(v * (1 << bits))));
  return {out, bits};
}

// kissfft 1.3.0 with FIXED_POINT=16 written plainly (kiss_fft.c kf_work, kf_bfly2, kf_bfly4,
// kiss_fftr.c, _kiss_fft_guts.h): int16 complex values, sround(x) = (x + 2^14) >> 15, every
// sum stored back into int16, C_FIXDIV by 32767 / radix. Twiddles from kf_cexp:
// floor(0.5 + 32767 * cos / sin(phase)).
struct Cpx {
  int16_t r, i;
};
int16_t s16(int64_t v) { return static_cast<int16_t>(static_cast<uint16_t>(v & 0xFFFF)); }
int16_t sround(int32_t x) { return s16((x + (1 << 14)) >> 15); }
Cpx cmul(Cpx a, Cpx b) { return {sround(a.r * b.r - a.i * b.i), sround(a.r * b.i + a.i * b.r)}; }
Cpx fixdiv(Cpx c, int div) { return {sround(c.r * (32767 / div)), sround(c.i * (32767 / div))}; }
Cpx add(Cpx a, Cpx b) { return {s16(a.r + b.r), s16(a.i + b.i)}; }
Cpx sub(Cpx a, Cpx b) { return {s16(a.r - b.r), s16(a.i - b.i)}; }
Cpx twiddle(double phase) {
  return {static_cast<int16_t>(std::floor(0.5 + 32767 * std::cos(phase))),
          static_cast<int16_t>(std::floor(0.5 + 32767 * std::sin(phase)))};
}

void kf_work(Cpx* out, const Cpx* f, size_t fstride, const std::vector<size_t>& factors,
             size_t level, const std::vector<Cpx>& tw) {
  const size_t p = factors[2 * level], m = factors[2 * level + 1];
  if (m == 1) {
    for (size_t k = 0; k < p; ++k) out[k] = f[k * fstride];
  } else {
    for (size_t q = 0; q < p; ++q)
      kf_work(out + q * m, f + q * fstride, fstride * p, factors, level + 1, tw);
  }
  for (size_t k = 0; k < m; ++k) {
    if (p == 2) {
      const Cpx a = fixdiv(out[k], 2), b = fixdiv(out[k + m], 2);
      const Cpx t = cmul(b, tw[k * fstride]);
      out[k + m] = sub(a, t);
      out[k] = add(a, t);
      continue;
    }
    Cpx f0 = fixdiv(out[k], 4);
    const Cpx f1 = fixdiv(out[k + m], 4), f2 = fixdiv(out[k + 2 * m], 4),
              f3 = fixdiv(out[k + 3 * m], 4);
    const Cpx s0 = cmul(f1, tw[k * fstride]), s1 = cmul(f2, tw[2 * k * fstride]),
              s2 = cmul(f3, tw[3 * k * fstride]);
    const Cpx s5 = sub(f0, s1);
    f0 = add(f0, s1);
    const Cpx s3 = add(s0, s2), s4 = sub(s0, s2);
    out[k + 2 * m] = sub(f0, s3);
    out[k] = add(f0, s3);
    out[k + m] = {s16(s5.r + s4.i), s16(s5.i - s4.r)};
    out[k + 3 * m] = {s16(s5.r - s4.i), s16(s5.i + s4.r)};
  }
}

// One frame (zero-padded to n) -> n / 2 + 1 bins as (real, imaginary) int16 pairs.
std::vector<int16_t> ref_rfft(const std::vector<int16_t>& frame, size_t n) {
  const size_t ncfft = n / 2;
  std::vector<Cpx> in(ncfft, Cpx{0, 0}), packed(ncfft), tw, super;
  for (size_t i = 0; i < frame.size(); ++i) (i % 2 ? in[i / 2].i : in[i / 2].r) = frame[i];
  const double pi = std::acos(-1.0);
  for (size_t i = 0; i < ncfft; ++i) tw.push_back(twiddle(-2 * pi * double(i) / double(ncfft)));
  for (size_t i = 0; i < ncfft / 2; ++i)
    super.push_back(twiddle(-pi * (double(i + 1) / double(ncfft) + 0.5)));
  std::vector<size_t> factors;
  for (size_t left = ncfft; left > 1;) {
    const size_t p = left % 4 == 0 ? 4 : 2;
    left /= p;
    factors.push_back(p);
    factors.push_back(left);
  }
  kf_work(packed.data(), in.data(), 1, factors, 0, tw);
  std::vector<Cpx> bins(ncfft + 1);
  const Cpx dc = fixdiv(packed[0], 2);
  bins[0] = {s16(dc.r + dc.i), 0};
  bins[ncfft] = {s16(dc.r - dc.i), 0};
  for (size_t k = 1; k <= ncfft / 2; ++k) {
    const Cpx fpk = fixdiv(packed[k], 2);
    const Cpx fpnk = fixdiv({packed[ncfft - k].r, s16(-packed[ncfft - k].i)}, 2);
    const Cpx f1k = add(fpk, fpnk), f2k = sub(fpk, fpnk);
    const Cpx t = cmul(f2k, super[k - 1]);
    bins[k] = {s16((f1k.r + t.r) >> 1), s16((f1k.i + t.i) >> 1)};
    bins[ncfft - k] = {s16((f1k.r - t.r) >> 1), s16((t.i - f1k.i) >> 1)};
  }
  std::vector<int16_t> out;
  for (const Cpx& c : bins) {
    out.push_back(c.r);
    out.push_back(c.i);
  }
  return out;
}

TEST(SignalOps, FftAutoScaleMatchesTheSignalLibrary) {
  std::mt19937 rng(7);
  const int n = 48;
  ModelSpec spec;
  spec.tensors = {TensorSpec("in", {n}, TT::INT16), TensorSpec("out", {n}, TT::INT16),
                  TensorSpec("bits", {}, TT::INT32)};
  spec.ops = {custom("SignalFftAutoScale", {0}, {1, 2})};
  spec.inputs = {0};
  spec.outputs = {1, 2};
  const std::vector<uint8_t> model = testing::build_tflite(spec);
  const emit::ValidatedPlan plan(
      emit::write_plan_blob(plan::build_plan(import_tflite(model.data(), model.size(), "s"))), "s");
  std::vector<uint64_t> arena(Runtime::region_size(plan.data(), 0) / 8 + 1);
  Runtime rt;
  ASSERT_EQ(
      rt.init(plan.data(), plan.size(), reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8),
      Status::ok);
  for (int16_t peak : {0, 1, 100, 5000, 32767, -32768}) {
    std::vector<int16_t> in =
        random_ints<int16_t>(n, -std::abs(int{peak}) / 2, std::abs(int{peak}) / 2, rng);
    in[n / 2] = peak;
    std::memcpy(rt.input(0).data, in.data(), n * sizeof(int16_t));
    ASSERT_EQ(rt.invoke(), Status::ok);
    const auto [expected, bits] = ref_auto_scale(in);
    std::vector<int16_t> got(n);
    std::memcpy(got.data(), rt.output(0).data, n * sizeof(int16_t));
    EXPECT_EQ(got, expected) << "peak " << peak;
    EXPECT_EQ(*static_cast<const int32_t*>(rt.output(1).data), bits) << "peak " << peak;
  }
}

TEST(SignalOps, RfftMatchesKissfftFixedPoint) {
  std::mt19937 rng(8);
  for (auto [length, fft] : {std::pair{16, 16}, {30, 32}, {480, 512}, {100, 128}}) {
    const int frames = 2;
    ModelSpec spec;
    spec.tensors = {TensorSpec("in", {frames, length}, TT::INT16),
                    TensorSpec("out", {frames, fft + 2}, TT::INT16)};
    spec.ops = {custom("SignalRfft", {0}, {1}, options({{"T", 7}, {"fft_length", fft}}))};
    spec.inputs = {0};
    spec.outputs = {1};
    Device device(spec);
    std::vector<int16_t> in = random_ints<int16_t>(frames * length, INT16_MIN, INT16_MAX, rng);
    std::vector<int16_t> expected;
    for (int f = 0; f < frames; ++f) {
      const std::vector<int16_t> frame(in.begin() + f * length, in.begin() + (f + 1) * length);
      const std::vector<int16_t> bins = ref_rfft(frame, static_cast<size_t>(fft));
      expected.insert(expected.end(), bins.begin(), bins.end());
    }
    EXPECT_EQ((device.run<int16_t>(in)), expected) << "fft " << fft;
  }
}

// filter_bank_spectral_subtraction.cc, in uint64 arithmetic written with divisions: the
// estimate low-passes the scaled-up signal (products and their sum modulo 2^64), the output
// is the scaled signal less the estimate (never below 0), at least min_remaining of it.
struct Subtraction {
  uint32_t smoothing, one_minus, alternate, alternate_one_minus, min_remaining;
  int smoothing_bits, bits;
  bool clamping;
};
const Subtraction kMicroSpeechSubtraction{
    kEvenSmoothing,   (1u << kSubtractionBits) - kEvenSmoothing,
    kOddSmoothing,    (1u << kSubtractionBits) - kOddSmoothing,
    kMinRemaining,    kSmoothingBits,
    kSubtractionBits, false};

std::vector<uint32_t> ref_subtract(const std::vector<uint32_t>& in, std::vector<uint32_t>& estimate,
                                   const Subtraction& o) {
  const uint64_t two32 = uint64_t{1} << 32, up_factor = uint64_t{1} << o.smoothing_bits,
                 q = uint64_t{1} << o.bits;
  std::vector<uint32_t> out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const bool odd = i % 2 == 1;
    const uint64_t up = in[i] * up_factor % two32;
    const uint64_t sum = up * (odd ? o.alternate : o.smoothing) +
                         uint64_t{estimate[i]} * (odd ? o.alternate_one_minus : o.one_minus);
    estimate[i] = static_cast<uint32_t>(sum / q % two32);
    uint64_t subtracted = estimate[i];
    if (subtracted > up) {
      subtracted = up;
      if (o.clamping) estimate[i] = static_cast<uint32_t>(up);
    }
    const uint64_t floor = uint64_t{in[i]} * o.min_remaining / q % two32;
    out[i] = static_cast<uint32_t>(std::max((up - subtracted) / up_factor, floor));
  }
  return out;
}

std::vector<uint8_t> subtraction_options(int channels, const Subtraction& o) {
  flexbuffers::Builder f;
  const size_t map = f.StartMap();
  f.Int("alternate_one_minus_smoothing", o.alternate_one_minus);
  f.Int("alternate_smoothing", o.alternate);
  f.Bool("clamping", o.clamping);
  f.Int("min_signal_remaining", o.min_remaining);
  f.Int("num_channels", channels);
  f.Int("one_minus_smoothing", o.one_minus);
  f.Int("smoothing", o.smoothing);
  f.Int("smoothing_bits", o.smoothing_bits);
  f.Int("spectral_subtraction_bits", o.bits);
  f.EndMap(map);
  f.Finish();
  return f.GetBuffer();
}

ModelSpec subtraction_model(int channels, std::vector<uint8_t> custom_options) {
  ModelSpec spec;
  spec.tensors = {TensorSpec("in", {channels}, TT::UINT32),
                  TensorSpec("out", {channels}, TT::UINT32),
                  TensorSpec("noise", {channels}, TT::UINT32)};
  spec.ops = {
      custom("SignalFilterBankSpectralSubtraction", {0}, {1, 2}, std::move(custom_options))};
  spec.inputs = {0};
  spec.outputs = {1, 2};
  return spec;
}

TEST(SignalOps, SpectralSubtractionKeepsItsNoiseEstimateAcrossInvocations) {
  std::mt19937 rng(11);
  const int channels = 13;  // odd: the last channel is even
  Subtraction clamped = kMicroSpeechSubtraction;
  clamped.clamping = true;
  // Extremes: no smoothing bits and a 1.0 smoothing; 31 of each (every shift at its widest,
  // the scaled signal and the 64-bit sum wrapping).
  const Subtraction extreme_low{1u << 14, 0, 0, 1u << 14, 1u << 14, 0, 14, false};
  const Subtraction extreme_high{0x7FFFFFFF, 0x7FFFFFFF, 3, 0x7FFFFFFF, 0x7FFFFFFF, 31, 31, true};
  for (const Subtraction& o : {kMicroSpeechSubtraction, clamped, extreme_low, extreme_high}) {
    Device device(subtraction_model(channels, subtraction_options(channels, o)));
    std::vector<uint32_t> estimate(channels, 0);
    std::vector<std::vector<uint32_t>> inputs;
    for (int frame = 0; frame < 8; ++frame) {
      // Loud frames, then quiet ones (the estimate must fall: clamping matters there).
      std::vector<uint32_t> in =
          random_ints<uint32_t>(channels, 0, frame < 4 ? 0xFFFFFFFF : 2000, rng);
      in[0] = 0;
      in[1] = frame < 4 ? 0xFFFFFFFF : 1;
      inputs.push_back(in);
      const std::vector<uint32_t> expected = ref_subtract(in, estimate, o);
      ASSERT_EQ((device.run<uint32_t>(in)), expected) << "frame " << frame;
      ASSERT_EQ(device.output<uint32_t>(1), estimate) << "frame " << frame;
    }
    // reset_state zeroes the estimate, as TFLM's Reset: the first frames come out as the first
    // time.
    device.reset_state();
    std::fill(estimate.begin(), estimate.end(), 0);
    for (int frame = 0; frame < 2; ++frame)
      EXPECT_EQ((device.run<uint32_t>(inputs[frame])), ref_subtract(inputs[frame], estimate, o))
          << "after reset, frame " << frame;
  }
}

// pcan_argc_fixed.cc WideDynamicFunction: the 10 bits below x's leading one index a
// quadratic of the curve's octave (entries 4 * bits(x) - 6 ...), in floor divisions.
int16_t ref_gain(uint32_t x, const std::vector<int16_t>& lut) {
  if (x <= 2) return lut[x];
  int interval = 0;  // bits needed for x
  while (interval < 32 && (uint64_t{x} >> interval) != 0) ++interval;
  const size_t base = static_cast<size_t>(4 * interval - 6);
  const int64_t frac = interval < 11 ? (int64_t{x} << (11 - interval)) % 1024
                                     : (int64_t{x} >> (interval - 11)) % 1024;
  const auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  int64_t r = floor_div(lut[base + 2] * frac, 32) + int64_t{lut[base + 1]} * 32;
  r = floor_div(r * frac + 16384, 32768) + lut[base];
  return static_cast<int16_t>(static_cast<uint16_t>(r & 0xFFFF));
}

// pcan_argc_fixed.cc ApplyPcanAutoGainControlFixed and PcanShrink: the int16 gain as uint32
// (sign-extended), the product's bits from snr_shift up, then x^2 / 4 below 2.0 (Q12), x - 1
// above, in Q6.
std::vector<uint32_t> ref_pcan(const std::vector<uint32_t>& in, const std::vector<uint32_t>& noise,
                               const std::vector<int16_t>& lut, int snr_shift) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < in.size(); ++i) {
    const uint64_t gain = static_cast<uint32_t>(int32_t{ref_gain(noise[i], lut)});
    const uint64_t snr = (in[i] * gain >> snr_shift) % (uint64_t{1} << 32);
    out.push_back(static_cast<uint32_t>(snr < 8192 ? snr * snr / (1 << 20) : snr / 64 - 64));
  }
  return out;
}

ModelSpec pcan_model(int channels, const std::vector<int16_t>& lut, int snr_shift) {
  ModelSpec spec;
  spec.tensors = {TensorSpec("in", {channels}, TT::UINT32),
                  TensorSpec("noise", {channels}, TT::UINT32),
                  TensorSpec("lut", {static_cast<int32_t>(lut.size())}, TT::INT16, bytes_of(lut)),
                  TensorSpec("out", {channels}, TT::UINT32)};
  spec.ops = {custom("SignalPCAN", {0, 1, 2}, {3}, options({{"snr_shift", snr_shift}}))};
  spec.inputs = {0, 1};
  spec.outputs = {3};
  return spec;
}

TEST(SignalOps, PcanMatchesTheSignalLibraryOnEveryOctave) {
  std::mt19937 rng(12);
  const std::vector<int16_t> micro_speech = make_chain().gain_lut;
  ASSERT_EQ(micro_speech.size(), 125u);
  // The curve follows its definition, 2^21 (x / 2^7 + 80)^-0.95, within 1% at the octaves'
  // starts (where the quadratic passes through the sampled gain).
  for (int k = 8; k < 32; k += 3) {
    const uint32_t x = uint32_t{1} << k;
    const double exact = std::ldexp(std::pow(std::ldexp(x, -7) + 80.0, -0.95), 21);
    EXPECT_NEAR(ref_gain(x, micro_speech), exact, 0.01 * exact + 1) << "noise " << x;
  }
  std::vector<int16_t> random_lut = random_ints<int16_t>(125, INT16_MIN, INT16_MAX, rng);
  const int channels = 64;
  for (const auto& [lut, shift] :
       {std::pair{micro_speech, kSnrShift}, {micro_speech, 0}, {random_lut, 31}, {random_lut, 9}}) {
    Device device(pcan_model(channels, lut, shift));
    std::vector<uint32_t> in = random_ints<uint32_t>(channels, 0, 0xFFFFFFFF, rng);
    std::vector<uint32_t> noise;
    for (int i = 0; i < channels; ++i)  // every octave of the noise level, and its edges
      noise.push_back(i < 32 ? (uint32_t{1} << i) + static_cast<uint32_t>(rng() >> (32 - i))
                             : static_cast<uint32_t>(rng()));
    noise[32] = 0;
    noise[33] = 2;
    noise[34] = 0xFFFFFFFF;
    in[0] = 0;
    in[1] = 0xFFFFFFFF;
    for (int i = 40; i < 48; ++i) in[i] = static_cast<uint32_t>(i * 37);  // the x^2 / 4 branch
    device.set_input(1, noise);
    EXPECT_EQ((device.run<uint32_t>(in)), ref_pcan(in, noise, lut, shift)) << "shift " << shift;
  }
}

// delay.cc: each row is a stream; the output stream is the input stream after delay_length
// zeros. Reference: the rows' whole streams, shifted.
TEST(SignalOps, DelayShiftsEachRowsStreamAcrossInvocations) {
  std::mt19937 rng(14);
  for (auto shape : {std::tuple{1, 16, 3}, {3, 5, 12}, {2, 7, 7}, {1, 4, 1}}) {
    // plain locals: C++17 lambdas cannot capture structured bindings
    const int rows = std::get<0>(shape), frame = std::get<1>(shape), delay = std::get<2>(shape);
    ModelSpec spec;
    spec.tensors = {TensorSpec("in", {rows, frame}, TT::INT16),
                    TensorSpec("out", {rows, frame}, TT::INT16)};
    spec.ops = {custom("SignalDelay", {0}, {1}, options({{"delay_length", delay}}))};
    spec.inputs = {0};
    spec.outputs = {1};
    Device device(spec);
    const int invocations = 6;
    std::vector<std::vector<int16_t>> stream(rows), inputs;
    for (int n = 0; n < invocations; ++n) {
      inputs.push_back(random_ints<int16_t>(rows * frame, INT16_MIN, INT16_MAX, rng));
      for (int r = 0; r < rows; ++r)
        stream[r].insert(stream[r].end(), inputs[n].begin() + r * frame,
                         inputs[n].begin() + (r + 1) * frame);
    }
    auto delayed = [&](int n) {  // invocation n's expected output
      std::vector<int16_t> out;
      for (int r = 0; r < rows; ++r)
        for (int i = n * frame; i < (n + 1) * frame; ++i)
          out.push_back(i < delay ? int16_t{0} : stream[r][i - delay]);
      return out;
    };
    for (int n = 0; n < invocations; ++n)
      ASSERT_EQ(device.run<int16_t>(inputs[n]), delayed(n))
          << rows << "x" << frame << " delay " << delay << " invocation " << n;
    device.reset_state();  // the zeros again, as TFLM's Reset
    EXPECT_EQ(device.run<int16_t>(inputs[0]), delayed(0)) << "after reset";
  }
}

// --- the micro_speech chain -----------------------------------------------------------

// Window to square root: the filter bank's magnitudes of one frame.
std::vector<uint32_t> ref_magnitudes(const Chain& c, const std::vector<int16_t>& pcm) {
  const auto [scaled, bits] = ref_auto_scale(ref_window(pcm, c.window, 12));
  const std::vector<uint64_t> channels =
      ref_filter_bank(ref_energy(ref_rfft(scaled, kFft), kStart, kEnd), c.tables);
  std::vector<uint32_t> magnitudes;
  for (uint64_t ch : channels) magnitudes.push_back(ref_sqrt(ch) >> bits);
  return magnitudes;
}

std::vector<int16_t> ref_log_features(const std::vector<uint32_t>& magnitudes) {
  std::vector<int16_t> features;
  for (uint32_t m : magnitudes) features.push_back(ref_log(m, kCorrection, kLogScale));
  return features;
}

std::vector<int16_t> ref_chain(const Chain& c, const std::vector<int16_t>& pcm) {
  return ref_log_features(ref_magnitudes(c, pcm));
}

// The whole micro_speech preprocessor on one frame, its noise estimate carried between frames.
std::vector<int16_t> ref_micro_speech(const Chain& c, const std::vector<int16_t>& pcm,
                                      std::vector<uint32_t>& estimate) {
  const std::vector<uint32_t> reduced =
      ref_subtract(ref_magnitudes(c, pcm), estimate, kMicroSpeechSubtraction);
  return ref_log_features(ref_pcan(reduced, estimate, c.gain_lut, kSnrShift));
}

TEST(SignalOps, MicroSpeechChainMatchesOnSpeechSilenceAndFullScale) {
  const Chain c = make_chain();
  Device device(chain_model(c));
  std::mt19937 rng(10);
  std::normal_distribution<double> noise(0, 300);
  const double pi = std::acos(-1.0);
  std::vector<std::pair<std::string, std::vector<int16_t>>> frames;
  std::vector<int16_t> speech(kFrame), silence(kFrame, 0), full(kFrame), quiet(kFrame);
  for (int i = 0; i < kFrame; ++i) {
    // A voiced sound: 140 Hz and its harmonics under a syllable envelope, plus breath noise.
    const double t = i / 16000.0, envelope = std::sin(pi * i / kFrame);
    double v = 0;
    for (int h = 1; h <= 12; ++h) v += std::sin(2 * pi * 140 * h * t + h) * 6000 / h;
    speech[i] = saturate16(std::lround(v * envelope + noise(rng)));
    full[i] = i % 20 < 10 ? INT16_MAX : INT16_MIN;  // a full-scale square wave
    quiet[i] = static_cast<int16_t>(std::lround(3 * std::sin(2 * pi * 1000 * t)));
  }
  frames = {{"speech", speech}, {"silence", silence}, {"full scale", full}, {"quiet", quiet}};
  for (const auto& [name, pcm] : frames) {
    const std::vector<int16_t> got = device.run<int16_t>(pcm);
    EXPECT_EQ(got, ref_chain(c, pcm)) << name;
    if (name == "speech") {  // a real signal reaches the features
      EXPECT_GT(*std::max_element(got.begin(), got.end()), 200) << name;
    }
    if (name == "silence") {
      EXPECT_EQ(*std::max_element(got.begin(), got.end()), 0) << name;
    }
  }
}

// A recording of `frames` frames of 30 ms every 20 ms (micro_speech's window and hop):
// background noise throughout, a voiced word from frame word_start to word_end.
constexpr int kHop = 320;
std::vector<int16_t> recording(int frames, int word_start, int word_end, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, 150);
  const double pi = std::acos(-1.0);
  std::vector<int16_t> pcm(static_cast<size_t>(kHop * (frames - 1) + kFrame));
  for (size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i) / 16000.0;
    double v = noise(rng);
    const double word = (t - word_start * 0.02) / ((word_end - word_start) * 0.02);
    if (word > 0 && word < 1) {  // a vowel gliding from 120 to 180 Hz under its envelope
      const double f0 = 120 + 60 * word;
      for (int h = 1; h <= 10; ++h)
        v += std::sin(2 * pi * f0 * h * t + h) * 5000 / h * std::sin(pi * word);
    }
    pcm[i] = saturate16(std::lround(v));
  }
  return pcm;
}

std::vector<int16_t> frame_of(const std::vector<int16_t>& pcm, int f) {
  return {pcm.begin() + f * kHop, pcm.begin() + f * kHop + kFrame};
}

int32_t sum(const std::vector<int16_t>& v) {
  int32_t s = 0;
  for (int16_t x : v) s += x;
  return s;
}

TEST(SignalOps, MicroSpeechPreprocessorMatchesFrameAfterFrameAndAfterReset) {
  const Chain c = make_chain();
  Device device(micro_speech_model(c));
  std::mt19937 rng(13);
  const std::vector<int16_t> pcm = recording(40, 20, 32, rng);
  std::vector<std::vector<int16_t>> frames;
  for (int f = 0; f < 40; ++f) frames.push_back(frame_of(pcm, f));
  std::vector<uint32_t> estimate(kChannels, 0);
  std::vector<std::vector<int16_t>> features;
  for (size_t f = 0; f < frames.size(); ++f) {
    features.push_back(device.run<int16_t>(frames[f]));
    ASSERT_EQ(features.back(), ref_micro_speech(c, frames[f], estimate)) << "frame " << f;
  }
  // The noise estimate adapts to the background (the features of steady noise fall) and the
  // word stands out of it (the log features grow by 64 per factor e).
  EXPECT_LT(sum(features[19]), sum(features[0]));
  const auto peak = [&](int f) {
    return *std::max_element(features[f].begin(), features[f].end());
  };
  EXPECT_GT(peak(26), peak(19) + 64) << "the word's loudest channel is not e times the noise's";
  // reset_state zeroes the estimate: the recording comes out as the first time.
  device.reset_state();
  for (size_t f = 0; f < 3; ++f)
    EXPECT_EQ(device.run<int16_t>(frames[f]), features[f]) << "after reset, frame " << f;
  // Without reset, the same frame comes out otherwise (state carried).
  EXPECT_NE(device.run<int16_t>(frames[0]), features[0]);
}

// micro_speech's int8 feature as audio_preprocessor.py defines it (TFLM's
// micro_features_generator.cc before it): (feature * 256 + 666 / 2) / 666 truncated, minus
// 128, clamped to int8; the float feature is feature / 25.6 in float32.
int8_t ref_int8_feature(int16_t feature) {
  const int32_t value = (feature * 256 + 333) / 666 - 128;
  return static_cast<int8_t>(std::clamp(value, -128, 127));
}

// The preprocessor as TFLM's generator writes it (signal_models.h: the nine signal ops with
// the converter's RESHAPE, CASTs, STRIDED_SLICE and CONCATENATION, and the int8 or float
// output arithmetic), in both variants, over a recording of noise and a word: bit for bit,
// frame after frame, and again after reset_state.
TEST(SignalOps, GeneratedPreprocessorMatchesInBothOutputTypes) {
  const Chain c = make_chain();
  using testing::generated_preprocessor_model;
  using testing::PreprocessorOutput;
  Device int8_device(generated_preprocessor_model(c, PreprocessorOutput::int8));
  Device float_device(generated_preprocessor_model(c, PreprocessorOutput::float32));
  std::mt19937 rng(17);
  const std::vector<int16_t> pcm = recording(40, 20, 32, rng);
  std::vector<uint32_t> estimate(kChannels, 0);
  std::vector<std::vector<int8_t>> int8_features;
  std::vector<int> seen(256, 0);
  for (int f = 0; f < 40; ++f) {
    const std::vector<int16_t> frame = frame_of(pcm, f);
    const std::vector<int16_t> features = ref_micro_speech(c, frame, estimate);
    std::vector<int8_t> want;
    std::vector<float> want_float;
    for (int16_t x : features) {
      want.push_back(ref_int8_feature(x));
      want_float.push_back(static_cast<float>(x) / 25.6f);
    }
    int8_features.push_back(int8_device.run<int8_t>(frame));
    ASSERT_EQ(int8_features.back(), want) << "frame " << f;
    ASSERT_EQ(float_device.run<float>(frame), want_float) << "frame " << f;
    for (int8_t v : want) ++seen[v + 128];
  }
  // The features span the int8 range rather than sit on a clamp: the word reaches above 0.
  EXPECT_GT(std::count_if(seen.begin(), seen.end(), [](int n) { return n > 0; }), 40);
  EXPECT_GT(*std::max_element(int8_features[26].begin(), int8_features[26].end()), 0);
  int8_device.reset_state();
  for (size_t f = 0; f < 3; ++f)
    EXPECT_EQ(int8_device.run<int8_t>(frame_of(pcm, static_cast<int>(f))), int8_features[f])
        << "after reset, frame " << f;
}

// The micro front-end of the plan (runtime/audio/frontend.cc) runs the same arithmetic as
// micro_speech's nine ops: built from the same tables (the front-end section's window, filter
// bank and gain curve, its energies' bins) and fed the same recording, they give the same
// features frame by frame. The recording avoids the documented differences (docs/audio.md:
// no energy reaches 2^31, no -32768 sample, features below 32768).
TEST(SignalOps, MicroSpeechPreprocessorEqualsTheFrontEndOnItsTables) {
  const std::vector<uint8_t> section =
      audio::build_frontend_section(audio::FrontendSpec{}, {49 * 40, 0.1f, -128});
  FrontendConfig config;
  std::memcpy(&config, section.data(), sizeof config);
  ASSERT_EQ(config.window_samples, kFrame);
  ASSERT_EQ(config.hop_samples, kHop);
  ASSERT_EQ(config.fft_size, kFft);
  ASSERT_EQ(config.num_channels, kChannels);
  // The same options: TFLM's defaults on both sides.
  ASSERT_EQ(config.even_smoothing, kEvenSmoothing);
  ASSERT_EQ(config.odd_smoothing, kOddSmoothing);
  ASSERT_EQ(config.min_signal_remaining, kMinRemaining);
  ASSERT_EQ(config.smoothing_bits, kSmoothingBits);
  ASSERT_EQ(config.pcan_snr_shift, kSnrShift);
  ASSERT_EQ(config.log_scale_shift, 6);  // kLogScale = 2^6
  const FrontendLayout l = frontend_layout(config);
  auto table = [&](uint32_t offset, size_t n) {
    std::vector<int16_t> v(n);
    std::memcpy(v.data(), section.data() + offset, n * sizeof(int16_t));
    return v;
  };
  Chain c;
  c.window = table(l.window, kFrame);
  c.tables.freq_starts = table(l.freq_starts, kChannels + 1);
  c.tables.weight_starts = table(l.weight_starts, kChannels + 1);
  c.tables.widths = table(l.widths, kChannels + 1);
  c.tables.weights = table(l.weights, config.num_weights);
  c.tables.unweights = table(l.unweights, config.num_weights);
  c.gain_lut = table(l.pcan, kPcanLutSize);
  c.start = config.start_index;
  c.end = config.end_index;
  Device device(micro_speech_model(c));
  static AudioFrontend frontend;  // 11 KB: not on the stack
  ASSERT_EQ(frontend.init(section.data(), static_cast<uint32_t>(section.size())), Status::ok);
  std::mt19937 rng(15);
  const int frames = 30;
  const std::vector<int16_t> pcm = recording(frames, 8, 22, rng);
  size_t at = 0;
  int f = 0;
  while (at < pcm.size()) {
    uint32_t consumed = 0;
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(kHop, pcm.size() - at));
    if (frontend.process(pcm.data() + at, n, &consumed)) {
      const std::vector<int16_t> got = device.run<int16_t>(frame_of(pcm, f));
      const std::vector<int32_t> expected(frontend.features(), frontend.features() + kChannels);
      ASSERT_EQ(std::vector<int32_t>(got.begin(), got.end()), expected) << "frame " << f;
      ++f;
    }
    at += consumed;
  }
  EXPECT_EQ(f, frames);
}

// The stateful ops on a firmware image of only the signal kernels (the emulated Cortex-M4 of
// `tinyforge bench`): the image keeps state tensors (a kernel set without SVDF or LSTM once
// refused them at init) and its output equals the host runtime's.
TEST(SignalOps, MicroSpeechPreprocessorRunsOnTheEmulatedCortexM4) {
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const std::string path = ::testing::TempDir() + "micro_speech_signal.tflite";
  io::write_file(path, testing::build_tflite(micro_speech_model(make_chain())));
  const emit::ProcessResult r = emit::run_process({TINYFORGE_CLI, "bench", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_TRUE(j["output_matches_host"].get<bool>());
}

// The generated int8 preprocessor compiled for the emulated Cortex-M4: the device's output
// equals the host runtime's.
TEST(SignalOps, GeneratedPreprocessorRunsOnTheEmulatedCortexM4) {
  if (!emit::cross_toolchain_available())
    TINYFORGE_SKIP_MISSING("arm-none-eabi-gcc not found (scripts/bootstrap installs it)");
  const std::string path = ::testing::TempDir() + "generated_preprocessor.tflite";
  io::write_file(path, testing::build_tflite(testing::generated_preprocessor_model(
                           make_chain(), testing::PreprocessorOutput::int8)));
  const emit::ProcessResult r = emit::run_process(
      {TINYFORGE_CLI, "bench", path, "--target", "cortex-m4", "--board", "STM32F446RE", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_TRUE(j["output_matches_host"].get<bool>());
}

// --- the reader -----------------------------------------------------------------------

std::string import_error(const ModelSpec& spec) {
  const std::vector<uint8_t> model = testing::build_tflite(spec);
  try {
    import_tflite(model.data(), model.size(), "m.tflite");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

ModelSpec log_model(std::vector<uint8_t> custom_options) {
  ModelSpec spec;
  spec.tensors = {TensorSpec("in", {8}, TT::UINT32), TensorSpec("out", {8}, TT::INT16)};
  spec.ops = {custom("SignalFilterBankLog", {0}, {1}, std::move(custom_options))};
  spec.inputs = {0};
  spec.outputs = {1};
  return spec;
}

TEST(SignalOps, ReaderRefusesBadOptionsNamingTheKey) {
  EXPECT_NE(import_error(log_model(options({{"output_scale", 1600}})))
                .find("lack 'input_correction_bits'"),
            std::string::npos);
  EXPECT_NE(
      import_error(log_model(options({{"input_correction_bits", 40}, {"output_scale", 1600}})))
          .find("'input_correction_bits' is 40; expected 0..31"),
      std::string::npos);
  EXPECT_NE(import_error(
                log_model(options({{"input_correction_bits", 3}, {"output_scale", 1}, {"zz", 1}})))
                .find("hold key 'zz'"),
            std::string::npos);
  flexbuffers::Builder f;
  const size_t map = f.StartMap();
  f.String("input_correction_bits", "three");
  f.Int("output_scale", 1);
  f.EndMap(map);
  f.Finish();
  EXPECT_NE(import_error(log_model(f.GetBuffer())).find("expected an integer"), std::string::npos);
  std::vector<uint8_t> damaged = options({{"input_correction_bits", 3}, {"output_scale", 1}});
  damaged.back() = 0x40;  // an impossible root byte width
  EXPECT_NE(import_error(log_model(damaged)).find("not a well-formed FlexBuffer"),
            std::string::npos);
  flexbuffers::Builder vec;
  vec.Vector([&] { vec.Int(1); });
  vec.Finish();
  EXPECT_NE(import_error(log_model(vec.GetBuffer())).find("expected a map"), std::string::npos);
}

TEST(SignalOps, ReaderRefusesTablesThatReadOutsideTheirTensors) {
  std::mt19937 rng(6);
  FilterBankTables t = make_tables(4, 33, rng);
  t.widths[2] = 40;
  EXPECT_NE(import_error(filter_bank_model(t, 33)).find("channel 2"), std::string::npos);
  ModelSpec wrong_type = log_model(options({{"input_correction_bits", 3}, {"output_scale", 1}}));
  wrong_type.tensors[0].type = TT::INT32;
  EXPECT_NE(import_error(wrong_type).find("expected uint32"), std::string::npos);
}

TEST(SignalOps, ReaderRefusesBadNoiseReductionAndGainOptions) {
  // Missing keys, another op's key and a clamping of another type.
  EXPECT_NE(import_error(subtraction_model(4, options({}))).find("lack 'num_channels'"),
            std::string::npos);
  EXPECT_NE(
      import_error(subtraction_model(4, options({{"snr_shift", 6}}))).find("hold key 'snr_shift'"),
      std::string::npos);
  std::vector<uint8_t> opts = subtraction_options(4, kMicroSpeechSubtraction);
  EXPECT_EQ(import_error(subtraction_model(4, opts)), "");
  flexbuffers::Builder g;
  const size_t m2 = g.StartMap();
  g.Int("alternate_one_minus_smoothing", 1);
  g.Int("alternate_smoothing", 1);
  g.String("clamping", "no");
  g.Int("min_signal_remaining", 1);
  g.Int("num_channels", 4);
  g.Int("one_minus_smoothing", 1);
  g.Int("smoothing", 1);
  g.Int("smoothing_bits", 1);
  g.Int("spectral_subtraction_bits", 1);
  g.EndMap(m2);
  g.Finish();
  EXPECT_NE(import_error(subtraction_model(4, g.GetBuffer())).find("'clamping'"),
            std::string::npos);
  EXPECT_NE(import_error(subtraction_model(5, opts)).find("num_channels 4"), std::string::npos);
  Subtraction wide = kMicroSpeechSubtraction;
  wide.smoothing_bits = 32;
  EXPECT_NE(import_error(subtraction_model(4, subtraction_options(4, wide)))
                .find("'smoothing_bits' is 32; expected 0..31"),
            std::string::npos);
  // PCAN: the gain curve must be a constant of 125 entries.
  const std::vector<int16_t> lut(125, 100);
  EXPECT_EQ(import_error(pcan_model(4, lut, 6)), "");
  EXPECT_NE(import_error(pcan_model(4, std::vector<int16_t>(124, 1), 6)).find("125"),
            std::string::npos);
  ModelSpec variable_lut = pcan_model(4, lut, 6);
  variable_lut.tensors[2].data.clear();
  variable_lut.inputs.push_back(2);
  EXPECT_NE(import_error(variable_lut).find("not constant"), std::string::npos);
  EXPECT_NE(import_error(pcan_model(4, lut, 32)).find("'snr_shift' is 32"), std::string::npos);
  // Delay: 0 is TFLM's identity, not implemented (named with the model's unsupported ops).
  ModelSpec delay;
  delay.tensors = {TensorSpec("in", {8}, TT::INT16), TensorSpec("out", {8}, TT::INT16)};
  delay.ops = {custom("SignalDelay", {0}, {1}, options({{"delay_length", 0}}))};
  delay.inputs = {0};
  delay.outputs = {1};
  EXPECT_NE(import_error(delay).find("'delay_length' is 0"), std::string::npos);
  delay.ops[0].custom_options = options({{"delay_length", -2}});
  EXPECT_NE(import_error(delay).find("'delay_length' is -2; expected 0..32767"), std::string::npos);
}

TEST(SignalOps, TheFloatRfftIsUnsupportedNotDamaged) {
  ModelSpec spec;
  spec.tensors = {TensorSpec("in", {16}, TT::FLOAT32), TensorSpec("out", {18}, TT::FLOAT32)};
  spec.ops = {custom("SignalRfft", {0}, {1}, options({{"T", 0}, {"fft_length", 16}}))};
  spec.inputs = {0};
  spec.outputs = {1};
  const std::vector<uint8_t> model = testing::build_tflite(spec);
  try {
    import_tflite(model.data(), model.size(), "m.tflite");
    ADD_FAILURE() << "imported";
  } catch (const UnsupportedOps& e) {  // listed with the model's other unsupported ops
    ASSERT_EQ(e.refusals().size(), 1u);
    EXPECT_NE(e.refusals()[0].reason.find("only the int16 form"), std::string::npos);
  }
}

TEST(SignalOps, UnknownCustomOpsAreStillRefusedByName) {
  ModelSpec spec = log_model({});
  spec.ops[0].custom_code = "SignalNotAnOp";
  const std::string e = import_error(spec);
  EXPECT_NE(e.find("SignalNotAnOp"), std::string::npos) << e;
  EXPECT_NE(e.find("SignalFilterBankLog"), std::string::npos) << e;  // what it does read
}

}  // namespace
}  // namespace tinyforge
