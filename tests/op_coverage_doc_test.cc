// docs/ops.md's coverage table is generated, like plan-format.md's opcode table: for every
// op of ops.def and every dtype (int8, int16x8, float32) this test builds a one-op TFLite
// probe model, imports it, plans it with the reference kernels, asks kernel selection for
// a DSP twin and emits AOT C++ -- so every cell is what the code does today, not a list
// kept by hand. The builtins come from the host op registry and the probes; the ONNX op
// types from importing the ONNX seed models and tracing each IR node to its ONNX node. The
// test fails, printing the fresh section, when the doc differs; `TINYFORGE_UPDATE_DOCS=1`
// makes it rewrite the doc instead.
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "emit/aot_cpp.h"
#include "emit/plan_writer.h"
#include "emit/validated_plan.h"
#include "generated_doc.h"
#include "import/onnx/import_onnx.h"
#include "import/onnx/onnx_convert.h"
#include "import/tflite/import_tflite.h"
#include "import/tflite/tflite_reader.h"
#include "io/files.h"
#include "ir/unsupported.h"
#include "lstm_integer_reference.h"
#include "lstm_reference.h"
#include "onnx_seed_models.h"
#include "ops/host_op.h"
#include "plan/build_plan.h"
#include "plan/select_kernels.h"
#include "tflite_model_builder.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

using testing::ModelSpec;
using testing::OpSpec;
using testing::TensorSpec;
using B = tfl::BuiltinOperator;

enum class Kind { int8, int16x8, float32 };
const Kind kKinds[] = {Kind::int8, Kind::int16x8, Kind::float32};
const char* kind_name(Kind k) {
  return k == Kind::int8 ? "int8" : k == Kind::int16x8 ? "int16x8" : "float32";
}

// An activation of kind k: int8 and int16 (the 16x8 scheme: int16 activations, int8
// weights) quantized per tensor, symmetric for int16 as TFLite has it.
TensorSpec act(Kind k, const std::string& name, std::vector<int32_t> shape, float scale = 0.05f,
               int64_t zp = 0) {
  if (k == Kind::float32) return {name, std::move(shape)};
  if (k == Kind::int8) return {name, std::move(shape), tfl::TensorType::INT8, {}, {scale}, {zp}};
  return {name, std::move(shape), tfl::TensorType::INT16, {}, {scale / 256}, {0}};
}

// Constant weights of `shape`, per-channel int8 along `axis` for the quantized kinds.
TensorSpec weights(Kind k, std::vector<int32_t> shape, int32_t axis) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  if (k == Kind::float32) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      v[static_cast<size_t>(i)] = 0.01f * static_cast<float>(i % 7 - 3);
    return {"w", std::move(shape), tfl::TensorType::FLOAT32, testing::bytes_of(v)};
  }
  const size_t channels = static_cast<size_t>(shape[static_cast<size_t>(axis)]);
  return {"w",
          shape,
          tfl::TensorType::INT8,
          testing::bytes_of(testing::pattern<int8_t>(static_cast<size_t>(n), -127, 127, 3)),
          std::vector<float>(channels, 0.02f),
          std::vector<int64_t>(channels, 0),
          axis};
}

// Bias of `n` channels for input scale `in` and weight scale 0.02: int32 for int8, int64
// for int16x8 (TFLite's 16x8 bias), float for float32.
TensorSpec bias(Kind k, int32_t n, float in) {
  if (k == Kind::float32)
    return {"b", {n}, tfl::TensorType::FLOAT32, testing::bytes_of(std::vector<float>(n, 0.1f))};
  const float scale = (k == Kind::int8 ? in : in / 256) * 0.02f;
  if (k == Kind::int8)
    return {"b",     {n}, tfl::TensorType::INT32, testing::bytes_of(std::vector<int32_t>(n, 10)),
            {scale}, {0}};
  return {"b",     {n}, tfl::TensorType::INT64, testing::bytes_of(std::vector<int64_t>(n, 10)),
          {scale}, {0}};
}

TensorSpec ints(const std::string& name, const std::vector<int32_t>& v) {
  return {name, {static_cast<int32_t>(v.size())}, tfl::TensorType::INT32, testing::bytes_of(v)};
}

