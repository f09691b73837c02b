// The audio front-end section's layout and its check (tinyforge/audio_frontend.h), apart
// from the front-end's arithmetic (runtime/audio) so that the plan validator, which checks
// the section of every blob that carries one, needs nothing else of the front-end.
#include <cstring>

#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

uint32_t align4(uint32_t v) { return (v + 3u) & ~3u; }

bool config_in_limits(const FrontendConfig& c) {
  const uint32_t fft = c.fft_size;
  if (fft < 8 || fft > kMaxFrontendFft || (fft & (fft - 1)) != 0) return false;
  if (c.window_samples == 0 || c.window_samples > fft) return false;
  if (c.hop_samples == 0 || c.hop_samples > c.window_samples) return false;
  if (c.num_channels == 0 || c.num_channels > kMaxFrontendChannels) return false;
  if ((c.flags & ~kFrontendKnownFlags) != 0 || c.reserved != 0) return false;
  if ((c.flags & kFrontendMfcc) && !(c.flags & kFrontendLog)) return false;
  const bool mfcc = (c.flags & kFrontendMfcc) != 0;
  if (c.num_features == 0 ||
      (mfcc ? c.num_features > c.num_channels : c.num_features != c.num_channels))
    return false;
  if (c.num_frames == 0) return false;
  if (c.smoothing_bits > 16 || c.even_smoothing > (1u << kNoiseReductionBits) ||
      c.odd_smoothing > (1u << kNoiseReductionBits) ||
      c.min_signal_remaining > (1u << kNoiseReductionBits))
    return false;
  if (c.pcan_snr_shift > 31 || c.log_scale_shift > 16) return false;
  if (c.output_multiplier <= 0 || c.output_shift < 1 || c.output_shift > 62) return false;
  if (c.output_zero_point < -128 || c.output_zero_point > 127) return false;
  return c.start_index >= 1 && c.start_index <= c.end_index && c.end_index <= fft / 2 + 1;
}

}  // namespace

FrontendLayout frontend_layout(const FrontendConfig& c) {
  FrontendLayout l{};
  uint32_t at = sizeof(FrontendConfig);
  const auto take = [&at](uint32_t bytes) {
    const uint32_t here = at;
    at = align4(at + bytes);
    return here;
  };
  l.window = take(2u * c.window_samples);
  l.twiddles = take(4u * (c.fft_size / 2));
  l.super_twiddles = take(4u * (c.fft_size / 4));
  l.freq_starts = take(2u * (c.num_channels + 1u));
  l.weight_starts = take(2u * (c.num_channels + 1u));
  l.widths = take(2u * (c.num_channels + 1u));
  l.weights = take(2u * c.num_weights);
  l.unweights = take(2u * c.num_weights);
  l.pcan = take((c.flags & kFrontendPcan) ? 2u * kPcanLutSize : 0);
  l.dct = take((c.flags & kFrontendMfcc) ? 2u * c.num_features * c.num_channels : 0);
  l.end = at;
  return l;
}

uint32_t frontend_section_size(const FrontendConfig& c) {
  return config_in_limits(c) ? frontend_layout(c).end : 0;
}

Status check_frontend(const uint8_t* section, uint32_t size) {
  if (section == nullptr || size < sizeof(FrontendConfig)) return Status::truncated;
  if (reinterpret_cast<uintptr_t>(section) % 4 != 0) return Status::misaligned;
  FrontendConfig c;
  std::memcpy(&c, section, sizeof c);
  if (!config_in_limits(c)) return Status::bad_params;
  const FrontendLayout l = frontend_layout(c);
  if (l.end != size) return Status::truncated;
  // Every channel reads widths[ch] energies from freq_starts[ch] and as many weights from
  // weight_starts[ch]: both ranges must lie inside the spectrum and the weight tables.
  const auto table = [section](uint32_t offset, uint32_t i) {
    int16_t v;
    std::memcpy(&v, section + offset + 2 * i, 2);
    return v;
  };
  for (uint32_t ch = 0; ch <= c.num_channels; ++ch) {
    const int32_t freq = table(l.freq_starts, ch), weight = table(l.weight_starts, ch),
                  width = table(l.widths, ch);
    if (freq < 0 || weight < 0 || width < 0) return Status::out_of_bounds;
    if (freq + width > static_cast<int32_t>(c.fft_size / 2 + 1) || weight + width > c.num_weights)
      return Status::out_of_bounds;
  }
  return Status::ok;
}

}  // namespace tinyforge
