#include "audio/frontend_spec.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "ir/error.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge::audio {
namespace {

constexpr int kWindowBits = 12;          // window.h
constexpr int kFilterbankBits = 12;      // filterbank.h
constexpr int kNoiseReductionBits = 14;  // noise_reduction.h
constexpr int kPcanSnrBits = 12;         // pcan_gain_control.h
constexpr int kDctBits = 14;             // our MFCC table: Q14
// kissfft's pi literal (kiss_fft.c, kiss_fftr.c), as a double.
constexpr double kPi = 3.141592653589793238462643383279502884197169399375105820974944;

int msb32(uint32_t n) { return n == 0 ? 0 : 32 - __builtin_clz(n); }

uint32_t parse_uint(const std::string& key, const std::string& value, const char* unit = "") {
  std::string digits = value;
  const size_t unit_len = std::strlen(unit);
  if (unit_len && digits.size() > unit_len &&
      digits.compare(digits.size() - unit_len, unit_len, unit) == 0)
    digits.resize(digits.size() - unit_len);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    throw tinyforge::Error(fmt::format("--frontend {}={}: expected a whole number{}{}", key, value,
                                       unit_len ? " of " : "", unit));
  return static_cast<uint32_t>(std::stoul(digits));
}

float parse_float(const std::string& key, const std::string& value) {
  size_t used = 0;
  float v = 0;
  try {
    v = std::stof(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || !std::isfinite(v))
    throw tinyforge::Error(fmt::format("--frontend {}={}: expected a number", key, value));
  return v;
}

bool parse_switch(const std::string& key, const std::string& value) {
  if (value == "on" || value == "1") return true;
  if (value == "off" || value == "0") return false;
  throw tinyforge::Error(fmt::format("--frontend {}={}: expected on or off", key, value));
}

// filterbank_util.c FreqToMel: computed in double, returned as float.
float freq_to_mel(float freq) { return static_cast<float>(1127.0 * std::log1p(freq / 700.0)); }

struct Filterbank {
  uint16_t start_index = 0, end_index = 0;
  std::vector<int16_t> freq_starts, weight_starts, widths, weights, unweights;
};

// filterbank_util.c FilterbankPopulateState, with its float/double mix kept: the channel
// edges and weights depend on it to the last bit.
Filterbank make_filterbank(const FrontendSpec& s, uint32_t spectrum_size) {
  constexpr int kIndexAlignment = 4 / sizeof(int16_t);  // kFilterbankIndexAlignment bytes
  constexpr int kBlock = 4;                             // kFilterbankChannelBlockSize
  const int channels_plus_1 = static_cast<int>(s.channels) + 1;
  std::vector<float> center(channels_plus_1);
  const float mel_low = freq_to_mel(s.lower_hz);
  const float mel_hi = freq_to_mel(s.upper_hz);
  const float mel_span = mel_hi - mel_low;
  const float mel_spacing = mel_span / static_cast<float>(channels_plus_1);
  for (int i = 0; i < channels_plus_1; ++i)
    center[i] = mel_low + (mel_spacing * static_cast<float>(i + 1));

  const float hz_per_sbin =
      static_cast<float>(0.5 * s.sample_rate / (static_cast<float>(spectrum_size) - 1));
  Filterbank fb;
  const int start_index = static_cast<int>(1.5 + s.lower_hz / hz_per_sbin);
  fb.freq_starts.assign(channels_plus_1, 0);
  fb.weight_starts.assign(channels_plus_1, 0);
  fb.widths.assign(channels_plus_1, 0);
  std::vector<int> actual_starts(channels_plus_1), actual_widths(channels_plus_1);
  int chan_freq_index_start = start_index, weight_index_start = 0;
  bool needs_zeros = false;
  for (int chan = 0; chan < channels_plus_1; ++chan) {
    int freq_index = chan_freq_index_start;
    while (freq_to_mel(static_cast<float>(freq_index) * hz_per_sbin) <= center[chan]) {
      ++freq_index;
      if (freq_index > static_cast<int>(spectrum_size) + 1)
        throw tinyforge::Error(
            fmt::format("--frontend upper={}: above the Nyquist frequency", s.upper_hz));
    }
    const int width = freq_index - chan_freq_index_start;
    actual_starts[chan] = chan_freq_index_start;
    actual_widths[chan] = width;
    if (width == 0) {
      // An empty channel reads kBlock zero weights placed at the table's start.
      fb.freq_starts[chan] = 0;
      fb.weight_starts[chan] = 0;
      fb.widths[chan] = kBlock;
      if (!needs_zeros) {
        needs_zeros = true;
        for (int j = 0; j < chan; ++j) fb.weight_starts[j] += kBlock;
        weight_index_start += kBlock;
      }
    } else {
      const int aligned_start = (chan_freq_index_start / kIndexAlignment) * kIndexAlignment;
      const int aligned_width = chan_freq_index_start - aligned_start + width;
      const int padded_width = (((aligned_width - 1) / kBlock) + 1) * kBlock;
      fb.freq_starts[chan] = static_cast<int16_t>(aligned_start);
      fb.weight_starts[chan] = static_cast<int16_t>(weight_index_start);
      fb.widths[chan] = static_cast<int16_t>(padded_width);
      weight_index_start += padded_width;
    }
    chan_freq_index_start = freq_index;
  }
  if (weight_index_start > 0x7FFF)
    throw tinyforge::Error("--frontend: the filterbank needs too many weights");
  fb.weights.assign(weight_index_start, 0);
  fb.unweights.assign(weight_index_start, 0);
  int end_index = 0;
  for (int chan = 0; chan < channels_plus_1; ++chan) {
    int frequency = actual_starts[chan];
    const int offset = frequency - fb.freq_starts[chan];
    const int weight_start = fb.weight_starts[chan];
    const float denom_val = chan == 0 ? mel_low : center[chan - 1];
    for (int j = 0; j < actual_widths[chan]; ++j, ++frequency) {
      const float weight =
          (center[chan] - freq_to_mel(static_cast<float>(frequency) * hz_per_sbin)) /
          (center[chan] - denom_val);
      // QuantizeFilterbankWeights: weight * 4096 in float, + 0.5 in double.
      fb.weights[weight_start + offset + j] = static_cast<int16_t>(
          std::floor(static_cast<double>(weight * static_cast<float>(1 << kFilterbankBits)) + 0.5));
      fb.unweights[weight_start + offset + j] =
          static_cast<int16_t>(std::floor((1.0 - weight) * (1 << kFilterbankBits) + 0.5));
    }
    if (frequency > end_index) end_index = frequency;
  }
  if (end_index >= static_cast<int>(spectrum_size))
    throw tinyforge::Error(fmt::format(
        "--frontend upper={}: the filterbank ends above the spectrum (lower it)", s.upper_hz));
  fb.start_index = static_cast<uint16_t>(start_index);
  fb.end_index = static_cast<uint16_t>(end_index);
  return fb;
}

// pcan_gain_control_util.c PcanGainLookupFunction and the LUT of PcanGainControlPopulateState.
int16_t pcan_gain(float strength, float offset, int gain_bits, int input_bits, uint32_t x) {
  const float x_as_float = static_cast<float>(x) / static_cast<float>(uint32_t{1} << input_bits);
  const float gain =
      static_cast<float>(uint32_t{1} << gain_bits) * powf(x_as_float + offset, -strength);
  if (gain > 0x7FFF) return 0x7FFF;
  return static_cast<int16_t>(gain + 0.5f);
}

}  // namespace

std::vector<int16_t> pcan_gain_lut(float strength, float offset, int gain_bits, int input_bits) {
  auto gain = [&](uint32_t x) { return pcan_gain(strength, offset, gain_bits, input_bits, x); };
  std::vector<int16_t> lut(kPcanLutSize, 0);
  lut[0] = gain(0);
  lut[1] = gain(1);
  constexpr int kBits = 32;  // kWideDynamicFunctionBits
  for (int interval = 2; interval <= kBits; ++interval) {
    const uint32_t x0 = uint32_t{1} << (interval - 1);
    const uint32_t x1 = x0 + (x0 >> 1);
    const uint32_t x2 = interval == kBits ? x0 + (x0 - 1) : 2 * x0;
    const int16_t y0 = gain(x0), y1 = gain(x1), y2 = gain(x2);
    const int32_t diff1 = int32_t{y1} - y0, diff2 = int32_t{y2} - y0;
    const int32_t a1 = 4 * diff1 - diff2, a2 = diff2 - a1;
    const int base = 4 * interval - 6;
    lut[base] = y0;
    lut[base + 1] = static_cast<int16_t>(a1);
    lut[base + 2] = static_cast<int16_t>(a2);
  }
  return lut;
}

namespace {

// Orthonormal DCT-II rows (k < count) over n channels, Q14.
std::vector<int16_t> dct_table(uint32_t count, uint32_t n) {
  std::vector<int16_t> t(count * n);
  for (uint32_t k = 0; k < count; ++k)
    for (uint32_t i = 0; i < n; ++i) {
      const double norm = std::sqrt((k == 0 ? 1.0 : 2.0) / n);
      t[k * n + i] = static_cast<int16_t>(
          std::lround(norm * std::cos(kPi * k * (i + 0.5) / n) * (1 << kDctBits)));
    }
  return t;
}

void append(std::vector<uint8_t>& out, const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + bytes);
  out.resize((out.size() + 3) & ~size_t{3}, 0);
}
void append(std::vector<uint8_t>& out, const std::vector<int16_t>& v) {
  append(out, v.data(), v.size() * sizeof(int16_t));
}

// feature -> model input: multiplier and shift with multiplier in [2^30, 2^31).
void output_scale(double real, FrontendConfig& c) {
  if (!(real > 0) || !std::isfinite(real))
    throw tinyforge::Error("--frontend: the model's input scale must be positive");
  int shift = 0;
  while (real * std::ldexp(1.0, shift) < (1u << 30) && shift < 62) ++shift;
  const double m = std::round(real * std::ldexp(1.0, shift));
  if (shift < 1 || m >= 2147483648.0)
    throw tinyforge::Error("--frontend: the feature scale is too large for the model's input");
  c.output_multiplier = static_cast<int32_t>(m);
  c.output_shift = shift;
}

}  // namespace

