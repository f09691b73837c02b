// The signal-library ops: TFLM's audio front-end split into graph nodes, custom ops with a
// FlexBuffer map of options (tflite-micro signal/micro/kernels/*.cc: the option keys, the
// tensor dtypes and ranks their Prepare checks; signal/src/*.cc: the arithmetic, in the
// kernels under runtime/kernels/reference/signal_*.cc).
//
//   SignalWindow               int16 [..., N] x int16 [N] -> int16      options: shift
//   SignalEnergy               int16 [2N] -> uint32 [N]        options: end_index, start_index
//   SignalFilterBank           uint32 [K], 5 int16 tables -> uint64 [C] options: num_channels
//   SignalFilterBankSquareRoot uint64 [C], int32 scale_bits -> uint32 [C]       (no options)
//   SignalFilterBankLog        uint32 [C] -> int16 [C]  options: input_correction_bits,
//                                                                output_scale
//   SignalFftAutoScale         int16 [N] -> int16 [N], int32 scale_bits []          (no options)
//   SignalRfft                 int16 [..., L] -> int16 [..., fft_length + 2]  options: T (int16
//                                                                 only), fft_length
//   SignalFilterBankSpectralSubtraction  uint32 [C] -> uint32 [C], noise estimate uint32 [C]
//        options: num_channels, smoothing, one_minus_smoothing, alternate_smoothing,
//        alternate_one_minus_smoothing, min_signal_remaining, smoothing_bits,
//        spectral_subtraction_bits (integers), clamping (bool)
//   SignalPCAN                 uint32 [C], noise estimate uint32 [C], gain curve int16 [125]
//                              -> uint32 [C]                        options: snr_shift
//   SignalDelay                int16 [..., F] -> int16 [..., F]     options: delay_length
//
// TFLM reads each option by its position in the key-sorted map, so a map with other keys
// would be misread there: the reader accepts exactly these keys. The tables (window
// coefficients, filter-bank weights and bounds) must be constants: the reader checks every
// start and width against the tensors they index. Rfft's twiddles are computed here, at
// lowering (audio/frontend_spec.h), never on the device; PCAN's gain curve is a constant of the
// graph (TFLM's op generator computes it: audio::pcan_gain_lut). Spectral subtraction's noise
// estimate, which TFLM keeps in a persistent buffer, is a state tensor (Storage::state) the
// lowering adds as the kernel's input 1: zero at init and on reset_state, as TFLM's Prepare
// and Reset leave it; Delay's pending samples likewise. None of these ops is
// quantized (their tensors are integers with no scale); they run as the file defines them.
#include "ops/signal.h"

#include <flatbuffers/flexbuffers.h>
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "audio/frontend_spec.h"
#include "export/tflite_builder.h"
#include "import/tflite/custom_options.h"
#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"
#include "plan/lower.h"
#include "plan/lower_checks.h"
#include "plan/plan.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

constexpr ir::OpTraits kTraits{ir::QuantRule::not_quantized, 0.0f, 0, -1, false,
                               ir::ChannelRule::blocks};
constexpr int32_t kMaxShift = 31;

// An op's tensors (inputs in the kernel's order, then the output), from the importer or the
// graph; the checks below say what is wrong with them, or "" when they agree.
struct Operands {
  std::vector<const ir::Tensor*> in;
  const ir::Tensor* out;                     // output 0
  std::vector<const ir::Tensor*> more_outs;  // outputs 1...
};

std::string type_problem(const ir::Tensor& t, const char* role, DType type) {
  if (t.type == type) return "";
  return fmt::format("{} '{}' is {}; expected {}", role, t.name, dtype_name(t.type),
                     dtype_name(type));
}

std::string rank1_problem(const ir::Tensor& t, const char* role) {
  if (t.shape.size() == 1) return "";
  return fmt::format("{} '{}' has rank {}; expected 1", role, t.name, t.shape.size());
}

// The first non-empty problem of a list.
std::string first(std::initializer_list<std::string> problems) {
  for (const std::string& p : problems)
    if (!p.empty()) return p;
  return "";
}