// A model of the tensors given (model inputs: the non-constant ones but the last; output:
// the last) and one op reading `inputs` and writing the last tensor.
ModelSpec one_op(std::vector<TensorSpec> tensors, OpSpec op) {
  ModelSpec m;
  m.tensors = std::move(tensors);
  const int32_t out = static_cast<int32_t>(m.tensors.size()) - 1;
  for (int32_t t = 0; t < out; ++t)
    if (m.tensors[static_cast<size_t>(t)].data.empty() &&
        !m.tensors[static_cast<size_t>(t)].is_variable)
      m.inputs.push_back(t);
  m.outputs = {out};
  op.outputs = {out};
  m.ops = {op};
  return m;
}

OpSpec op_of(B builtin, std::vector<int32_t> inputs) {
  OpSpec op{builtin, std::move(inputs), {}};
  return op;
}

ModelSpec unary(B builtin, Kind k, float out_scale = 0.05f, int64_t out_zp = 0) {
  return one_op({act(k, "x", {1, 4}), act(k, "y", {1, 4}, out_scale, out_zp)}, op_of(builtin, {0}));
}

ModelSpec binary(B builtin, Kind k, float out_scale = 0.1f) {
  return one_op({act(k, "x", {1, 4}), act(k, "x2", {1, 4}), act(k, "y", {1, 4}, out_scale)},
                op_of(builtin, {0, 1}));
}

// One probe per op of ops.def that an importer produces (the DSP and 16x8 twins are reached
// through kernel selection from these). An op added without a probe fails the test.
struct Probe {
  OpCode op;
  B builtin;
  std::function<ModelSpec(Kind)> model;
  std::function<ModelSpec(Kind)> pruned = nullptr;  // the op with mostly zero weights
};

// A pruned FullyConnected: 4 units of 512 inputs, one weight in 32 nonzero.
ModelSpec pruned_fully_connected(Kind k) {
  TensorSpec w = weights(k, {4, 512}, 0);
  const size_t size = k == Kind::float32 ? sizeof(float) : 1;
  for (size_t i = 0; i < w.data.size() / size; ++i)
    if (i % 32 != 0) std::fill_n(w.data.begin() + static_cast<std::ptrdiff_t>(i * size), size, 0);
  return one_op({act(k, "x", {1, 512}), std::move(w), bias(k, 4, 0.05f), act(k, "y", {1, 4}, 0.1f)},
                op_of(B::FULLY_CONNECTED, {0, 1, 2}));
}

