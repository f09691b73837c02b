// Streaming audio front-end: 16-bit PCM in, one feature vector per hop out (log-mel
// filterbank energies, or MFCCs), with the arithmetic of TFLM's micro front-end
// (tensorflow/lite/experimental/microfrontend/lib: window, fft (kissfft int16), filterbank,
// noise_reduction, pcan_gain_control, log_scale), bit for bit.
//
// The front-end travels in the plan blob (docs/plan-format.md, "Front-end section"): a
// FrontendConfig record followed by tables the compiler computed offline (window, FFT
// twiddles, filterbank layout and weights, PCAN gain curve, DCT), so the device needs no
// libm and host and device read the very same numbers. check_frontend() validates a
// section once; AudioFrontend then trusts it. No heap: the caller owns AudioFrontend.
#pragma once
#include <cstdint>

#include "tinyforge/status.h"

namespace tinyforge {

// Limits of this runtime (the section's sizes are checked against them).
constexpr uint32_t kMaxFrontendFft = 1024;     // FFT points (window <= this)
constexpr uint32_t kMaxFrontendChannels = 64;  // mel channels
constexpr uint32_t kPcanLutSize = 4 * 32 - 3;  // pcan_gain_control_util.h: 4*32-3 entries
constexpr int kNoiseReductionBits = 14;        // noise_reduction.h: smoothing factors in Q14

// FrontendConfig::flags
enum FrontendFlag : uint16_t {
  kFrontendNoiseReduction = 1,  // noise_reduction.c (always on in TFLM's front-end)
  kFrontendPcan = 2,            // pcan_gain_control.c
  kFrontendLog = 4,             // log_scale.c
  kFrontendMfcc = 8,            // DCT-II of the log-mel channels (needs kFrontendLog)
};
constexpr uint16_t kFrontendKnownFlags = 15;

// The section's first record (little-endian, 64 bytes). Tables follow it, each 4-aligned,
// in this order: window int16[window_samples]; FFT twiddles (re,im) int16[2 * fft_size/2];
// real-FFT twiddles int16[2 * fft_size/4]; channel frequency starts, weight starts and
// widths int16[num_channels + 1] each; weights and unweights int16[num_weights] each;
// PCAN gain curve int16[kPcanLutSize] (with kFrontendPcan); DCT int16[num_features *
// num_channels], Q14 (with kFrontendMfcc).
struct FrontendConfig {
  uint32_t sample_rate;           // Hz
  uint16_t window_samples;        // samples per frame (e.g. 480: 30 ms at 16 kHz)
  uint16_t hop_samples;           // samples between frames (e.g. 320: 20 ms)
  uint16_t fft_size;              // power of two >= window_samples, <= kMaxFrontendFft
  uint16_t num_channels;          // mel channels, 1..kMaxFrontendChannels
  uint16_t start_index;           // first FFT bin whose energy the filterbank reads
  uint16_t end_index;             // one past the last
  uint16_t num_weights;           // filterbank weights (and unweights)
  uint16_t flags;                 // FrontendFlag bits
  uint16_t smoothing_bits;        // noise reduction
  uint16_t even_smoothing;        // noise reduction, Q14
  uint16_t odd_smoothing;         // noise reduction, Q14
  uint16_t min_signal_remaining;  // noise reduction, Q14
  uint16_t pcan_snr_shift;        // PCAN: gain_bits - input correction - 12
  uint16_t log_scale_shift;       // log scale (6 for micro_speech)
  uint16_t num_features;          // values per frame: num_channels, or MFCCs with kFrontendMfcc
  uint16_t num_frames;            // frames the model's input holds (e.g. 49)
  float lower_hz, upper_hz;       // the filterbank's band (informative: the tables hold it)
  float feature_scale;            // a feature value v means v * feature_scale (e.g. 1/25.6)
  int32_t output_multiplier;      // feature -> model input: zero_point + (v * M) >> shift,
  int32_t output_shift;           //   rounded, clamped to the input dtype (int8)
  int32_t output_zero_point;
  uint32_t reserved;  // 0
};
static_assert(sizeof(FrontendConfig) == 64, "FrontendConfig layout is part of the format");

// Where each table starts (offsets from the section start), from the config alone; `end`:
// the section's size.
struct FrontendLayout {
  uint32_t window, twiddles, super_twiddles, freq_starts, weight_starts, widths, weights, unweights,
      pcan, dct, end;
};
FrontendLayout frontend_layout(const FrontendConfig& c);

// Bytes of a section with this config (0 when the config is out of this runtime's limits).
uint32_t frontend_section_size(const FrontendConfig& c);

// Checks a front-end section: config within limits and self-consistent, size exact,
// every filterbank range inside the spectrum and the weight tables. ok or the first error.
Status check_frontend(const uint8_t* section, uint32_t size);

// A complex value of the fixed-point FFT (kissfft's kiss_fft_cpx with int16 scalars).
struct Complex16 {
  int16_t r, i;
};

// One stream's state and work buffers (about 11 KB at the limits above).
class AudioFrontend {
 public:
  // section: a check_frontend()-accepted section that outlives this object (e.g. in flash).
  Status init(const uint8_t* section, uint32_t size);
  void reset();  // start a new stream: empty window, noise estimate 0
  const FrontendConfig& config() const { return config_; }

  // Consumes up to n samples; *consumed says how many. Returns true when a frame is
  // complete: its num_features values are then in features() (valid until the next call):
  // log-mel values 0..65535, or signed MFCCs.
  bool process(const int16_t* samples, uint32_t n, uint32_t* consumed);
  const int32_t* features() const { return features_; }

  // A frame's features as model input values (int8), by the section's output scale.
  void quantize(int8_t* out) const;
  // Slides a model input of num_frames frames (oldest first) by one frame and quantizes
  // this frame into its end.
  void push_frame(int8_t* model_input) const;

 private:
  void compute_frame();
  void filterbank(int shift);
  void noise_and_gain();
  void log_and_dct();

  FrontendConfig config_{};
  const int16_t* window_ = nullptr;
  const Complex16* twiddles_ = nullptr;
  const Complex16* super_twiddles_ = nullptr;
  const int16_t *chan_freq_starts_ = nullptr, *chan_weight_starts_ = nullptr,
                *chan_widths_ = nullptr, *weights_ = nullptr, *unweights_ = nullptr,
                *pcan_lut_ = nullptr, *dct_ = nullptr;
  uint16_t factors_[2 * 12] = {};  // kissfft's radix plan (audio/kiss_fft16.h factor())
  uint32_t input_used_ = 0;
  int16_t input_[kMaxFrontendFft] = {};
  int16_t windowed_[kMaxFrontendFft] = {};
  Complex16 fft_input_[kMaxFrontendFft / 2] = {};  // the scaled samples, in pairs
  Complex16 packed_[kMaxFrontendFft / 2] = {};     // their complex FFT
  Complex16 spectrum_[kMaxFrontendFft / 2 + 1] = {};
  uint32_t energy_[kMaxFrontendFft / 2 + 1] = {};
  uint64_t work_[kMaxFrontendChannels + 1] = {};
  uint32_t signal_[kMaxFrontendChannels] = {};
  uint32_t estimate_[kMaxFrontendChannels] = {};
  int32_t features_[kMaxFrontendChannels] = {};  // uint16 log-mel values, or MFCCs
};

}  // namespace tinyforge
