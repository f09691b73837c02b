// Internal to the TFLite writer: the model being built (flatbuffers builder, buffers,
// tensors, operator codes) and the per-op mapping that fills it (tflite_ops_writer.cc).
#pragma once
#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ops/window.h"
#include "tflite_schema_generated.h"

namespace tinyforge::tflite_export {

class ModelBuilder {
 public:
  explicit ModelBuilder(const ir::Graph& graph);

  const ir::Graph& graph() const { return graph_; }
  flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  // TFLite tensor index of IR tensor `t` (written on first use); -1 stays -1.
  int32_t tensor(int t);
  // A new tensor that is not in the IR: an int32 constant or an activation.
  int32_t constant_i32(const std::string& name, const std::vector<int32_t>& shape,
                       const std::vector<int32_t>& values);
  int32_t constant(const ir::Tensor& t);
  int32_t activation(const ir::Tensor& t);

  // Operator-code index of (builtin, version), added on first use.
  uint32_t opcode(tfl::BuiltinOperator builtin, int32_t version);

  void add_operator(tfl::BuiltinOperator builtin, int32_t version,
                    const std::vector<int32_t>& inputs, const std::vector<int32_t>& outputs,
                    tfl::BuiltinOptions options_type = tfl::BuiltinOptions::NONE,
                    flatbuffers::Offset<void> options = 0);

  std::vector<uint8_t> finish();

 private:
  int32_t write_tensor(const ir::Tensor& t, bool with_data);

  const ir::Graph& graph_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<tfl::Buffer>> buffers_;
  std::vector<flatbuffers::Offset<tfl::Tensor>> tensors_;
  std::vector<int32_t> tensor_index_;  // IR index -> TFLite index, -1 until written
  std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes_;
  std::map<std::pair<int32_t, int32_t>, uint32_t> code_index_;
  std::vector<flatbuffers::Offset<tfl::Operator>> operators_;
};

// Writes the TFLite operator(s) for IR node `node_index` (tflite_ops_writer.cc).
void write_node(ModelBuilder& b, size_t node_index);

// Helpers of the per-op writers (tflite_ops_writer.cc and the op files in compiler/ops/).

// How the padding of a windowed op's window `a` is written (tflite_ops_writer.cc).
struct WindowPadding {
  tfl::Padding padding = tfl::Padding::VALID;
  bool needs_pad_op = false;  // explicit padding that neither SAME nor VALID expresses
};
WindowPadding window_padding(const ModelBuilder& b, size_t node, const ops::WindowAttrs& a,
                             int32_t filter_h, int32_t filter_w, int dilation_h, int dilation_w);

[[noreturn]] inline void refuse(const ModelBuilder& b, size_t node, const std::string& what) {
  throw tinyforge::Error(
      fmt::format("{}: {}: {}", b.graph().source, b.graph().node_label(node), what));
}

inline tfl::ActivationFunctionType activation(ir::Activation a) {
  switch (a) {
    case ir::Activation::none:
      return tfl::ActivationFunctionType::NONE;
    case ir::Activation::relu:
      return tfl::ActivationFunctionType::RELU;
    case ir::Activation::relu_n1_to_1:
      return tfl::ActivationFunctionType::RELU_N1_TO_1;
    case ir::Activation::relu6:
      return tfl::ActivationFunctionType::RELU6;
  }
  return tfl::ActivationFunctionType::NONE;
}

inline const ir::Tensor& in_tensor(const ModelBuilder& b, size_t node, size_t i) {
  return b.graph().tensors.at(static_cast<size_t>(b.graph().nodes[node].inputs.at(i)));
}
inline const ir::Tensor& out_tensor(const ModelBuilder& b, size_t node) {
  return b.graph().tensors.at(static_cast<size_t>(b.graph().nodes[node].outputs.at(0)));
}
inline bool is_int8(const ModelBuilder& b, size_t node) {
  return in_tensor(b, node, 0).type == DType::i8;
}

// The 16x8 ops (the conv family, the layout ops) import and run, but their export (INT64
// bias, the 16x8 op versions) is not written yet: refused by name rather than written as a
// file TFLite would misread.
inline void refuse_int16x8(const ModelBuilder& b, size_t node) {
  if (in_tensor(b, node, 0).type == DType::i16)
    refuse(b, node, "exporting a 16x8 (int16 activation) layer to TFLite is not supported yet");
}

inline std::vector<int32_t> io_of(ModelBuilder& b, const std::vector<int>& ir) {
  std::vector<int32_t> out;
  for (int t : ir) out.push_back(b.tensor(t));
  return out;
}

}  // namespace tinyforge::tflite_export