std::vector<Probe> probes() {
  std::vector<Probe> p;
  p.push_back({OpCode::Conv2D, B::CONV_2D, [](Kind k) {
                 return one_op({act(k, "x", {1, 4, 4, 2}), weights(k, {2, 3, 3, 2}, 0),
                                bias(k, 2, 0.05f), act(k, "y", {1, 2, 2, 2}, 0.1f)},
                               op_of(B::CONV_2D, {0, 1, 2}));
               }});
  p.push_back({OpCode::DepthwiseConv2D, B::DEPTHWISE_CONV_2D, [](Kind k) {
                 return one_op({act(k, "x", {1, 4, 4, 2}), weights(k, {1, 3, 3, 2}, 3),
                                bias(k, 2, 0.05f), act(k, "y", {1, 2, 2, 2}, 0.1f)},
                               op_of(B::DEPTHWISE_CONV_2D, {0, 1, 2}));
               }});
  p.push_back({OpCode::FullyConnected, B::FULLY_CONNECTED,
               [](Kind k) {
                 return one_op({act(k, "x", {1, 8}), weights(k, {4, 8}, 0), bias(k, 4, 0.05f),
                                act(k, "y", {1, 4}, 0.1f)},
                               op_of(B::FULLY_CONNECTED, {0, 1, 2}));
               },
               pruned_fully_connected});
  for (const auto& [op, builtin] : {std::pair{OpCode::AveragePool2D, B::AVERAGE_POOL_2D},
                                    std::pair{OpCode::MaxPool2D, B::MAX_POOL_2D}}) {
    const B b = builtin;
    p.push_back({op, b, [b](Kind k) {
                   OpSpec pool = op_of(b, {0});
                   pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = 2;
                   return one_op({act(k, "x", {1, 4, 4, 2}), act(k, "y", {1, 2, 2, 2})}, pool);
                 }});
  }
  p.push_back({OpCode::Add, B::ADD, [](Kind k) { return binary(B::ADD, k); }});
  p.push_back({OpCode::Reshape, B::RESHAPE, [](Kind k) {
                 return one_op({act(k, "x", {1, 2, 2}), ints("shape", {1, 4}), act(k, "y", {1, 4})},
                               op_of(B::RESHAPE, {0, 1}));
               }});
  p.push_back({OpCode::Softmax, B::SOFTMAX, [](Kind k) {
                 return k == Kind::int16x8
                            ? unary(B::SOFTMAX, k, 1.0f / 128, 0)  // int16 scale 2^-15
                            : unary(B::SOFTMAX, k, 1.0f / 256, -128);
               }});
  p.push_back({OpCode::Quantize, B::QUANTIZE, [](Kind k) {
                 return one_op({act(Kind::float32, "x", {1, 4}), act(k, "y", {1, 4})},
                               op_of(B::QUANTIZE, {0}));
               }});
  p.push_back({OpCode::Dequantize, B::DEQUANTIZE, [](Kind k) {
                 return one_op({act(k, "x", {1, 4}), act(Kind::float32, "y", {1, 4})},
                               op_of(B::DEQUANTIZE, {0}));
               }});
  p.push_back({OpCode::Mul, B::MUL, [](Kind k) { return binary(B::MUL, k); }});
  // Logistic's int16 output scale is 2^-15 (not 1/256 of the int8 one).
  p.push_back({OpCode::Logistic, B::LOGISTIC, [](Kind k) {
                 return k == Kind::int16x8 ? unary(B::LOGISTIC, k, 1.0f / 128, 0)
                                           : unary(B::LOGISTIC, k, 1.0f / 256, -128);
               }});
  p.push_back({OpCode::Tanh, B::TANH, [](Kind k) { return unary(B::TANH, k, 1.0f / 128, 0); }});
  p.push_back({OpCode::Clamp, B::RELU6, [](Kind k) { return unary(B::RELU6, k); }});
  p.push_back(
      {OpCode::Concatenation, B::CONCATENATION, [](Kind k) {
         OpSpec concat = op_of(B::CONCATENATION, {0, 1});
         concat.axis = 1;
         return one_op({act(k, "x", {1, 2}), act(k, "x2", {1, 2}), act(k, "y", {1, 4})}, concat);
       }});
  p.push_back({OpCode::Transpose, B::TRANSPOSE, [](Kind k) {
                 return one_op(
                     {act(k, "x", {1, 2, 3}), ints("perm", {0, 2, 1}), act(k, "y", {1, 3, 2})},
                     op_of(B::TRANSPOSE, {0, 1}));
               }});
  p.push_back({OpCode::Pad, B::PAD, [](Kind k) {
                 TensorSpec pads = ints("paddings", {0, 0, 1, 1, 1, 1, 0, 0});
                 pads.shape = {4, 2};
                 return one_op({act(k, "x", {1, 2, 2, 1}), pads, act(k, "y", {1, 4, 4, 1})},
                               op_of(B::PAD, {0, 1}));
               }});
  // MAXIMUM and MINIMUM keep the input's quantization (TFLite requires it).
  p.push_back({OpCode::Maximum, B::MAXIMUM, [](Kind k) { return binary(B::MAXIMUM, k, 0.05f); }});
  p.push_back({OpCode::Minimum, B::MINIMUM, [](Kind k) { return binary(B::MINIMUM, k, 0.05f); }});
  p.push_back({OpCode::Sub, B::SUB, [](Kind k) { return binary(B::SUB, k); }});
  p.push_back({OpCode::SquaredDifference, B::SQUARED_DIFFERENCE,
               [](Kind k) { return binary(B::SQUARED_DIFFERENCE, k); }});
  p.push_back({OpCode::LeakyRelu, B::LEAKY_RELU, [](Kind k) { return unary(B::LEAKY_RELU, k); }});
  for (const auto& [op, builtin] :
       {std::pair{OpCode::Mean, B::MEAN}, std::pair{OpCode::Sum, B::SUM}}) {
    const B b = builtin;
    p.push_back({op, b, [b](Kind k) {
                   return one_op(
                       {act(k, "x", {1, 2, 2, 4}), ints("axes", {1, 2}), act(k, "y", {1, 4})},
                       op_of(b, {0, 1}));
                 }});
  }
  p.push_back({OpCode::StridedSlice, B::STRIDED_SLICE, [](Kind k) {
                 return one_op({act(k, "x", {1, 8}), ints("begin", {0, 2}), ints("end", {1, 6}),
                                ints("strides", {1, 2}), act(k, "y", {1, 2})},
                               op_of(B::STRIDED_SLICE, {0, 1, 2, 3}));
               }});
  // SPLIT: the axis operand first; two outputs.
  p.push_back({OpCode::Split, B::SPLIT, [](Kind k) {
                 ModelSpec m;
                 m.tensors = {ints("axis", {1}), act(k, "x", {1, 4}), act(k, "a", {1, 2}),
                              act(k, "b", {1, 2})};
                 m.tensors[0].shape = {};
                 m.inputs = {1};
                 m.outputs = {2, 3};
                 m.ops = {OpSpec(B::SPLIT, {0, 1}, {2, 3})};
                 return m;
               }});
  p.push_back({OpCode::Unpack, B::UNPACK, [](Kind k) {
                 ModelSpec m;
                 m.tensors = {act(k, "x", {2, 3}), act(k, "a", {3}), act(k, "b", {3})};
                 m.inputs = {0};
                 m.outputs = {1, 2};
                 m.ops = {OpSpec(B::UNPACK, {0}, {1, 2})};
                 return m;
               }});
  p.push_back({OpCode::Pack, B::PACK, [](Kind k) {
                 return one_op({act(k, "x", {3}), act(k, "x2", {3}), act(k, "y", {2, 3})},
                               op_of(B::PACK, {0, 1}));
               }});
  for (const auto& [op, builtin] :
       {std::pair{OpCode::ResizeNearestNeighbor, B::RESIZE_NEAREST_NEIGHBOR},
        std::pair{OpCode::ResizeBilinear, B::RESIZE_BILINEAR}}) {
    const B b = builtin;
    p.push_back({op, b, [b](Kind k) {
                   return one_op(
                       {act(k, "x", {1, 2, 2, 1}), ints("size", {4, 4}), act(k, "y", {1, 4, 4, 1})},
                       op_of(b, {0, 1}));
                 }});
  }
  p.push_back({OpCode::HardSwish, B::HARD_SWISH, [](Kind k) { return unary(B::HARD_SWISH, k); }});
  p.push_back({OpCode::UnaryMath, B::EXP, [](Kind k) { return unary(B::EXP, k); }});
  p.push_back({OpCode::Div, B::DIV, [](Kind k) { return binary(B::DIV, k); }});
  // REDUCE_MAX keeps the input's quantization (TFLite requires it).
  p.push_back({OpCode::ReduceMax, B::REDUCE_MAX, [](Kind k) {
                 return one_op(
                     {act(k, "x", {1, 2, 2, 4}), ints("axes", {1, 2}), act(k, "y", {1, 4})},
                     op_of(B::REDUCE_MAX, {0, 1}));
               }});
  // The 16x8 PRELU keeps an int8 alpha (tflite-micro's int16 PRELU).
  p.push_back({OpCode::Prelu, B::PRELU, [](Kind k) {
                 if (k != Kind::int16x8) return binary(B::PRELU, k);
                 return one_op(
                     {act(k, "x", {1, 4}), act(Kind::int8, "alpha", {1, 4}), act(k, "y", {1, 4})},
                     op_of(B::PRELU, {0, 1}));
               }});
  p.push_back({OpCode::MirrorPad, B::MIRROR_PAD, [](Kind k) {
                 TensorSpec pads = ints("paddings", {0, 0, 1, 1, 1, 1, 0, 0});
                 pads.shape = {4, 2};
                 return one_op({act(k, "x", {1, 2, 2, 1}), pads, act(k, "y", {1, 4, 4, 1})},
                               op_of(B::MIRROR_PAD, {0, 1}));
               }});
  p.push_back({OpCode::Gather, B::GATHER, [](Kind k) {
                 return one_op({act(k, "x", {4, 2}), ints("indices", {3, 0}), act(k, "y", {2, 2})},
                               op_of(B::GATHER, {0, 1}));
               }});
  // TRANSPOSE_CONV: output_shape, weights, input, bias (TFLite's operand order).
  p.push_back({OpCode::TransposeConv, B::TRANSPOSE_CONV, [](Kind k) {
                 TensorSpec out_shape = ints("output_shape", {1, 5, 5, 2});
                 OpSpec op = op_of(B::TRANSPOSE_CONV, {0, 1, 2, 3});
                 op.stride_h = op.stride_w = 2;
                 return one_op({out_shape, weights(k, {2, 3, 3, 2}, 0), act(k, "x", {1, 2, 2, 2}),
                                bias(k, 2, 0.05f), act(k, "y", {1, 5, 5, 2}, 0.1f)},
                               op);
               }});
  // SVDF: input, weights_feature, weights_time, bias, state (a variable tensor); the int8
  // form takes int16 time weights and state, TFLM's integer SVDF.
  p.push_back(
      {OpCode::Svdf, B::SVDF, [](Kind k) {
         const bool q = k != Kind::float32;
         TensorSpec wf = weights(k, {4, 3}, 0), wt = weights(k, {4, 2}, 0);
         TensorSpec state = act(k, "state", {1, 8}, 0.05f);
         TensorSpec b = bias(k, 2, 0.05f);
         if (q) {
           wf.scale = {0.02f};
           wf.zero_point = {0};
           wt.type = state.type = tfl::TensorType::INT16;
           wt.data = testing::bytes_of(std::vector<int16_t>(8, 300));
           wt.scale = {1.0f / 32768};
           wt.zero_point = {0};
           state.scale = {0.01f};
           state.zero_point = {0};
           b.scale = {0.01f / 32768};
         }
         state.is_variable = true;
         OpSpec op = op_of(B::SVDF, {0, 1, 2, 3, 4});
         op.rank = 2;
         return one_op({act(k, "x", {1, 3}), wf, wt, b, state, act(k, "y", {1, 2}, 0.1f)}, op);
       }});
  // ARG_MAX / ARG_MIN: data, axis; int32 indices out (the kind names the data's dtype).
  for (const auto& [op, builtin] :
       {std::pair{OpCode::ArgMax, B::ARG_MAX}, std::pair{OpCode::ArgMin, B::ARG_MIN}})
    p.push_back(
        {op, builtin, [builtin = builtin](Kind k) {
           const TensorSpec y{"y", {2, 3}, tfl::TensorType::INT32};
           return one_op({act(k, "x", {2, 4, 3}), ints("axis", {1}), y}, op_of(builtin, {0, 1}));
         }});
  // CAST: the kind's activation to int32 indices.
  p.push_back({OpCode::Cast, B::CAST, [](Kind k) {
                 const TensorSpec y{"y", {2, 3}, tfl::TensorType::INT32};
                 return one_op({act(k, "x", {2, 3}), y}, op_of(B::CAST, {0}));
               }});
  // The signal-library ops (custom ops, compiler/ops/signal.cc) in their integer form, put
  // in the int16x8 column; their int8 and float32 forms are the same model with int8 or
  // float32 activations, which they refuse.
  const auto i16 = tfl::TensorType::INT16;
  const auto u32 = tfl::TensorType::UINT32;
  const auto u64 = tfl::TensorType::UINT64;
  const auto table = [](const std::string& name, std::vector<int16_t> v) {
    return TensorSpec{
        name, {static_cast<int32_t>(v.size())}, tfl::TensorType::INT16, testing::bytes_of(v)};
  };
  const auto options = [](std::vector<std::pair<const char*, int32_t>> values) {
    flexbuffers::Builder f;
    const size_t map = f.StartMap();
    for (const auto& [key, value] : values) f.Int(key, value);
    f.EndMap(map);
    f.Finish();
    return f.GetBuffer();
  };
  const auto signal = [](OpCode op, std::vector<TensorSpec> tensors, std::vector<uint8_t> opts,
                         int32_t outputs = 1) {
    return Probe{op, B::CUSTOM, [=](Kind k) {
                   std::vector<TensorSpec> t = tensors;
                   if (k != Kind::int16x8)
                     for (TensorSpec& x : t)
                       if (x.data.empty())
                         x.type =
                             k == Kind::int8 ? tfl::TensorType::INT8 : tfl::TensorType::FLOAT32;
                   const int32_t first_out = static_cast<int32_t>(t.size()) - outputs;
                   std::vector<int32_t> inputs;
                   for (int32_t i = 0; i < first_out; ++i) inputs.push_back(i);
                   OpSpec o = op_of(B::CUSTOM, inputs);
                   o.custom_code = ops::host_op(op).tflite_reads.at(0).name;
                   o.custom_options = opts;
                   ModelSpec m = one_op(t, o);
                   m.inputs.clear();
                   m.outputs.clear();
                   m.ops[0].outputs.clear();
                   for (int32_t i = 0; i < static_cast<int32_t>(t.size()); ++i) {
                     if (i >= first_out) {
                       m.outputs.push_back(i);
                       m.ops[0].outputs.push_back(i);
                     } else if (t[static_cast<size_t>(i)].data.empty()) {
                       m.inputs.push_back(i);
                     }
                   }
                   return m;
                 }};
  };
  p.push_back(signal(OpCode::SignalWindow,
                     {{"x", {2, 4}, i16}, table("window", {1, 2, 3, 4}), {"y", {2, 4}, i16}},
                     options({{"shift", 1}})));
  p.push_back(signal(OpCode::SignalEnergy, {{"x", {8}, i16}, {"y", {4}, u32}},
                     options({{"end_index", 4}, {"start_index", 0}})));
  p.push_back(signal(OpCode::SignalFilterBank,
                     {{"x", {4}, u32},
                      table("w", {1, 2}),
                      table("u", {3, 4}),
                      table("fs", {0, 1}),
                      table("ws", {0, 1}),
                      table("widths", {1, 1}),
                      {"y", {1}, u64}},
                     options({{"num_channels", 1}})));
  p.push_back(
      signal(OpCode::SignalFilterBankSquareRoot,
             {{"x", {3}, u64},
              {"bits", {1}, tfl::TensorType::INT32, testing::bytes_of(std::vector<int32_t>{1})},
              {"y", {3}, u32}},
             {}));
  p.push_back(signal(OpCode::SignalFilterBankLog, {{"x", {3}, u32}, {"y", {3}, i16}},
                     options({{"input_correction_bits", 3}, {"output_scale", 1600}})));
  p.push_back(signal(OpCode::SignalFftAutoScale,
                     {{"x", {6}, i16}, {"y", {6}, i16}, {"bits", {}, tfl::TensorType::INT32}}, {},
                     2));
  p.push_back(signal(OpCode::SignalRfft, {{"x", {2, 6}, i16}, {"y", {2, 10}, i16}},
                     options({{"T", 7}, {"fft_length", 8}})));
  p.push_back(signal(OpCode::SignalFilterBankSpectralSubtraction,
                     {{"x", {4}, u32}, {"y", {4}, u32}, {"noise", {4}, u32}},
                     options({{"alternate_one_minus_smoothing", 15401},
                              {"alternate_smoothing", 983},
                              {"clamping", 0},
                              {"min_signal_remaining", 819},
                              {"num_channels", 4},
                              {"one_minus_smoothing", 15975},
                              {"smoothing", 409},
                              {"smoothing_bits", 10},
                              {"spectral_subtraction_bits", 14}}),
                     2));
  p.push_back(signal(OpCode::SignalPcan,
                     {{"x", {4}, u32},
                      {"noise", {4}, u32},
                      table("lut", std::vector<int16_t>(kPcanLutSize, 100)),
                      {"y", {4}, u32}},
                     options({{"snr_shift", 6}})));
  p.push_back(signal(OpCode::SignalDelay, {{"x", {2, 6}, i16}, {"y", {2, 6}, i16}},
                     options({{"delay_length", 3}})));
  // UNIDIRECTIONAL_SEQUENCE_LSTM: TFLite's 24 operands (tests/lstm_reference.h); the
  // quantized kinds are TFLM's integer LSTM (tests/lstm_integer_reference.h).
  p.push_back({OpCode::Lstm, B::UNIDIRECTIONAL_SEQUENCE_LSTM, [](Kind k) {
                 const testing::LstmConfig c;
                 const testing::LstmWeights w = testing::lstm_weights(c);
                 if (k == Kind::float32) return testing::lstm_model(c, w);
                 testing::IntLstmQuant q;
                 if (k == Kind::int16x8) {
                   q.int16 = true;
                   q.input_scale = 4.0f / 32768;
                   q.hidden_scale = 1.0f / 32768;
                   q.input_zero_point = q.hidden_zero_point = 0;
                 }
                 return testing::int_lstm_model(c, testing::quantize_lstm_weights(w, q), q);
               }});
  // TFLite's int8 log softmax writes scale 16/256, zero point 127 (its 16x8 form: none).
  p.push_back({OpCode::LogSoftmax, B::LOG_SOFTMAX, [](Kind k) {
                 return k == Kind::int8 ? unary(B::LOG_SOFTMAX, k, 16.0f / 256, 127)
                                        : unary(B::LOG_SOFTMAX, k, 16.0f / 256 / 256, 0);
               }});
  return p;
}

