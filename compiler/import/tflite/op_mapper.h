// Internal to the TFLite importer: one TFLite operator being mapped to an ir::Node, with
// the checks every mapping uses, each failing with a message that names the op. The
// central mapping (tflite_ops.cc) and the op files under compiler/ops/ use it.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tflite_reader.h"

namespace tinyforge::tflite_import {

// One operator being mapped: its inputs/outputs and checks that name it in messages.
class OpMapper {
 public:
  OpMapper(Reader& reader, int index, const tfl::Operator& op, std::string builtin)
      : reader_(reader), index_(index), op_(op), builtin_(std::move(builtin)) {}

  [[noreturn]] void fail(const std::string& what) const {
    reader_.fail(fmt::format("op {} ({}): {}", index_, builtin_, what));
  }
  // A feature tinyforge does not implement (a dtype, a fused activation), not a malformed
  // file: the importer names it and reads on, to name every such op in one error.
  [[noreturn]] void unsupported(const std::string& what) const {
    reader_.unsupported(fmt::format("op {} ({}): {}", index_, builtin_, what));
  }

  const tfl::Operator& op() const { return op_; }
  size_t num_inputs() const { return op_.inputs() ? op_.inputs()->size() : 0; }

  size_t num_outputs() const { return op_.outputs() ? op_.outputs()->size() : 0; }

  // Checks counts: inputs in [min_in, max_in], outputs in [1, max_out] (one by default).
  void require_arity(size_t min_in, size_t max_in, size_t max_out = 1) const {
    const size_t n = num_inputs();
    if (n < min_in || n > max_in) {
      if (min_in == max_in) fail(fmt::format("has {} inputs; expected {}", n, min_in));
      fail(fmt::format("has {} inputs; expected {} to {}", n, min_in, max_in));
    }
    const size_t outs = num_outputs();
    if (max_out == 1 && outs != 1) fail(fmt::format("has {} outputs; expected 1", outs));
    if (outs < 1 || outs > max_out)
      fail(fmt::format("has {} outputs; expected 1 to {}", outs, max_out));
  }

  // TFLite tensor index of input i; -1 only where `optional`.
  int input_index(size_t i, bool optional = false) const {
    const int t = i < num_inputs() ? op_.inputs()->Get(static_cast<flatbuffers::uoffset_t>(i)) : -1;
    if (t == -1 && optional) return -1;
    check_index(t, fmt::format("input {}", i));
    return t;
  }
  int output_index(size_t i = 0) const {
    const int t =
        i < num_outputs() ? op_.outputs()->Get(static_cast<flatbuffers::uoffset_t>(i)) : -1;
    check_index(t, fmt::format("output {}", i));
    return t;
  }
  ir::Tensor& input(size_t i) { return reader_.tensor(input_index(i)); }
  // Input i's type as the file declares it (an INT64 constant imports narrowed to int32).
  tfl::TensorType input_file_type(size_t i) const {
    return reader_.subgraph()
        .tensors()
        ->Get(static_cast<flatbuffers::uoffset_t>(input_index(i)))
        ->type();
  }
  ir::Tensor& output(size_t i = 0) { return reader_.tensor(output_index(i)); }

  std::string in_label(size_t i) const {
    return fmt::format("input {} ({})", i, reader_.tensor_label(input_index(i)));
  }
  std::string out_label() const {
    return fmt::format("output ({})", reader_.tensor_label(output_index()));
  }
  std::string out_label(size_t i) const {
    return fmt::format("output {} ({})", i, reader_.tensor_label(output_index(i)));
  }

