// Internal to the TFLite importer: one verified model being read, the tensors converted
// so far (by TFLite index) and the message helpers every part uses, so that all errors
// have the same shape: "<source>: <op/tensor label>: <what>; expected <what>".
#pragma once
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "tflite_schema_generated.h"

namespace tinyforge::tflite_import {

// Limits that keep every size computation far from overflow.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;
constexpr int kMaxRank = 8;
constexpr int kMaxWindow = 32767;  // strides, dilations and pool sizes (int16 in params)

class Reader {
 public:
  // `file` must stay alive and unchanged while the Reader is used; it must already have
  // passed the flatbuffers Verifier.
  Reader(const uint8_t* file, size_t size, std::string source, const tfl::Model& model,
         const tfl::SubGraph& subgraph);

  const tfl::Model& model() const { return model_; }
  const tfl::SubGraph& subgraph() const { return subgraph_; }
  const std::string& source() const { return source_; }
  int num_tensors() const;

  // Throws tinyforge::Error("<source>: <message>"); `unsupported`: UnsupportedError, for
  // what tinyforge does not implement (ir/unsupported.h).
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void unsupported(const std::string& message) const;

  // The IR tensor for TFLite tensor `index`, validated and converted on first use
  // (tflite_tensor.cc). Precondition: 0 <= index < num_tensors().
  ir::Tensor& tensor(int index);
  bool converted(int index) const { return converted_[index] != nullptr; }
  // The tensor's dtype is one tinyforge does not take (its conversion threw
  // UnsupportedError): the op reading it first is refused for it, the others skipped.
  bool refused(int index) const { return refused_[index] != 0; }

  // "tensor 17 'conv2d/Conv2D'" (name cut short and made printable).
  std::string tensor_label(int index) const;

 private:
  ir::Tensor convert_tensor(int index) const;
  std::vector<uint8_t> constant_bytes(int index, const tfl::Tensor& t,
                                      int64_t expected_bytes) const;

  const uint8_t* file_;
  size_t size_;
  std::string source_;
  const tfl::Model& model_;
  const tfl::SubGraph& subgraph_;
  std::vector<std::unique_ptr<ir::Tensor>> converted_;
  std::vector<char> refused_;
};

// Printable text from file content: control and non-ASCII bytes become '?', and names
// longer than `max_length` are cut with "...".
std::string printable(const std::string& text, size_t max_length = 200);
std::string shape_string(const std::vector<int32_t>& shape);
const char* tensor_type_name(tfl::TensorType type);
std::string builtin_name(int32_t code);

// One TFLite operator -> one ir::Node whose tensor indices are still TFLite's
// (tflite_ops.cc). Validates the op's inputs, outputs, options and shapes.
ir::Node map_operator(Reader& reader, int op_index);

// The builtins and the custom ops (by custom_code) map_operator accepts, for error messages.
std::string supported_builtins();
std::string supported_custom_ops();

}  // namespace tinyforge::tflite_import