// What one (op, dtype) probe gave on each path.
struct Cell {
  bool reference = false, aot = false;
  std::string kernel;       // the 16x8 twin kernel selection picked, "" for the op's own
  std::string twin;         // the DSP twin kernel selection picked, "" for none
  std::string pruned_twin;  // the same for the probe's pruned form
  std::string why;          // the first refusal, when the reference path refused
};

std::string reason(const tinyforge::Error& e, const Probe& probe) {
  if (const auto* u = dynamic_cast<const UnsupportedOps*>(&e)) return u->refusals().at(0).reason;
  const std::string builtin =
      probe.builtin == B::CUSTOM
          ? "CUSTOM '" + std::string(ops::host_op(probe.op).tflite_reads.at(0).name) + "'"
          : tflite_import::builtin_name(static_cast<int32_t>(probe.builtin));
  return strip_prefix(strip_prefix(e.what(), "probe.tflite"), "op 0 (" + builtin + ")");
}

Cell evaluate(const Probe& probe, Kind k) {
  Cell c;
  const std::vector<uint8_t> file = testing::build_tflite(probe.model(k));
  ir::Graph g;
  try {
    g = import_tflite(file.data(), file.size(), "probe.tflite");
  } catch (const tinyforge::Error& e) {
    c.why = reason(e, probe);
    return c;
  }
  EXPECT_TRUE(g.nodes.size() == 1 && g.nodes[0].op == probe.op)
      << op_info(probe.op).name << " " << kind_name(k) << ": the probe is not one such op";
  try {
    const std::vector<uint8_t> blob = emit::write_plan_blob(plan::build_plan(g));
    emit::ValidatedPlan(blob, "probe");  // the runtime's own kernel checks
    c.reference = true;
    if (const std::optional<OpCode> twin = plan::int16_twin(g, 0)) c.kernel = op_info(*twin).name;
    const std::string call =
        std::string("eval_") + (c.kernel.empty() ? op_info(probe.op).name : c.kernel) + "(";
    c.aot = emit::emit_aot_cpp(blob).find(call) != std::string::npos;
  } catch (const tinyforge::Error& e) {
    c.why = reason(e, probe);
    return c;
  }
  if (const std::optional<OpCode> twin = plan::dsp_twin(g, 0)) {
    plan::PlanOptions options;
    options.kernels = plan::KernelSet::armv7em;
    const std::vector<uint8_t> blob = emit::write_plan_blob(plan::build_plan(g, options), options);
    emit::ValidatedPlan(blob, "probe");
    c.twin = op_info(*twin).name;
  }
  if (probe.pruned) {
    const std::vector<uint8_t> pruned = testing::build_tflite(probe.pruned(k));
    const ir::Graph p = import_tflite(pruned.data(), pruned.size(), "pruned probe.tflite");
    if (const std::optional<OpCode> twin = plan::dsp_twin(p, 0))
      c.pruned_twin = op_info(*twin).name;
  }
  return c;
}

