// Builds small .tflite models in memory with the flatbuffers builder API, for tests and
// fuzz seeds: nothing depends on third-party model files. A ModelSpec lists tensors and
// ops much as the TFLite file does; build_tflite() writes the flatbuffer (operator codes
// deduplicated, buffer 0 the empty sentinel, one buffer per constant tensor).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tflite_schema_generated.h"

namespace tinyforge::testing {

namespace tfl = ::tinyforge::tfl;

struct TensorSpec {
  TensorSpec() = default;
  TensorSpec(std::string name_, std::vector<int32_t> shape_,
             tfl::TensorType type_ = tfl::TensorType::FLOAT32, std::vector<uint8_t> data_ = {},
             std::vector<float> scale_ = {}, std::vector<int64_t> zero_point_ = {},
             int32_t quantized_dimension_ = 0)
      : name(std::move(name_)),
        shape(std::move(shape_)),
        type(type_),
        data(std::move(data_)),
        scale(std::move(scale_)),
        zero_point(std::move(zero_point_)),
        quantized_dimension(quantized_dimension_) {}

  std::string name;
  std::vector<int32_t> shape;
  tfl::TensorType type = tfl::TensorType::FLOAT32;
  std::vector<uint8_t> data;  // non-empty: a constant
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  bool external_data = false;    // store data after the flatbuffer (Buffer.offset/size)
  bool is_variable = false;      // a stateful op's state (SVDF's, LSTM's)
  int64_t buffer_override = -1;  // >= 0: write this buffer index instead (damaged models)
};

struct OpSpec {
  OpSpec() = default;
  OpSpec(tfl::BuiltinOperator op_, std::vector<int32_t> inputs_, std::vector<int32_t> outputs_)
      : op(op_), inputs(std::move(inputs_)), outputs(std::move(outputs_)) {}

  tfl::BuiltinOperator op = tfl::BuiltinOperator::ADD;
  std::vector<int32_t> inputs, outputs;
  tfl::Padding padding = tfl::Padding::VALID;
  int32_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int32_t filter_h = 1, filter_w = 1, depth_multiplier = 1;
  int32_t axis = 0;                                      // CONCATENATION, PACK, UNPACK, GATHER
  int32_t rank = 1;                                      // SVDF
  tfl::TensorType output_type = tfl::TensorType::INT32;  // ARG_MAX, ARG_MIN
  tfl::TensorType cast_from = tfl::TensorType::FLOAT32, cast_to = tfl::TensorType::INT32;  // CAST
  float cell_clip = 0.0f, proj_clip = 0.0f;  // UNIDIRECTIONAL_SEQUENCE_LSTM
  bool time_major = false;                   // UNIDIRECTIONAL_SEQUENCE_LSTM
  tfl::MirrorPadMode mirror_pad_mode = tfl::MirrorPadMode::REFLECT;
  bool align_corners = false, half_pixel_centers = false;  // RESIZE_*
  std::vector<int32_t> squeeze_dims;                       // SQUEEZE
  tfl::ActivationFunctionType activation = tfl::ActivationFunctionType::NONE;
  float beta = 1.0f;
  float alpha = 0.2f;          // LEAKY_RELU
  bool keep_num_dims = false;  // FULLY_CONNECTED; keep_dims of MEAN and SUM
  bool with_options = true;
  bool old_style_code = false;          // only deprecated_builtin_code set (as pre-2.4 writers did)
  std::string custom_code;              // for op == CUSTOM
  std::vector<uint8_t> custom_options;  // for op == CUSTOM: a FlexBuffer (flexbuffers.h)
  int32_t version = 1;                  // OperatorCode.version
  int64_t opcode_index_override = -1;   // >= 0: write this opcode index instead (damaged models)
};

struct ModelSpec {
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<int32_t> inputs, outputs;
  uint32_t version = 3;
  int num_subgraphs = 1;  // extra subgraphs are copies of the first
};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> b(values.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), values.data(), b.size());
  return b;
}