  void require_rank(const ir::Tensor& t, const std::string& label, size_t rank) const {
    if (t.shape.size() != rank)
      fail(fmt::format("{} has shape {}; expected rank {}", label, shape_string(t.shape), rank));
  }
  void require_type(const ir::Tensor& t, const std::string& label, DType type) const {
    if (t.type != type)
      fail(fmt::format("{} is {}; expected {}", label, dtype_name(t.type), dtype_name(type)));
  }
  void require_shape(const ir::Tensor& t, const std::string& label,
                     const std::vector<int32_t>& shape) const {
    if (t.shape != shape)
      fail(fmt::format("{} has shape {}; expected {}", label, shape_string(t.shape),
                       shape_string(shape)));
  }
  // int8 activations carry one scale and zero point.
  void require_per_tensor(const ir::Tensor& t, const std::string& label) const {
    if ((t.type == DType::i8 || t.type == DType::i16) && t.quant.scale.size() != 1)
      fail(fmt::format("{} has {} scales; expected per-tensor quantization (1 scale)", label,
                       t.quant.scale.size()));
  }
  // f32 in -> f32 out; i8 in -> i8 out, both per-tensor quantized; i16 likewise where the op
  // takes `int16` (TFLite's 16x8 activations); i32 where the op takes `int32` (TFLite's
  // int32 kernels on plain integers, such as the arithmetic around TFLM's signal ops).
  void require_activation_types(const ir::Tensor& in, const ir::Tensor& out, bool int16 = false,
                                bool int32 = false) const {
    if (in.type != DType::f32 && in.type != DType::i8 && !(int16 && in.type == DType::i16) &&
        !(int32 && in.type == DType::i32))
      unsupported(fmt::format("{} is {}; expected float32{}", in_label(0), dtype_name(in.type),
                              int16 && int32 ? ", int8, int16 or int32"
                              : int16        ? ", int8 or int16"
                              : int32        ? ", int8 or int32"
                                             : " or int8"));
    require_type(out, out_label(), in.type);
    require_per_tensor(in, in_label(0));
    require_per_tensor(out, out_label());
    require_plain(in, in_label(0));
    require_plain(out, out_label());
  }
  // An int32 operand of an op's int32 form holds plain integers: TFLM's int32 kernels ignore
  // quantization (DIV refuses it), so a scale would be misread.
  void require_plain(const ir::Tensor& t, const std::string& label) const {
    if (t.type == DType::i32 && !t.quant.scale.empty())
      fail(fmt::format("{} is a quantized int32 tensor; expected plain int32 (no scale)", label));
  }
  // TFLite's 16x8 scheme: an int16 input and output carry zero point 0.
  void require_int16_zero_points(const ir::Tensor& in, const ir::Tensor& out) const {
    if (in.type == DType::i16 &&
        (in.quant.zero_point.at(0) != 0 || out.quant.zero_point.at(0) != 0))
      fail(fmt::format("{} or {} has a zero point; expected 0 (TFLite's 16x8)", in_label(0),
                       out_label()));
  }
  void require_same_quant(const ir::Tensor& a, const std::string& la, const ir::Tensor& b,
                          const std::string& lb) const {
    if (a.type != DType::i8 && a.type != DType::i16) return;
    if (a.quant.scale != b.quant.scale || a.quant.zero_point != b.quant.zero_point)
      fail(fmt::format("{} ({}) and {} ({}) differ; expected the same quantization", la,
                       quant_string(a), lb, quant_string(b)));
  }
  // "scale S, zero point Z", or "no quantization" (a plain tensor).
  static std::string quant_string(const ir::Tensor& t) {
    if (t.quant.scale.empty() || t.quant.zero_point.empty()) return "no quantization";
    return fmt::format("scale {}, zero point {}", t.quant.scale[0], t.quant.zero_point[0]);
  }

  // The op's typed options, or nullptr when absent; options of another op's type are an error.
  template <typename Options>
  const Options* options(const Options* typed, tfl::BuiltinOptions expected) const {
    const tfl::BuiltinOptions type = op_.builtin_options_type();
    if (type != tfl::BuiltinOptions::NONE && type != expected) {
      const char* got = tfl::EnumNameBuiltinOptions(type);
      fail(fmt::format("builtin_options are {}; expected {}",
                       (got && *got) ? got : fmt::format("type {}", static_cast<int>(type)).c_str(),
                       tfl::EnumNameBuiltinOptions(expected)));
    }
    return typed;
  }

  ir::Activation activation(tfl::ActivationFunctionType a) const {
    switch (a) {
      case tfl::ActivationFunctionType::NONE:
        return ir::Activation::none;
      case tfl::ActivationFunctionType::RELU:
        return ir::Activation::relu;
      case tfl::ActivationFunctionType::RELU_N1_TO_1:
        return ir::Activation::relu_n1_to_1;
      case tfl::ActivationFunctionType::RELU6:
        return ir::Activation::relu6;
      default:
        break;
    }
    unsupported(
        fmt::format("fused activation {} is not supported; expected NONE, RELU, "
                    "RELU_N1_TO_1 or RELU6",
                    static_cast<int>(a)));
  }
  ir::Padding padding(tfl::Padding p) const {
    if (p == tfl::Padding::SAME) return ir::Padding::same;
    if (p == tfl::Padding::VALID) return ir::Padding::valid;
    fail(fmt::format("padding {} is unknown; expected SAME (0) or VALID (1)", static_cast<int>(p)));
  }
  int window(int value, const char* what) const {
    if (value < 1 || value > kMaxWindow)
      fail(fmt::format("{} is {}; expected 1..{}", what, value, kMaxWindow));
    return value;
  }