FrontendSpec parse_frontend_spec(const std::string& text) {
  FrontendSpec s;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty() || item == "default") continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      throw tinyforge::Error("--frontend " + item + ": expected KEY=VALUE");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "rate")
      s.sample_rate = parse_uint(key, value, "Hz");
    else if (key == "window")
      s.window_ms = parse_uint(key, value, "ms");
    else if (key == "hop")
      s.hop_ms = parse_uint(key, value, "ms");
    else if (key == "channels")
      s.channels = parse_uint(key, value);
    else if (key == "lower")
      s.lower_hz = parse_float(key, value);
    else if (key == "upper")
      s.upper_hz = parse_float(key, value);
    else if (key == "pcan")
      s.pcan = parse_switch(key, value);
    else if (key == "log")
      s.log = parse_switch(key, value);
    else if (key == "log_shift")
      s.log_shift = parse_uint(key, value);
    else if (key == "smoothing_bits")
      s.smoothing_bits = parse_uint(key, value);
    else if (key == "mfcc")
      s.mfcc = parse_uint(key, value);
    else if (key == "frames")
      s.frames = parse_uint(key, value);
    else if (key == "scale")
      s.feature_scale = parse_float(key, value);
    else
      throw tinyforge::Error("--frontend " + key +
                             ": unknown key (rate, window, hop, channels, lower, upper, pcan, "
                             "log, log_shift, smoothing_bits, mfcc, frames, scale)");
  }
  return s;
}

