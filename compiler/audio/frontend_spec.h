// The audio front-end as the user describes it (--frontend SPEC) and the plan blob's
// front-end section built from it: the config record plus every table the device reads
// (runtime/include/tinyforge/audio_frontend.h), computed here offline with the float and
// double arithmetic of TFLM's *_util.c population code, so the device needs no libm.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tinyforge::audio {

struct FrontendSpec {
  uint32_t sample_rate = 16000;
  uint32_t window_ms = 30, hop_ms = 20;
  uint32_t channels = 40;
  float lower_hz = 125.0f, upper_hz = 7500.0f;
  uint32_t smoothing_bits = 10;  // noise reduction (TFLM's defaults)
  float even_smoothing = 0.025f, odd_smoothing = 0.06f, min_signal_remaining = 0.05f;
  bool pcan = true;
  float pcan_strength = 0.95f, pcan_offset = 80.0f;
  int pcan_gain_bits = 21;
  bool log = true;
  uint32_t log_shift = 6;
  uint32_t mfcc = 0;    // 0: log-mel features; N: the first N DCT-II coefficients
  uint32_t frames = 0;  // frames per model input; 0: from the model's input shape
  // A feature value v means v * feature_scale to the model (TFLM's training pipeline
  // divides its features by 25.6).
  float feature_scale = 1.0f / 25.6f;
};

// "rate=16000,window=30ms,hop=20ms,channels=40,lower=125,upper=7500,pcan=on,log_shift=6,
// mfcc=13,frames=49,scale=0.0390625": any subset, the rest TFLM's micro_speech defaults
// ("default" alone: all of them).
// Throws tinyforge::Error naming the wrong item.
FrontendSpec parse_frontend_spec(const std::string& text);
std::string describe(const FrontendSpec& spec);  // one line, for messages and inspect

// The model's input the features feed: [1, frames, features] (or [1, frames * features]),
// int8 with this quantization.
struct ModelInput {
  uint32_t elements = 0;
  float scale = 0.0f;
  int32_t zero_point = 0;
};

// The twiddle tables of kissfft's real FFT of fft_size points with FIXED_POINT=16 (int16
// real, imaginary pairs): fft_size / 2 for the complex FFT, fft_size / 4 for the real split.
// The front-end section and the signal library's Rfft op (compiler/ops/signal.cc) carry them.
struct KissTwiddles {
  std::vector<int16_t> twiddles, super_twiddles;
};
KissTwiddles kiss_fftr_twiddles(uint32_t fft_size);

// PCAN's gain curve, int16 [kPcanLutSize]: the gain 2^gain_bits * (x / 2^input_bits +
// offset)^-strength as a quadratic per octave of the noise level x (float arithmetic of
// pcan_gain_control_util.c, which the signal library's wide_dynamic_func_lut repeats). The
// front-end section and the signal library's PCAN op (its constant input 2) carry it.
// input_bits and gain_bits in 0..31.
std::vector<int16_t> pcan_gain_lut(float strength, float offset, int gain_bits, int input_bits);

// The front-end section (check_frontend() accepts it). Throws tinyforge::Error when the
// spec is out of the runtime's limits or does not fill the model's input exactly.
std::vector<uint8_t> build_frontend_section(const FrontendSpec& spec, const ModelInput& input);

}  // namespace tinyforge::audio