// Deterministic filler: values in [lo, hi] from a small LCG.
template <typename T>
std::vector<T> pattern(size_t n, int lo, int hi, uint32_t seed = 1) {
  std::vector<T> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<T>(lo + static_cast<int>((seed >> 8) % static_cast<uint32_t>(hi - lo + 1)));
  }
  return v;
}
inline std::vector<float> float_pattern(size_t n, uint32_t seed = 1) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>((seed >> 8) % 2001) / 1000.0f - 1.0f;
  }
  return v;
}

namespace detail {

inline flatbuffers::Offset<void> op_options(flatbuffers::FlatBufferBuilder& fbb, const OpSpec& op,
                                            tfl::BuiltinOptions& type) {
  using B = tfl::BuiltinOperator;
  type = tfl::BuiltinOptions::NONE;
  if (!op.with_options) return 0;
  switch (op.op) {
    case B::CONV_2D:
      type = tfl::BuiltinOptions::Conv2DOptions;
      return tfl::CreateConv2DOptions(fbb, op.padding, op.stride_w, op.stride_h, op.activation,
                                      op.dilation_w, op.dilation_h)
          .Union();
    case B::DEPTHWISE_CONV_2D:
      type = tfl::BuiltinOptions::DepthwiseConv2DOptions;
      return tfl::CreateDepthwiseConv2DOptions(fbb, op.padding, op.stride_w, op.stride_h,
                                               op.depth_multiplier, op.activation, op.dilation_w,
                                               op.dilation_h)
          .Union();
    case B::FULLY_CONNECTED:
      type = tfl::BuiltinOptions::FullyConnectedOptions;
      return tfl::CreateFullyConnectedOptions(fbb, op.activation,
                                              tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                              op.keep_num_dims)
          .Union();
    case B::AVERAGE_POOL_2D:
    case B::MAX_POOL_2D:
      type = tfl::BuiltinOptions::Pool2DOptions;
      return tfl::CreatePool2DOptions(fbb, op.padding, op.stride_w, op.stride_h, op.filter_w,
                                      op.filter_h, op.activation)
          .Union();
    case B::ADD:
      type = tfl::BuiltinOptions::AddOptions;
      return tfl::CreateAddOptions(fbb, op.activation).Union();
    case B::SOFTMAX:
      type = tfl::BuiltinOptions::SoftmaxOptions;
      return tfl::CreateSoftmaxOptions(fbb, op.beta).Union();
    case B::RESHAPE:
      type = tfl::BuiltinOptions::ReshapeOptions;
      return tfl::CreateReshapeOptions(fbb).Union();
    case B::MUL:
      type = tfl::BuiltinOptions::MulOptions;
      return tfl::CreateMulOptions(fbb, op.activation).Union();
    case B::CONCATENATION:
      type = tfl::BuiltinOptions::ConcatenationOptions;
      return tfl::CreateConcatenationOptions(fbb, op.axis, op.activation).Union();
    case B::SUB:
      type = tfl::BuiltinOptions::SubOptions;
      return tfl::CreateSubOptions(fbb, op.activation).Union();
    case B::MIRROR_PAD:
      type = tfl::BuiltinOptions::MirrorPadOptions;
      return tfl::CreateMirrorPadOptions(fbb, op.mirror_pad_mode).Union();
    case B::ARG_MAX:
      type = tfl::BuiltinOptions::ArgMaxOptions;
      return tfl::CreateArgMaxOptions(fbb, op.output_type).Union();
    case B::ARG_MIN:
      type = tfl::BuiltinOptions::ArgMinOptions;
      return tfl::CreateArgMinOptions(fbb, op.output_type).Union();
    case B::CAST:
      type = tfl::BuiltinOptions::CastOptions;
      return tfl::CreateCastOptions(fbb, op.cast_from, op.cast_to).Union();
    case B::GATHER:
      type = tfl::BuiltinOptions::GatherOptions;
      return tfl::CreateGatherOptions(fbb, op.axis).Union();
    case B::DIV:
      type = tfl::BuiltinOptions::DivOptions;
      return tfl::CreateDivOptions(fbb, op.activation).Union();
    case B::SQUARED_DIFFERENCE:
      type = tfl::BuiltinOptions::SquaredDifferenceOptions;
      return tfl::CreateSquaredDifferenceOptions(fbb).Union();
    case B::LEAKY_RELU:
      type = tfl::BuiltinOptions::LeakyReluOptions;
      return tfl::CreateLeakyReluOptions(fbb, op.alpha).Union();
    case B::MEAN:
    case B::SUM:
    case B::REDUCE_MAX:
      type = tfl::BuiltinOptions::ReducerOptions;
      return tfl::CreateReducerOptions(fbb, op.keep_num_dims).Union();
    case B::STRIDED_SLICE:
      type = tfl::BuiltinOptions::StridedSliceOptions;
      return tfl::CreateStridedSliceOptions(fbb).Union();
    case B::SPLIT:
      type = tfl::BuiltinOptions::SplitOptions;
      return tfl::CreateSplitOptions(fbb, static_cast<int32_t>(op.outputs.size())).Union();
    case B::SPLIT_V:
      type = tfl::BuiltinOptions::SplitVOptions;
      return tfl::CreateSplitVOptions(fbb, static_cast<int32_t>(op.outputs.size())).Union();
    case B::UNPACK:
      type = tfl::BuiltinOptions::UnpackOptions;
      return tfl::CreateUnpackOptions(fbb, static_cast<int32_t>(op.outputs.size()), op.axis)
          .Union();
    case B::PACK:
      type = tfl::BuiltinOptions::PackOptions;
      return tfl::CreatePackOptions(fbb, static_cast<int32_t>(op.inputs.size()), op.axis).Union();
    case B::RESIZE_BILINEAR:
      type = tfl::BuiltinOptions::ResizeBilinearOptions;
      return tfl::CreateResizeBilinearOptions(fbb, op.align_corners, op.half_pixel_centers).Union();
    case B::RESIZE_NEAREST_NEIGHBOR:
      type = tfl::BuiltinOptions::ResizeNearestNeighborOptions;
      return tfl::CreateResizeNearestNeighborOptions(fbb, op.align_corners, op.half_pixel_centers)
          .Union();
    case B::HARD_SWISH:
      type = tfl::BuiltinOptions::HardSwishOptions;
      return tfl::CreateHardSwishOptions(fbb).Union();
    case B::TRANSPOSE_CONV:
      type = tfl::BuiltinOptions::TransposeConvOptions;
      return tfl::CreateTransposeConvOptions(fbb, op.padding, op.stride_w, op.stride_h,
                                             op.activation)
          .Union();
    case B::SVDF:
      type = tfl::BuiltinOptions::SVDFOptions;
      return tfl::CreateSVDFOptions(fbb, op.rank, op.activation).Union();
    case B::UNIDIRECTIONAL_SEQUENCE_LSTM:
      type = tfl::BuiltinOptions::UnidirectionalSequenceLSTMOptions;
      return tfl::CreateUnidirectionalSequenceLSTMOptions(fbb, op.activation, op.cell_clip,
                                                          op.proj_clip, op.time_major)
          .Union();
    case B::SQUEEZE: {
      type = tfl::BuiltinOptions::SqueezeOptions;
      const auto dims = fbb.CreateVector(op.squeeze_dims);
      return tfl::CreateSqueezeOptions(fbb, dims).Union();
    }
    default:
      return 0;
  }
}

inline std::vector<uint8_t> build(const ModelSpec& spec, uint64_t external_base) {
  flatbuffers::FlatBufferBuilder fbb;
  // Operator codes, one per distinct (builtin, custom code, style).
  std::vector<const OpSpec*> code_of;
  std::vector<uint32_t> op_code_index;
  for (const OpSpec& op : spec.ops) {
    size_t i = 0;
    while (i < code_of.size() &&
           !(code_of[i]->op == op.op && code_of[i]->custom_code == op.custom_code &&
             code_of[i]->old_style_code == op.old_style_code && code_of[i]->version == op.version))
      ++i;
    if (i == code_of.size()) code_of.push_back(&op);
    op_code_index.push_back(static_cast<uint32_t>(i));
  }
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
  for (const OpSpec* op : code_of) {
    const auto code = static_cast<int32_t>(op->op);
    const auto deprecated = static_cast<int8_t>(std::min(code, 127));
    codes.push_back(tfl::CreateOperatorCode(
        fbb, deprecated, op->custom_code.empty() ? 0 : fbb.CreateString(op->custom_code),
        op->version, op->old_style_code ? tfl::BuiltinOperator::ADD : op->op));
  }
  // Buffers: 0 is the empty sentinel; external data is laid out after the flatbuffer.
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers{tfl::CreateBuffer(fbb)};
  std::vector<uint32_t> tensor_buffer;
  uint64_t external_at = external_base;
  for (const TensorSpec& t : spec.tensors) {
    if (t.data.empty()) {
      tensor_buffer.push_back(0);
      continue;
    }
    tensor_buffer.push_back(static_cast<uint32_t>(buffers.size()));
    if (t.external_data) {
      buffers.push_back(tfl::CreateBuffer(fbb, 0, external_at, t.data.size()));
      external_at += t.data.size();
    } else {
      fbb.ForceVectorAlignment(t.data.size(), 1, 16);
      buffers.push_back(tfl::CreateBuffer(fbb, fbb.CreateVector(t.data)));
    }
  }
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors;
  for (size_t i = 0; i < spec.tensors.size(); ++i) {
    const TensorSpec& t = spec.tensors[i];
    flatbuffers::Offset<tfl::QuantizationParameters> q = 0;
    if (!t.scale.empty() || !t.zero_point.empty()) {
      // Children first, one statement each: argument evaluation order differs between
      // compilers, and the bytes should not.
      const auto scale = fbb.CreateVector(t.scale);
      const auto zero_point = fbb.CreateVector(t.zero_point);
      q = tfl::CreateQuantizationParameters(
          fbb, 0, 0, scale, zero_point, tfl::QuantizationDetails::NONE, 0, t.quantized_dimension);
    }
    const uint32_t buffer =
        t.buffer_override >= 0 ? static_cast<uint32_t>(t.buffer_override) : tensor_buffer[i];
    const auto shape = fbb.CreateVector(t.shape);
    const auto name = fbb.CreateString(t.name);
    tensors.push_back(tfl::CreateTensor(fbb, shape, t.type, buffer, name, q, t.is_variable));
  }
  std::vector<flatbuffers::Offset<tfl::Operator>> ops;
  for (size_t i = 0; i < spec.ops.size(); ++i) {
    const OpSpec& op = spec.ops[i];
    tfl::BuiltinOptions type;
    const auto options = op_options(fbb, op, type);
    const auto inputs = fbb.CreateVector(op.inputs);
    const auto outputs = fbb.CreateVector(op.outputs);
    const uint32_t code = op.opcode_index_override >= 0
                              ? static_cast<uint32_t>(op.opcode_index_override)
                              : op_code_index[i];
    const auto custom = op.custom_options.empty() ? 0 : fbb.CreateVector(op.custom_options);
    ops.push_back(tfl::CreateOperator(fbb, code, inputs, outputs, type, options, custom));
  }
  const auto tensors_v = fbb.CreateVector(tensors);
  const auto inputs_v = fbb.CreateVector(spec.inputs);
  const auto outputs_v = fbb.CreateVector(spec.outputs);
  const auto ops_v = fbb.CreateVector(ops);
  std::vector<flatbuffers::Offset<tfl::SubGraph>> subgraphs;
  for (int s = 0; s < spec.num_subgraphs; ++s)
    subgraphs.push_back(
        tfl::CreateSubGraph(fbb, tensors_v, inputs_v, outputs_v, ops_v, fbb.CreateString("main")));
  const auto codes_v = fbb.CreateVector(codes);
  const auto subgraphs_v = fbb.CreateVector(subgraphs);
  const auto description = fbb.CreateString("tinyforge test");
  const auto buffers_v = fbb.CreateVector(buffers);
  const auto model =
      tfl::CreateModel(fbb, spec.version, codes_v, subgraphs_v, description, buffers_v);
  tfl::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace detail

inline std::vector<uint8_t> build_tflite(const ModelSpec& spec) {
  const bool any_external =
      std::any_of(spec.tensors.begin(), spec.tensors.end(),
                  [](const TensorSpec& t) { return t.external_data && !t.data.empty(); });
  if (!any_external) return detail::build(spec, 0);
  // External offsets count from the file start, past the flatbuffer: build once to learn
  // its size (offsets are fixed-size fields, so the size does not change), then again.
  const size_t size = detail::build(spec, 2).size();
  std::vector<uint8_t> file = detail::build(spec, size);
  for (const TensorSpec& t : spec.tensors)
    if (t.external_data) file.insert(file.end(), t.data.begin(), t.data.end());
  return file;
}

// --- ready-made models covering every supported op --------------------------------------

inline TensorSpec act_i8(std::string name, std::vector<int32_t> shape, float scale, int64_t zp) {
  return {std::move(name), std::move(shape), tfl::TensorType::INT8, {}, {scale}, {zp}};
}

// int8: input [1,8,8,2] -> CONV_2D 3x3 SAME relu (per-channel) -> [1,8,8,4]
//   -> DEPTHWISE_CONV_2D 3x3 stride 2 SAME -> [1,4,4,4] -> AVERAGE_POOL_2D 4x4 -> [1,1,1,4]
//   -> RESHAPE [1,4] -> FULLY_CONNECTED 3 units -> [1,3] -> SOFTMAX -> [1,3]
inline ModelSpec tiny_int8_model() {
  using B = tfl::BuiltinOperator;
  ModelSpec m;
  auto add = [&](TensorSpec t) {
    m.tensors.push_back(std::move(t));
    return static_cast<int32_t>(m.tensors.size() - 1);
  };
  const int32_t in = add(act_i8("input", {1, 8, 8, 2}, 0.05f, -3));
  TensorSpec cw{"conv/filter",
                {4, 3, 3, 2},
                tfl::TensorType::INT8,
                bytes_of(pattern<int8_t>(72, -127, 127, 7)),
                {0.01f, 0.02f, 0.015f, 0.03f},
                {0, 0, 0, 0},
                0};
  const int32_t conv_w = add(cw);
  TensorSpec cb{"conv/bias",
                {4},
                tfl::TensorType::INT32,
                bytes_of(pattern<int32_t>(4, -500, 500, 3)),
                {0.0005f, 0.001f, 0.00075f, 0.0015f},
                {0, 0, 0, 0},
                0};
  const int32_t conv_b = add(cb);
  const int32_t conv_out = add(act_i8("conv/out", {1, 8, 8, 4}, 0.04f, -128));
  TensorSpec dw{"dw/filter",
                {1, 3, 3, 4},
                tfl::TensorType::INT8,
                bytes_of(pattern<int8_t>(36, -127, 127, 11)),
                {0.02f, 0.01f, 0.03f, 0.02f},
                {0, 0, 0, 0},
                3};
  const int32_t dw_w = add(dw);
  const int32_t dw_out = add(act_i8("dw/out", {1, 4, 4, 4}, 0.06f, 5));
  const int32_t pool_out = add(act_i8("pool/out", {1, 1, 1, 4}, 0.06f, 5));
  TensorSpec shape{
      "reshape/shape", {2}, tfl::TensorType::INT32, bytes_of(std::vector<int32_t>{1, 4})};
  const int32_t shape_t = add(shape);
  const int32_t flat = add(act_i8("flat", {1, 4}, 0.06f, 5));
  TensorSpec fw{
      "fc/weights", {3, 4}, tfl::TensorType::INT8, bytes_of(pattern<int8_t>(12, -127, 127, 5)),
      {0.02f},      {0}};
  const int32_t fc_w = add(fw);
  TensorSpec fb{"fc/bias", {3}, tfl::TensorType::INT32, bytes_of(std::vector<int32_t>{100, -50, 7}),
                {0.0012f}, {0}};
  const int32_t fc_b = add(fb);
  const int32_t logits = add(act_i8("logits", {1, 3}, 0.1f, 2));
  const int32_t probs = add(act_i8("probs", {1, 3}, 1.0f / 256, -128));

  OpSpec conv{B::CONV_2D, {in, conv_w, conv_b}, {conv_out}};
  conv.padding = tfl::Padding::SAME;
  conv.activation = tfl::ActivationFunctionType::RELU;
  OpSpec dwc{B::DEPTHWISE_CONV_2D, {conv_out, dw_w, -1}, {dw_out}};
  dwc.padding = tfl::Padding::SAME;
  dwc.stride_h = dwc.stride_w = 2;
  OpSpec pool{B::AVERAGE_POOL_2D, {dw_out}, {pool_out}};
  pool.filter_h = pool.filter_w = 4;
  OpSpec reshape{B::RESHAPE, {pool_out, shape_t}, {flat}};
  OpSpec fc{B::FULLY_CONNECTED, {flat, fc_w, fc_b}, {logits}};
  OpSpec softmax{B::SOFTMAX, {logits}, {probs}};
  m.ops = {conv, dwc, pool, reshape, fc, softmax};
  m.inputs = {in};
  m.outputs = {probs};
  return m;
}

// float in, int8 inside: input f32 [1,6,6,3] -> QUANTIZE -> CONV_2D 3x3 VALID -> [1,4,4,4]
//   -> MAX_POOL_2D 2x2 stride 2 -> [1,2,2,4] -> ADD (with itself) -> DEQUANTIZE -> f32
//   -> RESHAPE [1,16] -> FULLY_CONNECTED (float) 5 units -> SOFTMAX -> [1,5]
inline ModelSpec tiny_mixed_model() {
  using B = tfl::BuiltinOperator;
  ModelSpec m;
  auto add = [&](TensorSpec t) {
    m.tensors.push_back(std::move(t));
    return static_cast<int32_t>(m.tensors.size() - 1);
  };
  const int32_t in = add({"input", {1, 6, 6, 3}});
  const int32_t q = add(act_i8("quantized", {1, 6, 6, 3}, 0.02f, 1));
  TensorSpec cw{"conv/filter",
                {4, 3, 3, 3},
                tfl::TensorType::INT8,
                bytes_of(pattern<int8_t>(108, -127, 127, 13)),
                {0.01f},
                {0}};
  const int32_t conv_w = add(cw);
  TensorSpec cb{
      "conv/bias", {4}, tfl::TensorType::INT32, bytes_of(pattern<int32_t>(4, -300, 300, 17)),
      {0.0002f},   {0}};
  const int32_t conv_b = add(cb);
  const int32_t conv_out = add(act_i8("conv/out", {1, 4, 4, 4}, 0.03f, -10));
  const int32_t pool_out = add(act_i8("pool/out", {1, 2, 2, 4}, 0.03f, -10));
  const int32_t sum = add(act_i8("sum", {1, 2, 2, 4}, 0.06f, -10));
  const int32_t deq = add({"dequantized", {1, 2, 2, 4}});
  TensorSpec shape{
      "reshape/shape", {2}, tfl::TensorType::INT64, bytes_of(std::vector<int64_t>{1, 16})};
  const int32_t shape_t = add(shape);
  const int32_t flat = add({"flat", {1, 16}});
  const int32_t fc_w =
      add({"fc/weights", {5, 16}, tfl::TensorType::FLOAT32, bytes_of(float_pattern(80, 3))});
  const int32_t fc_b =
      add({"fc/bias", {5}, tfl::TensorType::FLOAT32, bytes_of(float_pattern(5, 9))});
  const int32_t logits = add({"logits", {1, 5}});
  const int32_t probs = add({"probs", {1, 5}});

  OpSpec quant{B::QUANTIZE, {in}, {q}};
  OpSpec conv{B::CONV_2D, {q, conv_w, conv_b}, {conv_out}};
  conv.activation = tfl::ActivationFunctionType::RELU6;
  OpSpec pool{B::MAX_POOL_2D, {conv_out}, {pool_out}};
  pool.filter_h = pool.filter_w = 2;
  pool.stride_h = pool.stride_w = 2;
  OpSpec sum_op{B::ADD, {pool_out, pool_out}, {sum}};
  OpSpec dequant{B::DEQUANTIZE, {sum}, {deq}};
  OpSpec reshape{B::RESHAPE, {deq, shape_t}, {flat}};
  OpSpec fc{B::FULLY_CONNECTED, {flat, fc_w, fc_b}, {logits}};
  fc.activation = tfl::ActivationFunctionType::RELU;
  OpSpec softmax{B::SOFTMAX, {logits}, {probs}};
  softmax.beta = 0.5f;
  m.ops = {quant, conv, pool, sum_op, dequant, reshape, fc, softmax};
  m.inputs = {in};
  m.outputs = {probs};
  return m;
}

}  // namespace tinyforge::testing