std::string describe(const FrontendSpec& s) {
  std::string d =
      fmt::format("{} Hz, {} ms window, {} ms hop, {} channels {:g}-{:g} Hz", s.sample_rate,
                  s.window_ms, s.hop_ms, s.channels, s.lower_hz, s.upper_hz);
  d += s.pcan ? ", PCAN" : "";
  d += s.log ? fmt::format(", log (shift {})", s.log_shift) : ", no log";
  if (s.mfcc) d += fmt::format(", {} MFCCs", s.mfcc);
  return d;
}

KissTwiddles kiss_fftr_twiddles(uint32_t fft_size) {
  // kiss_fft_alloc / kiss_fftr_alloc twiddles, kf_cexp with FIXED_POINT's KISS_FFT_COS/SIN:
  // floor(0.5 + 32767 * cos(phase)).
  const auto cexp = [](double phase, std::vector<int16_t>& t) {
    t.push_back(static_cast<int16_t>(std::floor(0.5 + 32767 * std::cos(phase))));
    t.push_back(static_cast<int16_t>(std::floor(0.5 + 32767 * std::sin(phase))));
  };
  const uint32_t ncfft = fft_size / 2;
  KissTwiddles t;
  for (uint32_t i = 0; i < ncfft; ++i) cexp(-2 * kPi * i / ncfft, t.twiddles);
  for (uint32_t i = 0; i < ncfft / 2; ++i)
    cexp(-kPi * (static_cast<double>(i + 1) / ncfft + 0.5), t.super_twiddles);
  return t;
}

