// The micro front-end's arithmetic, stage by stage, as TFLM publishes it
// (tensorflow/lite/experimental/microfrontend/lib/*.c and kissfft 1.3.0 with FIXED_POINT=16,
// _kiss_fft_guts.h): every shift, rounding and wrap below is theirs, because the features
// must match byte for byte. Unsigned types are used where TFLM's are, so the wraps are
// defined behaviour here too. The FFT works on complex values packed in one word (real in
// the low half) with the Armv7E-M DSP instructions of kernels/armv7em/dsp.h, which are exact
// portable C on other cores and the host: one code path, bit for bit the same everywhere.
#include <cstring>

#include "kernels/armv7em/dsp.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

constexpr int kWindowBits = 12;        // window.h: kFrontendWindowBits
constexpr int kFilterbankBits = 12;    // filterbank.h: kFilterbankBits
constexpr int kPcanSnrBits = 12;       // pcan_gain_control.h: kPcanSnrBits
constexpr int kPcanOutputBits = 6;     // pcan_gain_control.h: kPcanOutputBits
constexpr int kLogScaleLog2 = 16;      // log_lut.h: kLogScaleLog2 (kLogScale = 65536)
constexpr int kLogSegmentsLog2 = 7;    // log_lut.h: kLogSegmentsLog2
constexpr uint32_t kLogCoeff = 45426;  // log_lut.h: kLogCoeff, ln(2) in Q16
constexpr int kDctBits = 14;           // our MFCC table's fixed point (Q14)

// log_lut.c: kLogLut, log2(1 + x) - x on 128 segments of [0, 1), Q16.
constexpr uint16_t kLogLut[] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646,
    2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460,
    4549, 4633, 4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408,
    5444, 5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633,
    5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249,
    5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341,
    4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981,
    2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224,
    1094, 963,  830,  695,  559,  421,  282,  142,  0,    0};

// bits.h: MostSignificantBit32/64 (0 for 0).
int msb32(uint32_t n) { return n == 0 ? 0 : 32 - __builtin_clz(n); }
int msb64(uint64_t n) { return n == 0 ? 0 : 64 - __builtin_clzll(n); }

// _kiss_fft_guts.h, FIXED_POINT 16: sround(x) = (x + 2^14) >> 15 into int16; C_FIXDIV(c, k)
// multiplies by SAMP_MAX / k (32767 / k) and srounds. On packed complex values (real in
// lane 0): C_MUL is SMLSD / SMLADX with sround's 2^14 as the accumulator;
// C_ADD / C_SUB wrap in int16 lanes as kissfft's stores into int16 do (SADD16 / SSUB16);
// C_FIXDIV multiplies each lane by 32767 / k (SMLABB / SMLATT).
using dsp::sadd16;
using dsp::ssub16;
uint32_t load(const Complex16* p) { return dsp::load32(p); }
void store(Complex16* p, uint32_t v) { dsp::store32(p, v); }
uint32_t cmul(uint32_t a, uint32_t b) {
  return dsp::pair(dsp::smlsd(a, b, 1 << 14) >> 15, dsp::smladx(a, b, 1 << 14) >> 15);
}
uint32_t fixdiv(uint32_t c, int32_t k) {
  const uint32_t kk = dsp::pair(32767 / k, 32767 / k);
  return dsp::pair(dsp::smlabb(c, kk, 1 << 14) >> 15, dsp::smlatt(c, kk, 1 << 14) >> 15);
}

// kiss_fft.c kf_factor for a power of two: radix 4 while it divides, then 2.
uint32_t factor(uint32_t n, uint16_t* out) {
  uint32_t count = 0;
  while (n > 1) {
    const uint32_t p = n % 4 == 0 ? 4 : 2;
    n /= p;
    out[count++] = static_cast<uint16_t>(p);
    out[count++] = static_cast<uint16_t>(n);
  }
  return count;
}