std::string constant_problem(const ir::Tensor& t, const char* role) {
  if (t.constant) return "";
  return fmt::format("{} '{}' is not constant; expected a constant table", role, t.name);
}

std::string window_problem(const Operands& o, const SignalWindowParams& p) {
  const ir::Tensor &in = *o.in[0], &w = *o.in[1], &out = *o.out;
  if (std::string e =
          first({type_problem(in, "input", DType::i16), type_problem(w, "weights", DType::i16),
                 type_problem(out, "output", DType::i16), rank1_problem(w, "weights"),
                 constant_problem(w, "weights")});
      !e.empty())
    return e;
  if (in.shape.empty() || in.shape.size() > kMaxRank || in.shape.back() != w.shape[0])
    return fmt::format("input has shape [{}]; expected rank 1..4 ending in the window's {}",
                       fmt::join(in.shape, ","), w.shape[0]);
  if (out.shape != in.shape) return "output shape differs from the input's";
  if (p.shift < 0 || p.shift > kMaxShift) return fmt::format("shift {} is outside 0..31", p.shift);
  return "";
}

std::string energy_problem(const Operands& o, const SignalEnergyParams& p) {
  const ir::Tensor &in = *o.in[0], &out = *o.out;
  if (std::string e =
          first({type_problem(in, "input", DType::i16), type_problem(out, "output", DType::u32),
                 rank1_problem(in, "input"), rank1_problem(out, "output")});
      !e.empty())
    return e;
  if (in.shape[0] != 2 * out.shape[0])
    return fmt::format("input has {} values for {} bins; expected 2 per bin (real, imaginary)",
                       in.shape[0], out.shape[0]);
  if (p.start_index < 0 || p.start_index > p.end_index || p.end_index > out.shape[0])
    return fmt::format("bins {}..{} are not within the output's {}", p.start_index, p.end_index,
                       out.shape[0]);
  return "";
}

const char* const kFilterBankRoles[] = {
    "energies",      "weights", "unweights", "channel frequency starts", "channel weight starts",
    "channel widths"};

std::string filter_bank_problem(const Operands& o, const SignalFilterBankParams& p) {
  const ir::Tensor& energies = *o.in[0];
  if (std::string e = first(
          {type_problem(energies, "energies", DType::u32), rank1_problem(energies, "energies"),
           type_problem(*o.out, "output", DType::u64), rank1_problem(*o.out, "output")});
      !e.empty())
    return e;
  for (size_t i = 1; i < 6; ++i)
    if (std::string e = first({type_problem(*o.in[i], kFilterBankRoles[i], DType::i16),
                               rank1_problem(*o.in[i], kFilterBankRoles[i]),
                               constant_problem(*o.in[i], kFilterBankRoles[i])});
        !e.empty())
      return e;
  if (p.num_channels < 1 || p.num_channels != o.out->shape[0])
    return fmt::format("num_channels {} differs from the output's {} channels", p.num_channels,
                       o.out->shape[0]);
  if (o.in[2]->shape != o.in[1]->shape) return "weights and unweights differ in length";
  for (size_t i = 3; i < 6; ++i)
    if (o.in[i]->shape[0] != p.num_channels + 1)
      return fmt::format("{} has {} entries; expected num_channels + 1 = {}", kFilterBankRoles[i],
                         o.in[i]->shape[0], p.num_channels + 1);
  for (int32_t ch = 0; ch <= p.num_channels; ++ch) {
    const int32_t fs = o.in[3]->at<int16_t>(ch), ws = o.in[4]->at<int16_t>(ch),
                  width = o.in[5]->at<int16_t>(ch);
    if (fs < 0 || ws < 0 || width < 0 || fs + width > energies.shape[0] ||
        ws + width > o.in[1]->shape[0])
      return fmt::format(
          "channel {} (frequency start {}, weight start {}, width {}) reads "
          "outside the {} energies or {} weights",
          ch, fs, ws, width, energies.shape[0], o.in[1]->shape[0]);
  }
  return "";
}

