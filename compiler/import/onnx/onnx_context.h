// The ONNX importer's working state, shared by the per-op converters (convert_*.cc):
// the ONNX value table (name -> constant or IR tensor, in one or more layouts), the
// constants in ONNX layout, and helpers to read attributes, emit IR nodes and convert a
// value between ONNX layout and channels-last. Internal to compiler/import/onnx.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::onnx_import {

using Shape = std::vector<int64_t>;

// A constant in ONNX layout. Float types are held as float, integer and bool types as
// int64 (shape arithmetic and attributes-as-inputs).
struct Constant {
  Shape shape;
  bool is_float = true;
  std::vector<float> f;
  std::vector<int64_t> i;
  int64_t elements() const;
};

// An ONNX value and where the IR holds it. A runtime value has at least one of the
// representations; a constant has const_index >= 0 and IR tensors only once a consumer
// needed it as an activation.
struct Value {
  Shape shape;           // ONNX shape
  int const_index = -1;  // into Context::constants
  int onnx = -1;         // IR tensor with the ONNX shape and layout
  int nhwc = -1;         // channels last: [N,H,W,C] of an ONNX [N,C,H,W], [N,L,C] of [N,C,L]
  int flat = -1;         // [N,K] whose columns are the (h,w,c) flatten of a [N,C,H,W] value
  Shape flat_chw;        // for `flat`: the C, H, W of that value (H = 1 for [N,C,L])
  // A value of rank > kMaxRank that lives between the Reshape making it and the Reshape
  // bringing it back (PixelShuffle's [N,C,r,r,H,W] Transpose): the IR tensor `view_source`
  // (ONNX layout) read as `view_dims`, value dim i being view_dims[view_perm[i]]. It has no
  // IR op until a consumer needs a tensor (Context::materialize).
  int view_source = -1;
  Shape view_dims;
  std::vector<int32_t> view_perm;
  bool is_constant() const { return const_index >= 0; }
};

class Context {
 public:
  explicit Context(std::string source);

  ir::Graph graph;
  std::vector<Constant> constants;
  std::unordered_map<std::string, Value> values;
  std::unordered_map<std::string, int> uses;  // node inputs + graph outputs per value name
  int opset = 0;                              // of the default domain

  // --- the node being converted ---
  const onnx::NodeProto* node = nullptr;
  [[noreturn]] void fail(const std::string& what) const;         // tinyforge::Error about the node
  [[noreturn]] void unsupported(const std::string& what) const;  // "...: unsupported: what"
  std::string where() const;  // "<source>: node 'n' (Op, opset N)"
  const std::string& source() const { return source_; }

  size_t num_inputs() const;  // node.input_size()
  bool has_input(size_t i) const;
  Value& input(size_t i);                                      // throws unless present
  const Constant& constant_input(size_t i, const char* role);  // throws unless constant
  std::vector<float> float_input(size_t i, const char* role);
  std::vector<int64_t> ints_input(size_t i, const char* role);
  void set_output(size_t i, Value v);
  bool output_used(size_t i) const;  // present, and read by a node or a graph output
  int uses_of_input(size_t i) const;

  // Attributes of the current node; a wrong attribute type is an error.
  const onnx::AttributeProto* attr(const char* name) const;
  int64_t attr_int(const char* name, int64_t fallback) const;
  float attr_float(const char* name, float fallback) const;
  std::string attr_string(const char* name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const char* name) const;  // empty when absent
  std::vector<float> attr_floats(const char* name) const;

  // --- constants ---
  int add_constant(Constant c);
  Value constant_value(Constant c);  // a Value for a new constant
  Value scalar_value(float f);       // a new float constant of shape [1] (broadcasts)
  // IR constant tensors (float32) with the given IR shape and data.
  int ir_constant(const std::string& name, std::vector<int32_t> shape,
                  const std::vector<float>& data);

  // --- IR emission ---
  // Appends a node writing a new float32 tensor of `shape`; returns that tensor.
  int emit(OpCode op, std::vector<int> inputs, const std::vector<int32_t>& shape, ir::Params params,
           const std::string& name);
  int reshape(int tensor, const std::vector<int32_t>& shape, const std::string& name);
  // Transpose, or a free Reshape when the permutation only moves dims of size 1.
  int transpose(int tensor, const std::vector<int32_t>& perm, const std::string& name);
  std::vector<int32_t> ir_shape(const Shape& s) const;  // validated narrowing
  const std::vector<int32_t>& shape_of(int tensor) const { return graph.tensors[tensor].shape; }
  int producer(int tensor) const;  // index of the IR node writing it, or -1
  int readers(int tensor) const;   // IR nodes reading it
  // The producer of `tensor`, looking through one Reshape whose input nobody else reads
  // (1-D convs and pools are 2-D ops between two such reshapes).
  int producer_through_reshape(int tensor) const;

  // A view value's elements, in value order, as an IR tensor of `shape` (same element
  // count, rank <= kMaxRank): transposes of rank <= 4 over the view's dims, merged where
  // they stay together, one block swap at a time when more than 4 groups move.
  int materialize(const Value& v, const Shape& shape, const std::string& name);

  // --- layouts (conversions are emitted once and cached in the value) ---
  int as_onnx(Value& v, const std::string& name);  // the ONNX-layout IR tensor
  int as_nhwc(Value& v, const std::string& name);  // rank-3/4 value, channels last
  bool prefers_nhwc(const Value& v) const { return v.nhwc >= 0 && v.onnx < 0; }

 private:
  std::string source_;
};

// Channels-last layout of a rank-3/4 ONNX tensor: IR dim i holds ONNX dim
// to_channels_last(rank)[i] ([0,2,3,1] or [0,2,1]); from_channels_last is the inverse.
std::vector<int32_t> to_channels_last(size_t rank);
std::vector<int32_t> from_channels_last(size_t rank);
// The IR axis holding ONNX axis `axis` in channels-last layout.
int channels_last_axis(int64_t axis, size_t rank);
inline bool has_channels_last_form(size_t rank) { return rank == 3 || rank == 4; }

// A constant permuted: output dim i = input dim perm[i].
Constant transpose_constant(const Constant& c, const std::vector<int32_t>& perm);

std::string shape_str(const Shape& s);
// A name from the file as it may enter the IR and messages: control characters replaced,
// at most 200 characters.
std::string clean_name(const std::string& s);
int64_t elements_of(const Shape& s);

// Limits every importer check uses: dims, elements and rank the tool accepts.
constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr int64_t kMaxElements = int64_t{1} << 28;
constexpr size_t kMaxConstRank = 8;

}  // namespace tinyforge::onnx_import