  // Output extent of a windowed op along one axis (TFLite padding rules, see top).
  int32_t out_extent(int32_t in, int filter, int stride, int dilation, ir::Padding pad,
                     const char* axis) const {
    const int64_t effective = int64_t{filter - 1} * dilation + 1;
    if (pad == ir::Padding::same) return static_cast<int32_t>((int64_t{in} + stride - 1) / stride);
    if (effective > in)
      fail(
          fmt::format("{} window {} (filter {} dilation {}) is larger than the input's {}; "
                      "expected VALID padding to fit",
                      axis, effective, filter, dilation, in));
    return static_cast<int32_t>((int64_t{in} - effective + stride) / stride);
  }

 private:
  void check_index(int t, const std::string& what) const {
    if (t < 0 || t >= reader_.num_tensors())
      fail(fmt::format("{} is tensor {}; expected 0..{}", what, t, reader_.num_tensors() - 1));
  }

  Reader& reader_;
  int index_;
  const tfl::Operator& op_;
  std::string builtin_;
};

// Elementwise binary with numpy broadcasting (ADD, MUL, ...): trailing dims equal or 1.
inline void require_broadcast(OpMapper& m, const ir::Tensor& a, const ir::Tensor& b,
                              const ir::Tensor& out) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int32_t> expected(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int32_t da = i < rank - a.shape.size() ? 1 : a.shape[i - (rank - a.shape.size())];
    const int32_t db = i < rank - b.shape.size() ? 1 : b.shape[i - (rank - b.shape.size())];
    if (da != db && da != 1 && db != 1)
      m.fail(fmt::format("input shapes {} and {} do not broadcast; expected equal dims or 1",
                         shape_string(a.shape), shape_string(b.shape)));
    expected[i] = std::max(da, db);
  }
  m.require_shape(out, m.out_label(), expected);
}

// The two operands of an element-wise binary op (ADD, MUL, MAXIMUM, ...): activation types
// (int16 too where the op takes `int16`), the second operand of the first's type and
// quantized per tensor, shapes that broadcast.
inline void require_binary_operands(OpMapper& m, bool int16 = false, bool int32 = false) {
  const ir::Tensor& a = m.input(0);
  const ir::Tensor& b = m.input(1);
  const ir::Tensor& out = m.output();
  m.require_activation_types(a, out, int16, int32);
  m.require_type(b, m.in_label(1), a.type);
  m.require_per_tensor(b, m.in_label(1));
  m.require_plain(b, m.in_label(1));
  require_broadcast(m, a, b, out);
}

// The int32 values of a constant operand (perm, paddings) of the expected element count.
inline std::vector<int32_t> constant_ints(OpMapper& m, size_t i, int64_t count) {
  const ir::Tensor& t = m.input(i);
  if (!t.constant) m.fail(fmt::format("{} is not constant; expected constant data", m.in_label(i)));
  m.require_type(t, m.in_label(i), DType::i32);
  if (t.elements() != count)
    m.fail(fmt::format("{} has {} elements; expected {}", m.in_label(i), t.elements(), count));
  std::vector<int32_t> v(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) v[static_cast<size_t>(k)] = t.at<int32_t>(k);
  return v;
}

// The weights of a conv, depthwise conv, transpose conv or fully-connected op
// (tflite_ops.cc): filter (input `filter_input`) and optional bias (input `bias_input`) of
// the input's dtype family, symmetric int8 with 1 scale or `channels` scales along
// `channel_axis`, the bias scale input x weight scale. A float op's int8 filter (weight-only
// quantization) is dequantized in place. int16 input (TFLite's 16x8 scheme): int8 filter and
// an INT64 bias (imported as int32), which TFLite's 16x8 kernels accumulate in 64 bits.
void check_weights(OpMapper& m, const ir::Tensor& in, size_t channel_axis, int32_t channels,
                   size_t filter_input = 1, size_t bias_input = 2);

}  // namespace tinyforge::tflite_import