// scale_bits is a constant or, in TFLM's micro_speech graph, FftAutoScale's second output.
std::string square_root_problem(const Operands& o, const SignalFilterBankSquareRootParams&) {
  const ir::Tensor &in = *o.in[0], &bits = *o.in[1], &out = *o.out;
  if (std::string e = first({type_problem(in, "input", DType::u64),
                             type_problem(bits, "scale_bits", DType::i32),
                             type_problem(out, "output", DType::u32), rank1_problem(in, "input")});
      !e.empty())
    return e;
  // The plan keeps constants 4-byte aligned; a uint64 tensor is the filter bank's output.
  if (in.constant) return "input is constant; expected the filter bank's uint64 sums";
  if (out.shape != in.shape) return "output shape differs from the input's";
  if (bits.elements() != 1)
    return fmt::format("scale_bits has {} elements; expected 1", bits.elements());
  if (bits.constant && (bits.at<int32_t>(0) < 0 || bits.at<int32_t>(0) > kMaxShift))
    return fmt::format("scale_bits {} is outside 0..31", bits.at<int32_t>(0));
  return "";
}

std::string log_problem(const Operands& o, const SignalFilterBankLogParams& p) {
  const ir::Tensor &in = *o.in[0], &out = *o.out;
  if (std::string e = first({type_problem(in, "input", DType::u32),
                             type_problem(out, "output", DType::i16), rank1_problem(in, "input")});
      !e.empty())
    return e;
  if (out.shape != in.shape) return "output shape differs from the input's";
  if (p.input_correction_bits < 0 || p.input_correction_bits > kMaxShift)
    return fmt::format("input_correction_bits {} is outside 0..31", p.input_correction_bits);
  return "";
}

std::string auto_scale_problem(const Operands& o, const SignalFftAutoScaleParams&) {
  const ir::Tensor &in = *o.in[0], &out = *o.out, &bits = *o.more_outs.at(0);
  if (std::string e =
          first({type_problem(in, "input", DType::i16), type_problem(out, "output", DType::i16),
                 type_problem(bits, "scale_bits", DType::i32), rank1_problem(in, "input")});
      !e.empty())
    return e;
  if (out.shape != in.shape) return "output shape differs from the input's";
  if (bits.elements() != 1)
    return fmt::format("scale_bits has {} elements; expected 1 (rank 0)", bits.elements());
  return "";
}

