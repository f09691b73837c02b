// The micro front-end's arithmetic, stage by stage, as TFLM publishes it
// (tensorflow/lite/experimental/microfrontend/lib/*.c and kissfft 1.3.0 with FIXED_POINT=16,
// _kiss_fft_guts.h): every shift, rounding and wrap below is theirs, because the features
// must match byte for byte. Unsigned types are used where TFLM's are, so the wraps are
// defined behaviour here too. The FFT (audio/kiss_fft16.h) and the square root and log
// (audio/audio_math.h) are shared with the signal library's kernels, whose arithmetic is the
// same: one code path, bit for bit the same on every core and the host.
#include <cstring>

#include "audio/audio_math.h"
#include "audio/kiss_fft16.h"
#include "kernels/armv7em/dsp.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

using audio::load;
using audio::msb32;
using audio::sqrt64;

constexpr int kWindowBits = 12;      // window.h: kFrontendWindowBits
constexpr int kFilterbankBits = 12;  // filterbank.h: kFilterbankBits
constexpr int kDctBits = 14;         // our MFCC table's fixed point (Q14)

// log_scale.c Log: ln(x) in Q16, then scaled by 2^scale_shift / 2^16.
uint32_t log_scaled(uint32_t x, uint32_t scale_shift) {
  const uint32_t round = (1u << audio::kLogScaleLog2) / 2;
  return ((audio::ln_q16(x) << scale_shift) + round) >> audio::kLogScaleLog2;
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
  audio::factor(config_.fft_size / 2, factors_);
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
  audio::real_fft(fft_input_, packed_, spectrum_, config_.fft_size, factors_, twiddles_,
                  super_twiddles_);
  filterbank(shift);
  noise_and_gain();
  log_and_dct();
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
  const int bits = static_cast<int>(config_.smoothing_bits);
  if (config_.flags & kFrontendNoiseReduction) {
    for (uint32_t i = 0; i < config_.num_channels; ++i) {
      const uint32_t smoothing = (i & 1) == 0 ? config_.even_smoothing : config_.odd_smoothing;
      signal_[i] = audio::spectral_subtract(
          signal_[i], estimate_[i], smoothing, (1u << kNoiseReductionBits) - smoothing,
          config_.min_signal_remaining, bits, kNoiseReductionBits, false);
    }
  }
  if (config_.flags & kFrontendPcan) {
    for (uint32_t i = 0; i < config_.num_channels; ++i)
      signal_[i] = audio::pcan(signal_[i], estimate_[i], pcan_lut_, config_.pcan_snr_shift);
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