std::string cell_text(const Cell& c) {
  if (!c.reference) return "no";
  std::string s = c.kernel.empty() ? "reference" : "reference `" + c.kernel + "`";
  if (!c.twin.empty()) s += ", DSP `" + c.twin + "`";
  if (!c.pruned_twin.empty()) s += " (pruned: `" + c.pruned_twin + "`)";
  if (c.aot) s += ", AOT";
  return s;
}

// ONNX op types per IR op, from the ONNX seed models: each IR node names the ONNX node it
// came from (Node::source_index). The layout ops a converter inserts around its main op
// (Reshape, Transpose) are credited to it only when they are all it emitted.
struct OnnxMapping {
  std::map<OpCode, std::set<std::string>> types;
  std::set<std::string> no_op_of_their_own, seen;
};

OnnxMapping onnx_mapping() {
  OnnxMapping m;
  std::vector<std::string> models;
  for (const auto& [name, bytes] : onnx_test::onnx_seed_models()) models.push_back(bytes);
  const std::vector<uint8_t> digits =
      io::read_file(std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx");
  models.emplace_back(digits.begin(), digits.end());
  for (const std::string& bytes : models) {
    onnx::ModelProto proto;
    EXPECT_TRUE(proto.ParseFromString(bytes));
    const ir::Graph g =
        import_onnx(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "seed.onnx");
    std::map<int, std::set<OpCode>> emitted;
    for (const ir::Node& n : g.nodes)
      if (n.source_index >= 0) emitted[n.source_index].insert(n.op);
    for (int i = 0; i < proto.graph().node_size(); ++i) {
      const std::string& type = proto.graph().node(i).op_type();
      m.seen.insert(type);
      std::set<OpCode> main = emitted[i];
      for (OpCode layout : {OpCode::Reshape, OpCode::Transpose})
        if (main.size() > 1 || (main.size() == 1 && *main.begin() != layout)) main.erase(layout);
      if (emitted[i].empty()) m.no_op_of_their_own.insert(type);
      for (OpCode op : main) m.types[op].insert(type);
    }
  }
  for (const auto& [op, types] : m.types)
    for (const std::string& t : types) m.no_op_of_their_own.erase(t);
  return m;
}

std::string joined(const std::set<std::string>& s) {
  if (s.empty()) return "—";
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

std::string generated_section() {
  const OnnxMapping onnx = onnx_mapping();
  std::string t =
      "| op | TFLite builtins | ONNX op types | int8 | int16x8 | float32 |\n"
      "|---|---|---|---|---|---|\n";
  std::map<std::string, std::set<std::string>> why;  // reason -> "op dtype"
  std::set<OpCode> covered;
  for (const Probe& probe : probes()) {
    covered.insert(probe.op);
    std::set<std::string> builtins;
    for (const ops::TfliteRead& r : ops::host_op(probe.op).tflite_reads)
      builtins.insert(r.builtin == ops::kTfliteCustom ? "CUSTOM '" + std::string(r.name) + "'"
                                                      : std::string(r.name));
    std::string cells;
    bool imports = false;
    for (Kind k : kKinds) {
      const Cell c = evaluate(probe, k);
      cells += " " + cell_text(c) + " |";
      if (c.reference) {
        imports = true;
        if (probe.builtin != B::CUSTOM)
          builtins.insert(tflite_import::builtin_name(static_cast<int32_t>(probe.builtin)));
      } else {
        why[c.why].insert(std::string(op_info(probe.op).name) + " " + kind_name(k));
      }
      for (uint16_t i = 0; i < kNumOps; ++i)
        if (c.twin == op_info(static_cast<OpCode>(i)).name ||
            c.pruned_twin == op_info(static_cast<OpCode>(i)).name ||
            c.kernel == op_info(static_cast<OpCode>(i)).name)
          covered.insert(static_cast<OpCode>(i));
    }
    EXPECT_TRUE(imports) << op_info(probe.op).name << ": no dtype of its probe runs";
    t += std::string("| ") + op_info(probe.op).name + " | " + joined(builtins) + " | " +
         joined(onnx.types.count(probe.op) ? onnx.types.at(probe.op) : std::set<std::string>{}) +
         " |" + cells + "\n";
  }
  // Not a twin of one op: the planner forms it from a conv chain (plan/conv_chain.h).
  covered.insert(OpCode::ConvChainDsp);
  for (uint16_t i = 0; i < kNumOps; ++i)
    EXPECT_TRUE(covered.count(static_cast<OpCode>(i)))
        << op_info(static_cast<OpCode>(i)).name
        << ": no probe in op_coverage_doc_test.cc and no probe selects it as a twin";

  std::set<std::string> converters, not_seen;
  for (const ops::OnnxRead& e : onnx_import::converters()) {
    converters.insert(e.op_type);
    if (!onnx.seen.count(e.op_type)) not_seen.insert(e.op_type);
  }
  std::set<std::string> no_op;
  for (const std::string& type : onnx.no_op_of_their_own)
    if (converters.count(type)) no_op.insert(type);
  t += "\nONNX op types that, in the seed models, import without an op of their own (fused "
       "into the op before them, evaluated at import or removed): " +
       joined(no_op) + ".\n";
  t += "\nONNX op types the seed models do not use, so their ops are not derived here: " +
       (not_seen.empty() ? std::string("none") : joined(not_seen)) + ".\n";
  t += "\nWhy each `no` is no (the first refusal of its probe):\n\n";
  for (const auto& [reason, where] : why) t += "- " + joined(where) + ": " + reason + "\n";
  return t;
}

TEST(OpCoverageDoc, TableMatchesWhatTheCodeDoes) {
  testing::expect_generated_section(
      "docs/ops.md", "<!-- coverage: generated by tests/op_coverage_doc_test.cc -->\n",
      "<!-- end of coverage -->", generated_section());
}

}  // namespace
}  // namespace tinyforge