bool power_of_two(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

std::string rfft_problem(const Operands& o, const SignalRfftParams& p) {
  const ir::Tensor &in = *o.in[0], &out = *o.out;
  if (std::string e =
          first({type_problem(in, "input", DType::i16), type_problem(out, "output", DType::i16)});
      !e.empty())
    return e;
  if (!power_of_two(p.fft_length) || p.fft_length < 4 ||
      p.fft_length > static_cast<int32_t>(kMaxFrontendFft))
    return fmt::format("fft_length {} is not a power of two in 4..{}", p.fft_length,
                       kMaxFrontendFft);
  if (in.shape.empty() || in.shape.size() > kMaxRank || in.shape.back() > p.fft_length)
    return fmt::format("input has shape [{}]; expected rank 1..4, frames of at most {} samples",
                       fmt::join(in.shape, ","), p.fft_length);
  std::vector<int32_t> expected = in.shape;
  expected.back() = p.fft_length + 2;
  if (out.shape != expected)
    return fmt::format("output has shape [{}]; expected [{}] ({} complex bins per frame)",
                       fmt::join(out.shape, ","), fmt::join(expected, ","), p.fft_length / 2 + 1);
  return "";
}

std::string spectral_subtraction_problem(const Operands& o,
                                         const SignalFilterBankSpectralSubtractionParams& p) {
  const ir::Tensor &in = *o.in[0], &out = *o.out, &estimate = *o.more_outs.at(0);
  if (std::string e =
          first({type_problem(in, "input", DType::u32), type_problem(out, "output", DType::u32),
                 type_problem(estimate, "noise estimate", DType::u32), rank1_problem(in, "input")});
      !e.empty())
    return e;
  if (out.shape != in.shape || estimate.shape != in.shape)
    return "output or noise estimate shape differs from the input's";
  if (p.num_channels != in.shape[0])
    return fmt::format("num_channels {} differs from the input's {} channels", p.num_channels,
                       in.shape[0]);
  if (p.smoothing_bits < 0 || p.smoothing_bits > kMaxShift || p.spectral_subtraction_bits < 0 ||
      p.spectral_subtraction_bits > kMaxShift)
    return fmt::format("smoothing_bits {} or spectral_subtraction_bits {} is outside 0..31",
                       p.smoothing_bits, p.spectral_subtraction_bits);
  return "";
}

std::string pcan_problem(const Operands& o, const SignalPcanParams& p) {
  const ir::Tensor &in = *o.in[0], &estimate = *o.in[1], &lut = *o.in[2], &out = *o.out;
  if (std::string e =
          first({type_problem(in, "input", DType::u32),
                 type_problem(estimate, "noise estimate", DType::u32),
                 type_problem(lut, "gain curve", DType::i16),
                 type_problem(out, "output", DType::u32), rank1_problem(in, "input"),
                 rank1_problem(lut, "gain curve"), constant_problem(lut, "gain curve")});
      !e.empty())
    return e;
  if (estimate.shape != in.shape || out.shape != in.shape)
    return "noise estimate or output shape differs from the input's";
  if (lut.shape[0] != static_cast<int32_t>(kPcanLutSize))
    return fmt::format("gain curve has {} entries; expected {} (4 x 32 - 3)", lut.shape[0],
                       kPcanLutSize);
  if (p.snr_shift < 0 || p.snr_shift > kMaxShift)
    return fmt::format("snr_shift {} is outside 0..31", p.snr_shift);
  return "";
}

std::string delay_problem(const Operands& o, const SignalDelayParams& p) {
  const ir::Tensor &in = *o.in[0], &out = *o.out;
  if (std::string e =
          first({type_problem(in, "input", DType::i16), type_problem(out, "output", DType::i16)});
      !e.empty())
    return e;
  if (in.shape.empty() || in.shape.size() > kMaxRank || in.shape.back() < 1)
    return fmt::format("input has shape [{}]; expected rank 1..4 of rows of samples",
                       fmt::join(in.shape, ","));
  if (out.shape != in.shape) return "output shape differs from the input's";
  if (p.delay_length < 1) return fmt::format("delay_length {} is not positive", p.delay_length);
  return "";
}

// --- each op's options, read and written ---------------------------------------------

using tflite_import::CustomOptions;

SignalWindowParams read_options(const CustomOptions& o, SignalWindowParams) {
  return {o.integer("shift", 0, kMaxShift)};
}
void write_options(flexbuffers::Builder& f, const SignalWindowParams& p) {
  f.Int("shift", p.shift);
}

SignalEnergyParams read_options(const CustomOptions& o, SignalEnergyParams) {
  return {o.integer("start_index", 0, INT32_MAX), o.integer("end_index", 0, INT32_MAX)};
}
void write_options(flexbuffers::Builder& f, const SignalEnergyParams& p) {
  f.Int("end_index", p.end_index);
  f.Int("start_index", p.start_index);
}

SignalFilterBankParams read_options(const CustomOptions& o, SignalFilterBankParams) {
  return {o.integer("num_channels", 1, INT16_MAX)};
}
void write_options(flexbuffers::Builder& f, const SignalFilterBankParams& p) {
  f.Int("num_channels", p.num_channels);
}

SignalFilterBankSquareRootParams read_options(const CustomOptions&,
                                              SignalFilterBankSquareRootParams) {
  return {};
}
void write_options(flexbuffers::Builder&, const SignalFilterBankSquareRootParams&) {}

SignalFilterBankLogParams read_options(const CustomOptions& o, SignalFilterBankLogParams) {
  return {o.integer("input_correction_bits", 0, kMaxShift),
          o.integer("output_scale", INT32_MIN, INT32_MAX)};
}
void write_options(flexbuffers::Builder& f, const SignalFilterBankLogParams& p) {
  f.Int("input_correction_bits", p.input_correction_bits);
  f.Int("output_scale", p.output_scale);
}

SignalFftAutoScaleParams read_options(const CustomOptions&, SignalFftAutoScaleParams) { return {}; }
void write_options(flexbuffers::Builder&, const SignalFftAutoScaleParams&) {}

// schema.fbs TensorType INT16: 'T', the element type TensorFlow records on the op (TFLM's
// rfft.cc reads it; this reader takes the int16 form only).
constexpr int32_t kTfliteInt16 = 7;

SignalRfftParams read_options(const CustomOptions& o, SignalRfftParams) {
  if (const int32_t type = o.integer("T", INT32_MIN, INT32_MAX); type != kTfliteInt16)
    o.unsupported(
        fmt::format("custom_options 'T' is TensorType {}; only the int16 form (7) of "
                    "SignalRfft is implemented",
                    type));
  return {o.integer("fft_length", 4, kMaxFrontendFft)};
}
void write_options(flexbuffers::Builder& f, const SignalRfftParams& p) {
  f.Int("T", kTfliteInt16);
  f.Int("fft_length", p.fft_length);
}

// TFLM's op generator writes these as the int attributes of the TensorFlow op (all >= 0).
SignalFilterBankSpectralSubtractionParams read_options(const CustomOptions& o,
                                                       SignalFilterBankSpectralSubtractionParams) {
  auto q = [&](const char* key) { return static_cast<uint32_t>(o.integer(key, 0, INT32_MAX)); };
  SignalFilterBankSpectralSubtractionParams p{};
  p.num_channels = o.integer("num_channels", 1, INT16_MAX);
  p.smoothing = q("smoothing");
  p.one_minus_smoothing = q("one_minus_smoothing");
  p.alternate_smoothing = q("alternate_smoothing");
  p.alternate_one_minus_smoothing = q("alternate_one_minus_smoothing");
  p.min_signal_remaining = q("min_signal_remaining");
  p.smoothing_bits = o.integer("smoothing_bits", 0, kMaxShift);
  p.spectral_subtraction_bits = o.integer("spectral_subtraction_bits", 0, kMaxShift);
  p.clamping = o.boolean("clamping") ? 1 : 0;
  return p;
}
void write_options(flexbuffers::Builder& f, const SignalFilterBankSpectralSubtractionParams& p) {
  f.Int("alternate_one_minus_smoothing", p.alternate_one_minus_smoothing);
  f.Int("alternate_smoothing", p.alternate_smoothing);
  f.Bool("clamping", p.clamping != 0);
  f.Int("min_signal_remaining", p.min_signal_remaining);
  f.Int("num_channels", p.num_channels);
  f.Int("one_minus_smoothing", p.one_minus_smoothing);
  f.Int("smoothing", p.smoothing);
  f.Int("smoothing_bits", p.smoothing_bits);
  f.Int("spectral_subtraction_bits", p.spectral_subtraction_bits);
}

SignalPcanParams read_options(const CustomOptions& o, SignalPcanParams) {
  return {o.integer("snr_shift", 0, kMaxShift)};
}
void write_options(flexbuffers::Builder& f, const SignalPcanParams& p) {
  f.Int("snr_shift", p.snr_shift);
}

SignalDelayParams read_options(const CustomOptions& o, SignalDelayParams) {
  // TFLM accepts 0 (an identity); a state of no samples has no tensor here.
  const int32_t n = o.integer("delay_length", 0, INT16_MAX);
  if (n == 0) o.unsupported("custom_options 'delay_length' is 0 (no delay); expected 1..32767");
  return {n};
}
void write_options(flexbuffers::Builder& f, const SignalDelayParams& p) {
  f.Int("delay_length", p.delay_length);
}

// One signal op: its custom code, option keys, input and output counts of its TFLite form
// and the check of its operands.
template <class Params>
struct SignalOp {
  OpCode op;
  const char* custom_code;
  std::vector<std::string> keys;
  size_t inputs;
  std::string (*problem)(const Operands&, const Params&);
  size_t outputs = 1;
};

template <class Params>
const SignalOp<Params>& signal_op();

template <>
const SignalOp<SignalWindowParams>& signal_op() {
  static const SignalOp<SignalWindowParams> op{
      OpCode::SignalWindow, "SignalWindow", {"shift"}, 2, window_problem};
  return op;
}
template <>
const SignalOp<SignalEnergyParams>& signal_op() {
  static const SignalOp<SignalEnergyParams> op{
      OpCode::SignalEnergy, "SignalEnergy", {"end_index", "start_index"}, 1, energy_problem};
  return op;
}
template <>
const SignalOp<SignalFilterBankParams>& signal_op() {
  static const SignalOp<SignalFilterBankParams> op{
      OpCode::SignalFilterBank, "SignalFilterBank", {"num_channels"}, 6, filter_bank_problem};
  return op;
}
template <>
const SignalOp<SignalFilterBankSquareRootParams>& signal_op() {
  static const SignalOp<SignalFilterBankSquareRootParams> op{
      OpCode::SignalFilterBankSquareRoot, "SignalFilterBankSquareRoot", {}, 2, square_root_problem};
  return op;
}
template <>
const SignalOp<SignalFilterBankLogParams>& signal_op() {
  static const SignalOp<SignalFilterBankLogParams> op{OpCode::SignalFilterBankLog,
                                                      "SignalFilterBankLog",
                                                      {"input_correction_bits", "output_scale"},
                                                      1,
                                                      log_problem};
  return op;
}

template <>
const SignalOp<SignalFftAutoScaleParams>& signal_op() {
  static const SignalOp<SignalFftAutoScaleParams> op{
      OpCode::SignalFftAutoScale, "SignalFftAutoScale", {}, 1, auto_scale_problem, 2};
  return op;
}
template <>
const SignalOp<SignalRfftParams>& signal_op() {
  static const SignalOp<SignalRfftParams> op{
      OpCode::SignalRfft, "SignalRfft", {"T", "fft_length"}, 1, rfft_problem};
  return op;
}

template <>
const SignalOp<SignalFilterBankSpectralSubtractionParams>& signal_op() {
  static const SignalOp<SignalFilterBankSpectralSubtractionParams> op{
      OpCode::SignalFilterBankSpectralSubtraction,
      "SignalFilterBankSpectralSubtraction",
      {"alternate_one_minus_smoothing", "alternate_smoothing", "clamping", "min_signal_remaining",
       "num_channels", "one_minus_smoothing", "smoothing", "smoothing_bits",
       "spectral_subtraction_bits"},
      1,
      spectral_subtraction_problem,
      2};
  return op;
}
template <>
const SignalOp<SignalPcanParams>& signal_op() {
  static const SignalOp<SignalPcanParams> op{
      OpCode::SignalPcan, "SignalPCAN", {"snr_shift"}, 3, pcan_problem};
  return op;
}

template <>
const SignalOp<SignalDelayParams>& signal_op() {
  static const SignalOp<SignalDelayParams> op{
      OpCode::SignalDelay, "SignalDelay", {"delay_length"}, 1, delay_problem};
  return op;
}

// --- TFLite import and export ---------------------------------------------------------

template <class Params>
ir::Node read_tflite(tflite_import::OpMapper& m) {
  const SignalOp<Params>& s = signal_op<Params>();
  m.require_arity(s.inputs, s.inputs, s.outputs);
  if (m.num_outputs() != s.outputs)
    m.fail(fmt::format("has {} outputs; expected {}", m.num_outputs(), s.outputs));
  const Params params = read_options(CustomOptions(m, s.keys), Params{});
  Operands o{{}, &m.output(0), {}};
  for (size_t i = 0; i < s.inputs; ++i) o.in.push_back(&m.input(i));
  for (size_t i = 1; i < s.outputs; ++i) o.more_outs.push_back(&m.output(i));
  if (const std::string e = s.problem(o, params); !e.empty()) m.fail(e);
  return ir::Node{s.op, {}, {}, ops::SignalAttrs<Params>{params}, {}};
}

template <class Params>
void write_tflite(tflite_export::ModelBuilder& b, size_t node) {
  const ir::Node& n = b.graph().nodes[node];
  flexbuffers::Builder f;
  const size_t map = f.StartMap();
  write_options(f, n.params.get<ops::SignalAttrs<Params>>().params);
  f.EndMap(map);
  f.Finish();
  b.add_custom_operator(signal_op<Params>().custom_code, 1, tflite_export::io_of(b, n.inputs),
                        tflite_export::io_of(b, n.outputs), f.GetBuffer());
}

// --- lowering -------------------------------------------------------------------------

template <class Params>
plan::LoweredOp lower(ir::Graph& g, size_t node) {
  const SignalOp<Params>& s = signal_op<Params>();
  const ir::Node& n = g.nodes.at(node);
  const int count = static_cast<int>(g.tensors.size());
  if (n.inputs.size() != s.inputs || n.outputs.size() != s.outputs)
    plan::lowering::refuse(g, node,
                           fmt::format("has {} inputs and {} outputs; expected {} and {}",
                                       n.inputs.size(), n.outputs.size(), s.inputs, s.outputs));
  Operands o{{}, nullptr, {}};
  for (int t : n.inputs) {
    if (t < 0 || t >= count) plan::lowering::refuse(g, node, "an input is missing or out of range");
    o.in.push_back(&g.tensors[t]);
  }
  for (int t : n.outputs)
    if (t < 0 || t >= count) plan::lowering::refuse(g, node, "output tensor out of range");
  o.out = &g.tensors[n.outputs[0]];
  for (size_t i = 1; i < n.outputs.size(); ++i) o.more_outs.push_back(&g.tensors[n.outputs[i]]);
  const Params params = n.params.get<ops::SignalAttrs<Params>>().params;
  if (const std::string e = s.problem(o, params); !e.empty()) plan::lowering::refuse(g, node, e);
  return plan::lowering::lowered(params, n.inputs);
}

// A constant int16 table the compiler adds for a kernel (the FFT's twiddles).
int add_table(ir::Graph& g, const std::string& name, const std::vector<int16_t>& values) {
  ir::Tensor t;
  t.name = name;
  t.type = DType::i16;
  t.shape = {static_cast<int32_t>(values.size())};
  t.constant = true;
  t.data.resize(values.size() * sizeof(int16_t));
  std::memcpy(t.data.data(), values.data(), t.data.size());  // the host is little-endian
  return g.add_tensor(std::move(t));
}

// Rfft's kernel takes kissfft's twiddles as constants (TFLM computes them at init) and
// scratch for the frame in pairs and its complex FFT.
plan::LoweredOp lower_rfft(ir::Graph& g, size_t node) {
  plan::LoweredOp op = lower<SignalRfftParams>(g, node);
  const int32_t n =
      g.nodes[node].params.get<ops::SignalAttrs<SignalRfftParams>>().params.fft_length;
  const audio::KissTwiddles t = audio::kiss_fftr_twiddles(static_cast<uint32_t>(n));
  const std::string base = g.tensors[g.nodes[node].outputs[0]].name;
  const int twiddles = add_table(g, base + "/twiddles", t.twiddles);
  const int super_twiddles = add_table(g, base + "/super_twiddles", t.super_twiddles);
  op.inputs = {g.nodes[node].inputs[0], twiddles, super_twiddles};
  op.scratch_size = static_cast<uint32_t>(2 * n) * sizeof(int16_t);
  return op;
}

// A stateful op's kernel takes its state as input 1, a variable tensor added here (the
// graph's node has TFLite's one input): spectral subtraction's noise estimate has the input's
// shape, Delay's pending samples the input's rows of delay_length.
template <class Params>
plan::LoweredOp lower_with_state(ir::Graph& g, size_t node, DType type, int32_t row_length) {
  plan::LoweredOp op = lower<Params>(g, node);
  const int input = g.nodes[node].inputs[0];
  ir::Tensor state;
  state.name = g.tensors[g.nodes[node].outputs[0]].name + "/state";
  state.type = type;
  state.shape = g.tensors[input].shape;
  if (row_length > 0) state.shape.back() = row_length;
  state.variable = true;
  op.inputs = {input, g.add_tensor(std::move(state))};
  return op;
}

template <class Params>
ops::HostOp make_host_op() {
  const SignalOp<Params>& s = signal_op<Params>();
  return ops::HostOp{kTraits,
                     {{ops::kTfliteCustom, s.custom_code, read_tflite<Params>}},
                     {},
                     write_tflite<Params>};
}

}  // namespace