std::vector<uint8_t> build_frontend_section(const FrontendSpec& s, const ModelInput& input) {
  const uint32_t window = s.window_ms * s.sample_rate / 1000;  // window_util.c
  const uint32_t hop = s.hop_ms * s.sample_rate / 1000;
  uint32_t fft = 1;
  while (fft < window) fft <<= 1;  // fft_util.cc
  if (s.sample_rate == 0 || window == 0 || hop == 0 || hop > window || fft > kMaxFrontendFft ||
      fft < 8)
    throw tinyforge::Error(fmt::format(
        "--frontend: a {} ms window and {} ms hop at {} Hz is out of range (window up to {} "
        "samples, hop at most the window)",
        s.window_ms, s.hop_ms, s.sample_rate, kMaxFrontendFft));
  if (s.channels == 0 || s.channels > kMaxFrontendChannels)
    throw tinyforge::Error(
        fmt::format("--frontend channels={}: 1 to {}", s.channels, kMaxFrontendChannels));
  if (!(s.lower_hz >= 0) || !(s.upper_hz > s.lower_hz) || s.upper_hz > s.sample_rate / 2.0f)
    throw tinyforge::Error(
        fmt::format("--frontend lower={:g},upper={:g}: need 0 <= lower < upper <= half the rate",
                    s.lower_hz, s.upper_hz));
  if (s.mfcc > s.channels || (s.mfcc && !s.log))
    throw tinyforge::Error("--frontend mfcc: at most the channel count, and needs log=on");
  if (s.smoothing_bits > 16 || s.log_shift > 16 || s.pcan_gain_bits < 0 || s.pcan_gain_bits > 31)
    throw tinyforge::Error("--frontend: smoothing_bits and log_shift are 0..16");
  const uint32_t features = s.mfcc ? s.mfcc : s.channels;
  const uint32_t frames = s.frames ? s.frames : input.elements / features;
  if (frames == 0 || frames > 0xFFFF || frames * features != input.elements)
    throw tinyforge::Error(fmt::format(
        "--frontend: {} frames of {} features do not fill the model's input of {} values", frames,
        features, input.elements));

  FrontendConfig c{};
  c.sample_rate = s.sample_rate;
  c.window_samples = static_cast<uint16_t>(window);
  c.hop_samples = static_cast<uint16_t>(hop);
  c.fft_size = static_cast<uint16_t>(fft);
  c.num_channels = static_cast<uint16_t>(s.channels);
  const Filterbank fb = make_filterbank(s, fft / 2 + 1);
  c.start_index = fb.start_index;
  c.end_index = fb.end_index;
  c.num_weights = static_cast<uint16_t>(fb.weights.size());
  c.flags = static_cast<uint16_t>(kFrontendNoiseReduction | (s.pcan ? kFrontendPcan : 0) |
                                  (s.log ? kFrontendLog : 0) | (s.mfcc ? kFrontendMfcc : 0));
  c.smoothing_bits = static_cast<uint16_t>(s.smoothing_bits);
  // noise_reduction_util.c: float * 2^14, truncated into uint16.
  c.even_smoothing = static_cast<uint16_t>(s.even_smoothing * (1 << kNoiseReductionBits));
  c.odd_smoothing = static_cast<uint16_t>(s.odd_smoothing * (1 << kNoiseReductionBits));
  c.min_signal_remaining =
      static_cast<uint16_t>(s.min_signal_remaining * (1 << kNoiseReductionBits));
  // frontend_util.c: the input correction bits, and pcan_gain_control_util.c's snr shift.
  const int correction_bits = msb32(fft) - 1 - kFilterbankBits / 2;
  const int snr_shift = s.pcan_gain_bits - correction_bits - kPcanSnrBits;
  if (s.pcan && (snr_shift < 0 || snr_shift > 31))
    throw tinyforge::Error("--frontend: PCAN's gain bits do not suit this FFT size");
  c.pcan_snr_shift = static_cast<uint16_t>(s.pcan ? snr_shift : 0);
  c.log_scale_shift = static_cast<uint16_t>(s.log_shift);
  c.num_features = static_cast<uint16_t>(features);
  c.num_frames = static_cast<uint16_t>(frames);
  c.lower_hz = s.lower_hz;
  c.upper_hz = s.upper_hz;
  c.feature_scale = s.feature_scale;
  c.output_zero_point = input.zero_point;
  output_scale(static_cast<double>(s.feature_scale) / input.scale, c);

  std::vector<uint8_t> out;
  append(out, &c, sizeof c);
  // window_util.c: Hann over (i + 0.5), arg in float, value in double then float, Q12.
  std::vector<int16_t> win(window);
  const float arg = static_cast<float>(kPi * 2.0 / static_cast<float>(window));
  for (uint32_t i = 0; i < window; ++i) {
    const float v = static_cast<float>(0.5 - 0.5 * std::cos(arg * (i + 0.5)));
    win[i] = static_cast<int16_t>(
        std::floor(static_cast<double>(v * static_cast<float>(1 << kWindowBits)) + 0.5));
  }
  append(out, win);
  const KissTwiddles twiddles = kiss_fftr_twiddles(fft);
  append(out, twiddles.twiddles);
  append(out, twiddles.super_twiddles);
  append(out, fb.freq_starts);
  append(out, fb.weight_starts);
  append(out, fb.widths);
  append(out, fb.weights);
  append(out, fb.unweights);
  if (s.pcan)
    append(out, pcan_gain_lut(s.pcan_strength, s.pcan_offset, s.pcan_gain_bits,
                              static_cast<int>(s.smoothing_bits) - correction_bits));
  if (s.mfcc) append(out, dct_table(s.mfcc, s.channels));
  if (check_frontend(out.data(), static_cast<uint32_t>(out.size())) != Status::ok)
    throw tinyforge::Error("--frontend " + describe(s) + ": the runtime would refuse this section");
  return out;
}

}  // namespace tinyforge::audio
