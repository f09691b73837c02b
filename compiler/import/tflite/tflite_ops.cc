// TFLite builtin operator -> ir::Node: finds the host op reading the builtin
// (ops::find_tflite_read; each op's reader is in its host file under compiler/ops/) and
// the weight checks the weighted ops share.
//
// Facts used (effective opcode = max(deprecated_builtin_code, builtin_code)) are from
// tensorflow/lite/schema/schema.fbs.
#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>

#include "import/tflite/op_mapper.h"
#include "ops/host_op.h"

namespace tinyforge::tflite_import {

namespace {

// The names of the builtins (custom: false) or the custom codes (custom: true) ops read.
std::string supported(bool custom) {
  std::string list;
  for (uint16_t i = 0; i < kNumOps; ++i)
    for (const ops::TfliteRead& r : ops::host_op(static_cast<OpCode>(i)).tflite_reads)
      if ((r.builtin == ops::kTfliteCustom) == custom)
        list += (list.empty() ? "" : ", ") + std::string(r.name);
  return list;
}

}  // namespace

std::string supported_builtins() { return supported(false); }
std::string supported_custom_ops() { return supported(true); }

std::string builtin_name(int32_t code) {
  const char* name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
  return (name && *name) ? std::string(name) : fmt::format("BUILTIN_{}", code);
}

namespace {

// A float op given int8 weights (weight-only quantization): dequantize the constant once,
// real = scale * (q - zero_point), per channel along the quantization axis.
void dequantize_weights(OpMapper& m, ir::Tensor& w, const std::string& label) {
  if (!w.constant)
    m.fail(
        fmt::format("{} is int8 but not constant while the op is float32; expected float32 "
                    "weights or int8 constant (weight-only quantized) weights",
                    label));
  const int64_t n = w.elements();
  const size_t channels = w.quant.scale.size();
  int64_t inner = 1;  // elements per step along the quantization axis
  for (size_t d = static_cast<size_t>(w.quant.axis) + 1; d < w.shape.size(); ++d)
    inner *= w.shape[d];
  std::vector<uint8_t> data(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    const size_t c =
        channels == 1 ? 0 : static_cast<size_t>((i / inner) % static_cast<int64_t>(channels));
    const float v = w.quant.scale[c] * static_cast<float>(w.at<int8_t>(i) - w.quant.zero_point[c]);
    std::memcpy(data.data() + i * 4, &v, 4);
  }
  w.data = std::move(data);
  w.type = DType::f32;
  w.quant = ir::Quant{};
}

// The int8 kernels add the int32 bias to the accumulator of input x weight products, so
// they assume bias scale = input scale x weight scale (per channel) and bias zero point 0.
// A file whose bias scale differs would run with a silently shifted bias: refused, with
// TFLite's own tolerance (kernels/kernel_util.cc, GetQuantizedConvolutionMultipler:
// |input scale x weight scale - bias scale| / output scale <= 0.02). A bias without
// quantization parameters is taken to have the product scale.
void check_bias_scale(OpMapper& m, const ir::Tensor& in, const ir::Tensor& w,
                      const ir::Tensor& bias, size_t bias_input) {
  if (!bias.quant.present()) return;
  const size_t channels = static_cast<size_t>(bias.elements());
  const size_t n = bias.quant.scale.size();
  if (n != 1 && n != channels)
    m.fail(fmt::format("{} has {} scales; expected 1 or {}", m.in_label(bias_input), n, channels));
  for (int32_t zp : bias.quant.zero_point)
    if (zp != 0)
      m.fail(fmt::format("{} has zero point {}; expected 0", m.in_label(bias_input), zp));
  const double in_scale = in.quant.scale.at(0);
  const double out_scale = m.output().quant.scale.at(0);
  for (size_t c = 0; c < std::max(n, w.quant.scale.size()); ++c) {
    const double product = in_scale * w.quant.scale[w.quant.scale.size() == 1 ? 0 : c];
    const double bias_scale = bias.quant.scale[n == 1 ? 0 : c];
    if (std::abs(product - bias_scale) / out_scale > 0.02)
      m.fail(
          fmt::format("{} has scale {} for channel {}; expected input scale x weight scale "
                      "= {} (the int8 kernels assume it)",
                      m.in_label(bias_input), bias_scale, c, product));
  }
}

// TFLite's 16x8 scheme (int16 activations) reaches only the ops that convert at its
// boundaries, the reshapes and concatenation (their kernels move bytes of any type; TFLite
// quantizes RESHAPE to int16 at version 1, tools/optimize/operator_property.cc, and
// CONCATENATION at version 3, tools/versioning/op_version.cc), the conv family (its
// 16x8 twins: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED; TRANSPOSE_CONV in its own
// kernel) and runs_int16_activations' ops; every other op with an int16 operand is refused
// here, before its reader, so a 16x8 model's every such op is named (as unsupported, not as
// a damaged file).
bool runs_int16(tfl::BuiltinOperator builtin) {
  switch (builtin) {
    case tfl::BuiltinOperator::QUANTIZE:
    case tfl::BuiltinOperator::DEQUANTIZE:
    case tfl::BuiltinOperator::RESHAPE:
    case tfl::BuiltinOperator::SQUEEZE:
    case tfl::BuiltinOperator::EXPAND_DIMS:
    case tfl::BuiltinOperator::CONCATENATION:
    case tfl::BuiltinOperator::CONV_2D:
    case tfl::BuiltinOperator::DEPTHWISE_CONV_2D:
    case tfl::BuiltinOperator::FULLY_CONNECTED:
    case tfl::BuiltinOperator::TRANSPOSE_CONV:
    // Not 16x8: the int8 SVDF keeps its time weights and state in int16 (its reader checks).
    case tfl::BuiltinOperator::SVDF:
    // The 16x8 LSTM, and the int8 one's int16 cell state (its reader checks).
    case tfl::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM:
    // CAST converts stored values of any of its dtypes, int16 included.
    case tfl::BuiltinOperator::CAST:
      return true;
    default:
      return false;
  }
}

// The ops that move or pick values (their kernels copy or compare stored values of either
// width), the RELU family's clamps, MUL, ADD, SUB, SQUARED_DIFFERENCE, AVERAGE_POOL_2D, MEAN,
// SUM, RESIZE_BILINEAR, LEAKY_RELU, PRELU, ABS and DIV (they rescale, average, sum,
// interpolate or divide int16 as int8, zero points 0; PRELU's alpha stays int8), LOGISTIC,
// TANH, SOFTMAX, EXP, LOG and RSQRT (TFLite's int16 table kernels) and SQRT (TFLite's float
// arithmetic per value): their 16x8 form is int16 activations throughout, so they
// are let through when their first output is int16 (a float or int8 op with an int16 operand
// stays refused as a dtype).
bool runs_int16_activations(tfl::BuiltinOperator builtin) {
  switch (builtin) {
    case tfl::BuiltinOperator::TRANSPOSE:
    case tfl::BuiltinOperator::PAD:
    case tfl::BuiltinOperator::PADV2:
    case tfl::BuiltinOperator::MIRROR_PAD:
    case tfl::BuiltinOperator::STRIDED_SLICE:
    case tfl::BuiltinOperator::SLICE:
    case tfl::BuiltinOperator::SPLIT:
    case tfl::BuiltinOperator::SPLIT_V:
    case tfl::BuiltinOperator::PACK:
    case tfl::BuiltinOperator::UNPACK:
    case tfl::BuiltinOperator::GATHER:
    case tfl::BuiltinOperator::RESIZE_NEAREST_NEIGHBOR:
    case tfl::BuiltinOperator::RESIZE_BILINEAR:
    case tfl::BuiltinOperator::MAXIMUM:
    case tfl::BuiltinOperator::MINIMUM:
    case tfl::BuiltinOperator::MAX_POOL_2D:
    case tfl::BuiltinOperator::AVERAGE_POOL_2D:
    case tfl::BuiltinOperator::REDUCE_MAX:
    case tfl::BuiltinOperator::MEAN:
    case tfl::BuiltinOperator::SUM:
    case tfl::BuiltinOperator::RELU:
    case tfl::BuiltinOperator::RELU6:
    case tfl::BuiltinOperator::RELU_N1_TO_1:
    case tfl::BuiltinOperator::MUL:
    case tfl::BuiltinOperator::LOGISTIC:
    case tfl::BuiltinOperator::TANH:
    case tfl::BuiltinOperator::LEAKY_RELU:
    case tfl::BuiltinOperator::PRELU:
    case tfl::BuiltinOperator::ADD:
    case tfl::BuiltinOperator::SUB:
    case tfl::BuiltinOperator::SQUARED_DIFFERENCE:
    case tfl::BuiltinOperator::SOFTMAX:
    case tfl::BuiltinOperator::EXP:
    case tfl::BuiltinOperator::LOG:
    case tfl::BuiltinOperator::SQRT:
    case tfl::BuiltinOperator::RSQRT:
    case tfl::BuiltinOperator::ABS:
    case tfl::BuiltinOperator::DIV:
      return true;
    default:
      return false;
  }
}

// The type of tensor `t` of the subgraph, or nullopt when `t` is out of range.
std::optional<tfl::TensorType> file_type(const Reader& reader, int t) {
  const auto* tensors = reader.subgraph().tensors();
  if (t < 0 || !tensors || static_cast<flatbuffers::uoffset_t>(t) >= tensors->size())
    return std::nullopt;
  return tensors->Get(static_cast<flatbuffers::uoffset_t>(t))->type();
}

// Why an op's 16x8 form is refused, where there is more to say than "not yet". HARD_SWISH,
// ARG_MAX, ARG_MIN, NEG, ELU and LOG_SOFTMAX have no int16 kernel in TFLite (activations.cc
// HardSwishEval takes float32, uint8 and int8, tflite-micro's hard_swish.cc float32 and int8;
// kernels/ arg_min_max.cc and micro/kernels/arg_min_max.cc float32, int8 and more, no int16; neg.cc
// float32, int32 and int64, micro neg.cc float32; activations.cc EluEval and micro elu.cc
// float32 and int8; log_softmax.cc and micro log_softmax.cc float32 and int8), so there is
// no arithmetic to follow. Empty for the others.
const char* int16_refusal(tfl::BuiltinOperator builtin) {
  switch (builtin) {
    case tfl::BuiltinOperator::HARD_SWISH:
      return "TFLite has no int16 HARD_SWISH kernel (float32, uint8 and int8 only)";
    case tfl::BuiltinOperator::ARG_MAX:
    case tfl::BuiltinOperator::ARG_MIN:
      return "TFLite and TFLite Micro have no int16 kernel for this op";
    case tfl::BuiltinOperator::NEG:
      return "TFLite and TFLite Micro have no int16 NEG kernel (float32, int32 and int64 only)";
    case tfl::BuiltinOperator::ELU:
      return "TFLite and TFLite Micro have no int16 ELU kernel (float32 and int8 only)";
    case tfl::BuiltinOperator::LOG_SOFTMAX:
      return "TFLite and TFLite Micro have no int16 LOG_SOFTMAX kernel (float32 and int8 only)";
    default:
      return "";
  }
}

void refuse_int16_operands(const Reader& reader, OpMapper& m, tfl::BuiltinOperator builtin) {
  if (runs_int16(builtin)) return;
  const auto* ins = m.op().inputs();
  const auto* outs = m.op().outputs();
  if (runs_int16_activations(builtin) && outs && outs->size() > 0 &&
      file_type(reader, outs->Get(0)) == tfl::TensorType::INT16)
    return;
  for (const auto* list : {ins, outs})
    for (flatbuffers::uoffset_t i = 0; list && i < list->size(); ++i) {
      const int t = list->Get(i);
      if (file_type(reader, t) != tfl::TensorType::INT16) continue;
      const std::string why = int16_refusal(builtin);
      if (!why.empty())
        m.unsupported(fmt::format("{}: dtype INT16 (7): {}", reader.tensor_label(t), why));
      m.unsupported(
          fmt::format("{}: dtype INT16 (7) is not supported by this op (docs/ops.md's "
                      "int16x8 column lists the ops that run TFLite's 16x8 scheme); "
                      "expected FLOAT32 or INT8 here",
                      reader.tensor_label(t)));
    }
}

}  // namespace

void check_weights(OpMapper& m, const ir::Tensor& in, size_t channel_axis, int32_t channels,
                   size_t filter_input, size_t bias_input) {
  ir::Tensor& w = m.input(filter_input);
  const std::string w_label = m.in_label(filter_input);
  if (in.type == DType::f32 && w.type == DType::i8) dequantize_weights(m, w, w_label);
  const bool int16 = in.type == DType::i16;
  m.require_type(w, w_label, int16 ? DType::i8 : in.type);
  if (w.type == DType::i8) {
    const size_t n = w.quant.scale.size();
    if (n != 1 &&
        !(n == static_cast<size_t>(channels) && static_cast<size_t>(w.quant.axis) == channel_axis))
      m.fail(fmt::format("{} has {} scales along dimension {}; expected 1 or {} along dimension {}",
                         w_label, n, w.quant.axis, channels, channel_axis));
    for (int32_t zp : w.quant.zero_point)
      if (zp != 0)
        m.fail(
            fmt::format("{} has zero point {}; expected 0 (symmetric int8 weights)", w_label, zp));
  }
  const int b = m.input_index(bias_input, /*optional=*/true);
  // TFLite's 16x8 kernels accumulate in 64 bits only with an INT64 bias (what its converter
  // emits); without one, or with INT32, they use 32 bits, which the 16x8 twins do not.
  if (int16 && (b < 0 || m.input_file_type(bias_input) != tfl::TensorType::INT64))
    m.unsupported(
        "a 16x8 op without an INT64 bias is not supported; expected the INT64 bias "
        "TFLite's converter emits");
  if (b >= 0) {
    const ir::Tensor& bias = m.input(bias_input);
    const std::string b_label = m.in_label(bias_input);
    m.require_type(bias, b_label, in.type == DType::f32 ? DType::f32 : DType::i32);
    m.require_shape(bias, b_label, {channels});
    if (in.type != DType::f32) check_bias_scale(m, in, w, bias, bias_input);
  }
}

namespace {}  // namespace

ir::Node map_operator(Reader& reader, int op_index) {
  const auto* ops = reader.subgraph().operators();
  const tfl::Operator& op = *ops->Get(static_cast<flatbuffers::uoffset_t>(op_index));
  const auto* codes = reader.model().operator_codes();
  const uint32_t num_codes = codes ? codes->size() : 0;
  if (op.opcode_index() >= num_codes)
    reader.fail(
        fmt::format("op {}: opcode_index {} is past the end of the model's {} operator "
                    "codes",
                    op_index, op.opcode_index(), num_codes));
  const tfl::OperatorCode& code = *codes->Get(op.opcode_index());
  // Old files only set the byte-sized deprecated field; newer ones set both (schema.fbs).
  const int32_t builtin = std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                                   static_cast<int32_t>(code.builtin_code()));
  const std::string name = builtin_name(builtin);
  if (!op.inputs() || !op.outputs())
    reader.fail(
        fmt::format("op {} ({}): inputs or outputs missing; expected both lists", op_index, name));
  const bool custom = builtin == ops::kTfliteCustom;
  const std::string custom_code = custom && code.custom_code() ? code.custom_code()->str() : "";
  const ops::TfliteRead* read =
      custom ? ops::find_tflite_custom_read(custom_code) : ops::find_tflite_read(builtin);
  if (!read && custom)
    reader.fail(fmt::format(
        "op {} is custom op '{}'; expected a builtin op ({}) or a custom "
        "op tinyforge reads ({})",
        op_index, printable(custom_code, 60), supported_builtins(), supported_custom_ops()));
  if (!read)
    reader.fail(fmt::format("op {} is {}, which is not supported; expected one of: {}", op_index,
                            name, supported_builtins()));
  // Named as the importer's refusals name it: CUSTOM 'SignalWindow'.
  OpMapper m(reader, op_index, op, custom ? fmt::format("CUSTOM '{}'", read->name) : name);
  // The signal ops' int16 tensors are their own (samples, spectra), not 16x8 activations.
  if (!custom) refuse_int16_operands(reader, m, static_cast<tfl::BuiltinOperator>(builtin));
  ir::Node node = read->read(m);
  // A read that keeps other inputs than every operand (constant operands taken as
  // attributes, an absent optional input as -1) has listed them.
  if (node.inputs.empty())
    for (size_t i = 0; i < m.num_inputs(); ++i) node.inputs.push_back(m.input_index(i));
  const size_t most = op_info(node.op).outputs;
  if (m.num_outputs() < 1 || m.num_outputs() > most)
    m.fail(fmt::format("has {} outputs; expected 1 to {}", m.num_outputs(), most));
  for (size_t i = 0; i < m.num_outputs(); ++i) node.outputs.push_back(m.output_index(i));
  return node;
}

}  // namespace tinyforge::tflite_import