namespace plan {
LoweredOp lower_SignalWindow(ir::Graph& g, size_t node) {
  return lower<SignalWindowParams>(g, node);
}
LoweredOp lower_SignalEnergy(ir::Graph& g, size_t node) {
  return lower<SignalEnergyParams>(g, node);
}
LoweredOp lower_SignalFilterBank(ir::Graph& g, size_t node) {
  return lower<SignalFilterBankParams>(g, node);
}
LoweredOp lower_SignalFilterBankSquareRoot(ir::Graph& g, size_t node) {
  return lower<SignalFilterBankSquareRootParams>(g, node);
}
LoweredOp lower_SignalFilterBankLog(ir::Graph& g, size_t node) {
  return lower<SignalFilterBankLogParams>(g, node);
}
LoweredOp lower_SignalFftAutoScale(ir::Graph& g, size_t node) {
  return lower<SignalFftAutoScaleParams>(g, node);
}
LoweredOp lower_SignalRfft(ir::Graph& g, size_t node) { return lower_rfft(g, node); }
LoweredOp lower_SignalFilterBankSpectralSubtraction(ir::Graph& g, size_t node) {
  return lower_with_state<SignalFilterBankSpectralSubtractionParams>(g, node, DType::u32, 0);
}
LoweredOp lower_SignalDelay(ir::Graph& g, size_t node) {
  const int32_t delay =
      g.nodes.at(node).params.get<ops::SignalAttrs<SignalDelayParams>>().params.delay_length;
  return lower_with_state<SignalDelayParams>(g, node, DType::i16, delay);
}
LoweredOp lower_SignalPcan(ir::Graph& g, size_t node) { return lower<SignalPcanParams>(g, node); }
}  // namespace plan