// filterbank.c Sqrt32 / Sqrt64: bit-by-bit integer square root, rounded.
uint32_t sqrt32(uint32_t num) {
  if (num == 0) return 0;
  uint32_t res = 0;
  const int max_bit_number = (32 - msb32(num)) | 1;
  uint32_t bit = 1u << (31 - max_bit_number);
  for (int it = (31 - max_bit_number) / 2 + 1; it > 0; --it) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != 0xFFFF) ++res;
  return res;
}
uint32_t sqrt64(uint64_t num) {
  if ((num >> 32) == 0) return sqrt32(static_cast<uint32_t>(num));  // TFLM's shortcut
  uint64_t res = 0;
  const int max_bit_number = (64 - msb64(num)) | 1;
  uint64_t bit = 1ull << (63 - max_bit_number);
  for (int it = (63 - max_bit_number) / 2 + 1; it > 0; --it) {
    if (num >= res + bit) {
      num -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (num > res && res != 0xFFFFFFFFull) ++res;
  return static_cast<uint32_t>(res);
}

// pcan_gain_control.c WideDynamicFunction: the gain curve, piecewise quadratic per octave.
int16_t wide_dynamic_function(uint32_t x, const int16_t* lut) {
  if (x <= 2) return lut[x];
  const int interval = msb32(x);
  lut += 4 * interval - 6;
  const int32_t frac =
      static_cast<int16_t>((interval < 11 ? x << (11 - interval) : x >> (interval - 11)) & 0x3FF);
  int32_t result = (int32_t{lut[2]} * frac) >> 5;
  result += static_cast<int32_t>(static_cast<uint32_t>(lut[1]) << 5);
  result *= frac;
  result = (result + (1 << 14)) >> 15;
  result += lut[0];
  return static_cast<int16_t>(result);
}

uint32_t pcan_shrink(uint32_t x) {
  if (x < (2u << kPcanSnrBits)) return (x * x) >> (2 + 2 * kPcanSnrBits - kPcanOutputBits);
  return (x >> (kPcanSnrBits - kPcanOutputBits)) - (1u << kPcanOutputBits);
}

// log_scale.c Log2FractionPart and Log: log2 by the segment table, then ln, then scaled.
uint32_t log2_fraction(uint32_t x, uint32_t log2x) {
  int32_t frac = static_cast<int32_t>(x - (1u << log2x));
  if (log2x < kLogScaleLog2)
    frac = static_cast<int32_t>(static_cast<uint32_t>(frac) << (kLogScaleLog2 - log2x));
  else
    frac >>= log2x - kLogScaleLog2;
  const uint32_t base_seg = static_cast<uint32_t>(frac) >> (kLogScaleLog2 - kLogSegmentsLog2);
  const uint32_t seg_unit = (1u << kLogScaleLog2) >> kLogSegmentsLog2;
  const int32_t c0 = kLogLut[base_seg], c1 = kLogLut[base_seg + 1];
  const int32_t seg_base = static_cast<int32_t>(seg_unit * base_seg);
  const int32_t rel_pos = ((c1 - c0) * (frac - seg_base)) >> kLogScaleLog2;
  return static_cast<uint32_t>(frac + c0 + rel_pos);
}
uint32_t log_scaled(uint32_t x, uint32_t scale_shift) {
  const uint32_t integer = static_cast<uint32_t>(msb32(x) - 1);
  const uint32_t log2 = (integer << kLogScaleLog2) + log2_fraction(x, integer);
  const uint32_t round = (1u << kLogScaleLog2) / 2;
  const uint32_t loge =
      static_cast<uint32_t>((uint64_t{kLogCoeff} * log2 + round) >> kLogScaleLog2);
  return ((loge << scale_shift) + round) >> kLogScaleLog2;
}

}  // namespace

Status AudioFrontend::init(const uint8_t* section, uint32_t size) {
  const Status s = check_frontend(section, size);
  if (s != Status::ok) return s;
  std::memcpy(&config_, section, sizeof config_);
  const FrontendLayout l = frontend_layout(config_);
  const auto i16 = [section](uint32_t offset) {
    return reinterpret_cast<const int16_t*>(section + offset);
  };
  window_ = i16(l.window);
  twiddles_ = reinterpret_cast<const Complex16*>(section + l.twiddles);
  super_twiddles_ = reinterpret_cast<const Complex16*>(section + l.super_twiddles);
  chan_freq_starts_ = i16(l.freq_starts);
  chan_weight_starts_ = i16(l.weight_starts);
  chan_widths_ = i16(l.widths);
  weights_ = i16(l.weights);
  unweights_ = i16(l.unweights);
  pcan_lut_ = (config_.flags & kFrontendPcan) ? i16(l.pcan) : nullptr;
  dct_ = (config_.flags & kFrontendMfcc) ? i16(l.dct) : nullptr;
  factor(config_.fft_size / 2, factors_);
  reset();
  return Status::ok;
}

void AudioFrontend::reset() {
  input_used_ = 0;
  std::memset(input_, 0, sizeof input_);
  std::memset(energy_, 0, sizeof energy_);
  std::memset(estimate_, 0, sizeof estimate_);
}

// window.c WindowProcessSamples: buffer until a window is full, then shift by one hop.
bool AudioFrontend::process(const int16_t* samples, uint32_t n, uint32_t* consumed) {
  const uint32_t size = config_.window_samples;
  uint32_t take = size - input_used_;
  if (take > n) take = n;
  std::memcpy(input_ + input_used_, samples, take * sizeof(int16_t));
  *consumed = take;
  input_used_ += take;
  if (input_used_ < size) return false;
  compute_frame();
  const uint32_t step = config_.hop_samples;
  std::memmove(input_, input_ + step, (size - step) * sizeof(int16_t));
  input_used_ -= step;
  return true;
}

void AudioFrontend::compute_frame() {
  // Window (Q12); the largest magnitude picks the FFT's input shift. As in window.c, a
  // -32768 result negates to itself in int16 and so never counts as the largest.
  int16_t max_abs = 0;
  for (uint32_t i = 0; i < config_.window_samples; ++i) {
    int16_t v = static_cast<int16_t>((int32_t{input_[i]} * window_[i]) >> kWindowBits);
    windowed_[i] = v;
    if (v < 0) v = static_cast<int16_t>(-v);
    if (v > max_abs) max_abs = v;
  }
  // frontend.c: shift = 15 - MSB(max); fft.cc scales the input by it through uint16.
  const int shift = 15 - msb32(static_cast<uint32_t>(max_abs));
  const auto scaled = [this, shift](uint32_t i) {
    return i < config_.window_samples
               ? static_cast<int16_t>(static_cast<uint16_t>(windowed_[i]) << shift)
               : int16_t{0};
  };
  for (uint32_t k = 0; k < config_.fft_size / 2; ++k)
    fft_input_[k] = {scaled(2 * k), scaled(2 * k + 1)};
  real_fft();
  filterbank(shift);
  noise_and_gain();
  log_and_dct();
}

// kiss_fft.c kf_work: decimation in time, recursing over the radix plan, then the stage's
// butterflies (kf_bfly4 / kf_bfly2, forward, with their C_FIXDIV scaling).
void AudioFrontend::fft_stage(Complex16* out, const Complex16* in, uint32_t stride,
                              const uint16_t* factors) {
  const uint32_t p = factors[0], m = factors[1];
  if (m == 1) {
    for (uint32_t k = 0; k < p; ++k) out[k] = in[k * stride];
  } else {
    for (uint32_t k = 0; k < p; ++k)
      fft_stage(out + k * m, in + k * stride, stride * p, factors + 2);
  }
  Complex16* f = out;
  const Complex16* tw = twiddles_;
  if (p == 2) {
    for (uint32_t k = 0; k < m; ++k) {
      const uint32_t a = fixdiv(load(f + k), 2), b = fixdiv(load(f + k + m), 2);
      const uint32_t t = cmul(b, load(tw + k * stride));
      store(f + k + m, ssub16(a, t));
      store(f + k, sadd16(a, t));
    }
    return;
  }
  const Complex16 *tw1 = tw, *tw2 = tw, *tw3 = tw;
  for (uint32_t k = 0; k < m; ++k, tw1 += stride, tw2 += 2 * stride, tw3 += 3 * stride) {
    const uint32_t f0 = fixdiv(load(f + k), 4), f1 = fixdiv(load(f + k + m), 4),
                   f2 = fixdiv(load(f + k + 2 * m), 4), f3 = fixdiv(load(f + k + 3 * m), 4);
    const uint32_t s0 = cmul(f1, load(tw1)), s1 = cmul(f2, load(tw2)), s2 = cmul(f3, load(tw3));
    const uint32_t s5 = ssub16(f0, s1), sum01 = sadd16(f0, s1);
    const uint32_t s3 = sadd16(s0, s2), s4 = ssub16(s0, s2);
    store(f + k + 2 * m, ssub16(sum01, s3));
    store(f + k, sadd16(sum01, s3));
    store(f + k + m, dsp::ssax(s5, s4));      // (s5.r + s4.i, s5.i - s4.r)
    store(f + k + 3 * m, dsp::sasx(s5, s4));  // (s5.r - s4.i, s5.i + s4.r)
  }
}

// kiss_fftr.c kiss_fftr: a complex FFT of half the length over the samples taken in pairs,
// then the split into the real signal's spectrum.
void AudioFrontend::real_fft() {
  const uint32_t ncfft = config_.fft_size / 2;
  fft_stage(packed_, fft_input_, 1, factors_);
  const uint32_t dc = fixdiv(load(packed_), 2);
  const int32_t dc_r = dsp::lane0(dc), dc_i = dsp::lane1(dc);
  spectrum_[0] = {static_cast<int16_t>(dc_r + dc_i), 0};
  spectrum_[ncfft] = {static_cast<int16_t>(dc_r - dc_i), 0};
  for (uint32_t k = 1; k <= ncfft / 2; ++k) {
    const uint32_t fpk = fixdiv(load(packed_ + k), 2);
    const uint32_t nk = load(packed_ + ncfft - k);
    const uint32_t fpnk = fixdiv(dsp::pair(dsp::lane0(nk), -dsp::lane1(nk)), 2);  // conjugate
    const uint32_t f1k = sadd16(fpk, fpnk), f2k = ssub16(fpk, fpnk);
    const uint32_t tw = cmul(f2k, load(super_twiddles_ + k - 1));
    const int32_t f1r = dsp::lane0(f1k), f1i = dsp::lane1(f1k);
    const int32_t twr = dsp::lane0(tw), twi = dsp::lane1(tw);
    store(spectrum_ + k, dsp::pair((f1r + twr) >> 1, (f1i + twi) >> 1));
    store(spectrum_ + ncfft - k, dsp::pair((f1r - twr) >> 1, (twi - f1i) >> 1));
  }
}

// filterbank.c: energies |X|^2 (wrapping in 32 bits, then sign-extended to 64 as TFLM's
// int32 array is), triangular mel weights accumulated in 64 bits, sqrt, undo the shift.
// Energies outside [start_index, end_index) stay 0 from reset(): only zero weights read them.
void AudioFrontend::filterbank(int shift) {
  for (uint32_t i = config_.start_index; i < config_.end_index; ++i) {
    const uint32_t x = load(spectrum_ + i);
    energy_[i] = static_cast<uint32_t>(dsp::smlad(x, x, 0));  // re^2 + im^2, wrapping
  }
  uint64_t weight_acc = 0, unweight_acc = 0;
  for (uint32_t ch = 0; ch <= config_.num_channels; ++ch) {
    const uint32_t* mags = energy_ + chan_freq_starts_[ch];
    const int16_t* w = weights_ + chan_weight_starts_[ch];
    const int16_t* u = unweights_ + chan_weight_starts_[ch];
    for (int32_t j = 0; j < chan_widths_[ch]; ++j) {
      // Modulo 2^64 this is TFLM's uint64 product of the sign-extended values: SMLAL.
      const int64_t mag = static_cast<int32_t>(mags[j]);
      weight_acc += static_cast<uint64_t>(w[j] * mag);
      unweight_acc += static_cast<uint64_t>(u[j] * mag);
    }
    work_[ch] = weight_acc;
    weight_acc = unweight_acc;
    unweight_acc = 0;
  }
  for (uint32_t ch = 0; ch < config_.num_channels; ++ch)
    signal_[ch] = sqrt64(work_[ch + 1]) >> shift;
}

// noise_reduction.c, then pcan_gain_control.c (its noise estimate is noise reduction's).
void AudioFrontend::noise_and_gain() {
  const uint32_t bits = config_.smoothing_bits;
  if (config_.flags & kFrontendNoiseReduction) {
    for (uint32_t i = 0; i < config_.num_channels; ++i) {
      const uint32_t smoothing = (i & 1) == 0 ? config_.even_smoothing : config_.odd_smoothing;
      const uint32_t one_minus = (1u << kNoiseReductionBits) - smoothing;
      const uint32_t scaled_up = signal_[i] << bits;
      uint32_t estimate = static_cast<uint32_t>(
          (uint64_t{scaled_up} * smoothing + uint64_t{estimate_[i]} * one_minus) >>
          kNoiseReductionBits);
      estimate_[i] = estimate;
      if (estimate > scaled_up) estimate = scaled_up;
      const uint32_t floor = static_cast<uint32_t>(
          (uint64_t{signal_[i]} * config_.min_signal_remaining) >> kNoiseReductionBits);
      const uint32_t subtracted = (scaled_up - estimate) >> bits;
      signal_[i] = subtracted > floor ? subtracted : floor;
    }
  }
  if (config_.flags & kFrontendPcan) {
    for (uint32_t i = 0; i < config_.num_channels; ++i) {
      const uint32_t gain =
          static_cast<uint32_t>(int32_t{wide_dynamic_function(estimate_[i], pcan_lut_)});
      const uint32_t snr =
          static_cast<uint32_t>((uint64_t{signal_[i]} * gain) >> config_.pcan_snr_shift);
      signal_[i] = pcan_shrink(snr);
    }
  }
}

// log_scale.c with frontend.c's correction bits, then (MFCC) a Q14 DCT-II of the channels.
void AudioFrontend::log_and_dct() {
  const int correction = msb32(config_.fft_size) - 1 - kFilterbankBits / 2;
  for (uint32_t i = 0; i < config_.num_channels; ++i) {
    uint32_t value = signal_[i];
    if (config_.flags & kFrontendLog) {
      value = correction < 0 ? value >> -correction : value << correction;
      value = value > 1 ? log_scaled(value, config_.log_scale_shift) : 0;
    }
    features_[i] = static_cast<int32_t>(value < 0xFFFF ? value : 0xFFFF);
  }
  if (!dct_) return;
  int32_t logmel[kMaxFrontendChannels];
  std::memcpy(logmel, features_, config_.num_channels * sizeof(int32_t));
  for (uint32_t k = 0; k < config_.num_features; ++k) {
    int64_t acc = 0;
    for (uint32_t n = 0; n < config_.num_channels; ++n)
      acc += int64_t{dct_[k * config_.num_channels + n]} * logmel[n];
    features_[k] = static_cast<int32_t>((acc + (1 << (kDctBits - 1))) >> kDctBits);
  }
}

void AudioFrontend::quantize(int8_t* out) const {
  const int64_t round = int64_t{1} << (config_.output_shift - 1);
  for (uint32_t i = 0; i < config_.num_features; ++i) {
    const int64_t q =
        config_.output_zero_point +
        ((int64_t{features_[i]} * config_.output_multiplier + round) >> config_.output_shift);
    out[i] = static_cast<int8_t>(q < -128 ? -128 : q > 127 ? 127 : q);
  }
}

void AudioFrontend::push_frame(int8_t* model_input) const {
  const uint32_t width = config_.num_features;
  std::memmove(model_input, model_input + width, (config_.num_frames - 1u) * width);
  quantize(model_input + (config_.num_frames - 1u) * width);
}

}  // namespace tinyforge
