// Models of the signal-library ops (custom ops with FlexBuffer options) built in code, for
// compiler/ops/signal_test.cc and the fuzz seeds (fuzz/make_fuzz_seeds.cc).
#pragma once
#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "audio/frontend_spec.h"
#include "tflite_model_builder.h"

namespace tinyforge::testing {

// A FlexBuffer map of integer options, as TFLM's op generators write them.
inline std::vector<uint8_t> options(const std::vector<std::pair<std::string, int64_t>>& values) {
  flexbuffers::Builder f;
  const size_t map = f.StartMap();
  for (const auto& [key, value] : values) f.Int(key.c_str(), value);
  f.EndMap(map);
  f.Finish();
  return f.GetBuffer();
}

inline OpSpec custom(const std::string& code, std::vector<int32_t> inputs,
                     std::vector<int32_t> outputs, std::vector<uint8_t> custom_options = {}) {
  OpSpec op(tfl::BuiltinOperator::CUSTOM, std::move(inputs), std::move(outputs));
  op.custom_code = code;
  op.custom_options = std::move(custom_options);
  return op;
}

struct FilterBankTables {
  std::vector<int16_t> weights, unweights, freq_starts, weight_starts, widths;
};

// Triangular filters over `bins` energies as a mel filter bank lays them out: each channel's
// span starts where the previous one's peak was, weights rise, unweights = 4096 - weights.
inline FilterBankTables make_tables(int channels, int bins, std::mt19937& rng) {
  FilterBankTables t;
  const int span = bins / (channels + 1);
  for (int ch = 0; ch <= channels; ++ch) {
    t.freq_starts.push_back(static_cast<int16_t>(1 + ch * span));
    t.weight_starts.push_back(static_cast<int16_t>(t.weights.size()));
    t.widths.push_back(static_cast<int16_t>(span));
    for (int j = 0; j < span; ++j) {
      const int16_t w = static_cast<int16_t>(std::uniform_int_distribution<int>(0, 4096)(rng));
      t.weights.push_back(w);
      t.unweights.push_back(static_cast<int16_t>(4096 - w));
    }
  }
  return t;
}

// TFLM's micro_speech feature chain without its noise reduction and gain control: Hann
// window (Q12), auto scale, 512-point FFT, energies of bins 4..232, 40 filters, square root
// undoing the scale, log (correction 3, scale 2^6), on 480-sample frames.
inline constexpr int kFrame = 480, kFft = 512, kBins = kFft / 2 + 1, kChannels = 40;
inline constexpr int kStart = 4, kEnd = 232, kCorrection = 3, kLogScale = 64;

// micro_speech's noise reduction and gain control (audio_preprocessor.py FeatureParams,
// filter_bank_ops.py and pcan_op.py): spectral subtraction with smoothing 0.025 on even
// channels and 0.06 on odd ones, at least 0.05 of the signal remaining, in Q14 (int(f * 2^14)),
// 10 smoothing bits, no clamping; PCAN of strength 0.95, offset 80, 21 gain bits, its curve
// for input_bits = smoothing bits - correction bits, snr_shift 21 - 3 - 12 = 6.
inline constexpr int kSubtractionBits = 14, kSmoothingBits = 10;
inline constexpr int kEvenSmoothing = 409, kOddSmoothing = 983, kMinRemaining = 819;
inline constexpr int kSnrShift = 6;

struct Chain {
  std::vector<int16_t> window;
  FilterBankTables tables;
  std::vector<int16_t> gain_lut;
  int start = kStart, end = kEnd;  // the energies' bins
};

// The options of micro_speech's SignalFilterBankSpectralSubtraction (clamping a FlexBuffer
// bool, as TensorFlow writes a bool attribute).
inline std::vector<uint8_t> spectral_subtraction_options(int channels, bool clamping) {
  flexbuffers::Builder f;
  const size_t map = f.StartMap();
  f.Int("alternate_one_minus_smoothing", (1 << kSubtractionBits) - kOddSmoothing);
  f.Int("alternate_smoothing", kOddSmoothing);
  f.Bool("clamping", clamping);
  f.Int("min_signal_remaining", kMinRemaining);
  f.Int("num_channels", channels);
  f.Int("one_minus_smoothing", (1 << kSubtractionBits) - kEvenSmoothing);
  f.Int("smoothing", kEvenSmoothing);
  f.Int("smoothing_bits", kSmoothingBits);
  f.Int("spectral_subtraction_bits", kSubtractionBits);
  f.EndMap(map);
  f.Finish();
  return f.GetBuffer();
}

// The chain's constant tables: the window, filters laid out by make_tables (seed 9) and
// PCAN's gain curve as TFLM's op generator computes it.
inline Chain make_chain() {
  Chain c;
  const double pi = std::acos(-1.0);
  for (int i = 0; i < kFrame; ++i)
    c.window.push_back(static_cast<int16_t>(
        std::lround(4096 * (0.5 - 0.5 * std::cos(2 * pi * (i + 0.5) / kFrame)))));
  std::mt19937 rng(9);
  c.tables = make_tables(kChannels, kEnd, rng);
  c.gain_lut = audio::pcan_gain_lut(0.95f, 80.0f, 21, kSmoothingBits - kCorrection);
  return c;
}

// PCM int16 [kFrame] in, features int16 [kChannels] out: seven custom ops.
inline ModelSpec chain_model(const Chain& c) {
  const FilterBankTables& t = c.tables;
  const int32_t nw = static_cast<int32_t>(t.weights.size());
  ModelSpec spec;
  spec.tensors = {
      TensorSpec("pcm", {kFrame}, tfl::TensorType::INT16),                           // 0
      TensorSpec("window", {kFrame}, tfl::TensorType::INT16, bytes_of(c.window)),    // 1
      TensorSpec("windowed", {kFrame}, tfl::TensorType::INT16),                      // 2
      TensorSpec("scaled", {kFrame}, tfl::TensorType::INT16),                        // 3
      TensorSpec("scale_bits", {}, tfl::TensorType::INT32),                          // 4
      TensorSpec("spectrum", {2 * kBins}, tfl::TensorType::INT16),                   // 5
      TensorSpec("energy", {kBins}, tfl::TensorType::UINT32),                        // 6
      TensorSpec("weights", {nw}, tfl::TensorType::INT16, bytes_of(t.weights)),      // 7
      TensorSpec("unweights", {nw}, tfl::TensorType::INT16, bytes_of(t.unweights)),  // 8
      TensorSpec("freq_starts", {kChannels + 1}, tfl::TensorType::INT16, bytes_of(t.freq_starts)),
      TensorSpec("weight_starts", {kChannels + 1}, tfl::TensorType::INT16,
                 bytes_of(t.weight_starts)),
      TensorSpec("widths", {kChannels + 1}, tfl::TensorType::INT16, bytes_of(t.widths)),  // 11
      TensorSpec("channels", {kChannels}, tfl::TensorType::UINT64),                       // 12
      TensorSpec("magnitudes", {kChannels}, tfl::TensorType::UINT32),                     // 13
      TensorSpec("features", {kChannels}, tfl::TensorType::INT16)};                       // 14
  spec.ops = {
      custom("SignalWindow", {0, 1}, {2}, options({{"shift", 12}})),
      custom("SignalFftAutoScale", {2}, {3, 4}),
      custom("SignalRfft", {3}, {5}, options({{"T", 7}, {"fft_length", kFft}})),
      custom("SignalEnergy", {5}, {6}, options({{"end_index", c.end}, {"start_index", c.start}})),
      custom("SignalFilterBank", {6, 7, 8, 9, 10, 11}, {12},
             options({{"num_channels", kChannels}})),
      custom("SignalFilterBankSquareRoot", {12, 4}, {13}),
      custom("SignalFilterBankLog", {13}, {14},
             options({{"input_correction_bits", kCorrection}, {"output_scale", kLogScale}}))};
  spec.inputs = {0};
  spec.outputs = {14};
  return spec;
}

// TFLM's whole micro_speech preprocessor (audio_preprocessor.py generate_feature_for_frame)
// as its nine signal ops: the chain above with spectral subtraction and PCAN between the
// square root and the log. PCM int16 [kFrame] in, features int16 [kChannels] out (the int8
// rescaling micro_speech appends with builtin ops is left out).
inline ModelSpec micro_speech_model(const Chain& c) {
  ModelSpec spec = chain_model(c);
  const int32_t magnitudes = 13, features = 14;
  const auto add = [&](TensorSpec t) {
    spec.tensors.push_back(std::move(t));
    return static_cast<int32_t>(spec.tensors.size()) - 1;
  };
  const int32_t reduced = add(TensorSpec("reduced", {kChannels}, tfl::TensorType::UINT32));
  const int32_t noise = add(TensorSpec("noise_estimate", {kChannels}, tfl::TensorType::UINT32));
  const int32_t lut = add(TensorSpec("gain_lut", {static_cast<int32_t>(c.gain_lut.size())},
                                     tfl::TensorType::INT16, bytes_of(c.gain_lut)));
  const int32_t normalized = add(TensorSpec("normalized", {kChannels}, tfl::TensorType::UINT32));
  OpSpec log = spec.ops.back();
  spec.ops.pop_back();
  spec.ops.push_back(custom("SignalFilterBankSpectralSubtraction", {magnitudes}, {reduced, noise},
                            spectral_subtraction_options(kChannels, false)));
  spec.ops.push_back(custom("SignalPCAN", {reduced, noise, lut}, {normalized},
                            options({{"snr_shift", kSnrShift}})));
  log.inputs = {normalized};
  spec.ops.push_back(log);
  spec.outputs = {features};
  return spec;
}

// micro_speech's preprocessor as TFLM's generator writes it (tflite-micro
// examples/micro_speech/audio_preprocessor.py, _GenerateFeature.generate_feature_for_frame,
// converted by TFLiteConverter with allow_custom_ops; micro_speech_test.cc registers exactly
// these builtins for it: RESHAPE, CAST, STRIDED_SLICE, CONCATENATION, MUL, ADD, DIV, MINIMUM,
// MAXIMUM), op for op:
//   int16 [1, 480] -> SignalWindow -> RESHAPE [-1] -> SignalFftAutoScale -> SignalRfft ->
//   SignalEnergy -> CAST uint32->int32 -> STRIDED_SLICE [start:end] -> CONCATENATION with
//   zeros before and after (the energies outside [start, end) zeroed) -> CAST int32->uint32 ->
//   SignalFilterBank -> SignalFilterBankSquareRoot -> SignalFilterBankSpectralSubtraction ->
//   SignalPCAN -> SignalFilterBankLog (int16 [40]), then the output tail:
//   int8:  CAST int16->int32, MUL 256, ADD 333, DIV 666 (tf.truncatediv; 666 =
//          int(25.6 * 26 + 0.5)), ADD -128, MINIMUM 127, MAXIMUM -128 (tf.clip_by_value),
//          CAST int32->int8: int8 [40];
//   float: CAST int16->float32, DIV 25.6: float32 [40].
// The scalar operands are constants of shape [] as the converter writes Python numbers.
enum class PreprocessorOutput { int8, float32 };

inline ModelSpec generated_preprocessor_model(const Chain& c, PreprocessorOutput output) {
  ModelSpec spec = micro_speech_model(c);
  using B = tfl::BuiltinOperator;
  const auto add = [&](TensorSpec t) {
    spec.tensors.push_back(std::move(t));
    return static_cast<int32_t>(spec.tensors.size()) - 1;
  };
  const auto ints = [](std::vector<int32_t> v) { return bytes_of(v); };
  const auto cast = [](int32_t in, int32_t out, tfl::TensorType from, tfl::TensorType to) {
    OpSpec op(B::CAST, {in}, {out});
    op.cast_from = from;
    op.cast_to = to;
    return op;
  };
  // micro_speech_model's tensors: 0 pcm, 2 windowed, 6 energy, 14 features.
  spec.tensors[0] = TensorSpec("audio_frame", {1, kFrame}, tfl::TensorType::INT16);
  spec.tensors[2] = TensorSpec("window_output", {1, kFrame}, tfl::TensorType::INT16);
  const int32_t flat = add(TensorSpec("window_flat", {kFrame}, tfl::TensorType::INT16));
  const int32_t shape = add(TensorSpec("shape", {1}, tfl::TensorType::INT32, ints({-1})));
  std::vector<OpSpec> ops = {spec.ops[0], OpSpec(B::RESHAPE, {2, shape}, {flat})};
  ops.push_back(spec.ops[1]);
  ops.back().inputs = {flat};
  ops.push_back(spec.ops[2]);
  ops.push_back(spec.ops[3]);
  const int32_t as_int = add(TensorSpec("energy_int32", {kBins}, tfl::TensorType::INT32));
  const int32_t begin = add(TensorSpec("begin", {1}, tfl::TensorType::INT32, ints({c.start})));
  const int32_t end = add(TensorSpec("end", {1}, tfl::TensorType::INT32, ints({c.end})));
  const int32_t strides = add(TensorSpec("strides", {1}, tfl::TensorType::INT32, ints({1})));
  const int32_t kept = add(TensorSpec("energy_slice", {c.end - c.start}, tfl::TensorType::INT32));
  const int32_t head = add(TensorSpec("zeros_head", {c.start}, tfl::TensorType::INT32,
                                      ints(std::vector<int32_t>(c.start, 0))));
  const int32_t tail = add(TensorSpec("zeros_tail", {kBins - c.end}, tfl::TensorType::INT32,
                                      ints(std::vector<int32_t>(kBins - c.end, 0))));
  const int32_t joined = add(TensorSpec("energy_zeroed", {kBins}, tfl::TensorType::INT32));
  const int32_t energy = add(TensorSpec("energy_uint32", {kBins}, tfl::TensorType::UINT32));
  ops.push_back(cast(6, as_int, tfl::TensorType::UINT32, tfl::TensorType::INT32));
  ops.push_back(OpSpec(B::STRIDED_SLICE, {as_int, begin, end, strides}, {kept}));
  OpSpec concat(B::CONCATENATION, {head, kept, tail}, {joined});
  concat.axis = 0;
  ops.push_back(concat);
  ops.push_back(cast(joined, energy, tfl::TensorType::INT32, tfl::TensorType::UINT32));
  ops.push_back(spec.ops[4]);  // SignalFilterBank reads the zeroed energies
  ops.back().inputs[0] = energy;
  for (size_t k = 5; k < spec.ops.size(); ++k) ops.push_back(spec.ops[k]);
  const int32_t features = 14;
  if (output == PreprocessorOutput::float32) {
    const int32_t real = add(TensorSpec("features_float", {kChannels}));
    const int32_t divisor = add(TensorSpec("legacy_scale", {}, tfl::TensorType::FLOAT32,
                                           bytes_of(std::vector<float>{25.6f})));
    const int32_t out = add(TensorSpec("feature_output", {kChannels}));
    ops.push_back(cast(features, real, tfl::TensorType::INT16, tfl::TensorType::FLOAT32));
    ops.push_back(OpSpec(B::DIV, {real, divisor}, {out}));
    spec.outputs = {out};
  } else {
    int32_t x = add(TensorSpec("features_int32", {kChannels}, tfl::TensorType::INT32));
    ops.push_back(cast(features, x, tfl::TensorType::INT16, tfl::TensorType::INT32));
    const std::pair<B, int32_t> steps[] = {{B::MUL, 256},  {B::ADD, 333},     {B::DIV, 666},
                                           {B::ADD, -128}, {B::MINIMUM, 127}, {B::MAXIMUM, -128}};
    int k = 0;
    for (const auto& step : steps) {
      const int32_t operand = add(TensorSpec("operand_" + std::to_string(k), {},
                                             tfl::TensorType::INT32, ints({step.second})));
      const int32_t y =
          add(TensorSpec("value_" + std::to_string(k++), {kChannels}, tfl::TensorType::INT32));
      ops.push_back(OpSpec(step.first, {x, operand}, {y}));
      x = y;
    }
    const int32_t out = add(TensorSpec("feature_output", {kChannels}, tfl::TensorType::INT8));
    ops.push_back(cast(x, out, tfl::TensorType::INT32, tfl::TensorType::INT8));
    spec.outputs = {out};
  }
  spec.ops = std::move(ops);
  return spec;
}

}  // namespace tinyforge::testing