namespace ops {
const HostOp& host_op_SignalWindow() {
  static const HostOp op = make_host_op<SignalWindowParams>();
  return op;
}
const HostOp& host_op_SignalEnergy() {
  static const HostOp op = make_host_op<SignalEnergyParams>();
  return op;
}
const HostOp& host_op_SignalFilterBank() {
  static const HostOp op = make_host_op<SignalFilterBankParams>();
  return op;
}
const HostOp& host_op_SignalFilterBankSquareRoot() {
  static const HostOp op = make_host_op<SignalFilterBankSquareRootParams>();
  return op;
}
const HostOp& host_op_SignalFilterBankLog() {
  static const HostOp op = make_host_op<SignalFilterBankLogParams>();
  return op;
}
const HostOp& host_op_SignalFftAutoScale() {
  static const HostOp op = make_host_op<SignalFftAutoScaleParams>();
  return op;
}
const HostOp& host_op_SignalRfft() {
  static const HostOp op = make_host_op<SignalRfftParams>();
  return op;
}
const HostOp& host_op_SignalFilterBankSpectralSubtraction() {
  static const HostOp op = make_host_op<SignalFilterBankSpectralSubtractionParams>();
  return op;
}
const HostOp& host_op_SignalPcan() {
  static const HostOp op = make_host_op<SignalPcanParams>();
  return op;
}
const HostOp& host_op_SignalDelay() {
  static const HostOp op = make_host_op<SignalDelayParams>();
  return op;
}
}  // namespace ops
}  // namespace tinyforge
