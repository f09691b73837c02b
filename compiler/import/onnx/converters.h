// One converter per ONNX op type: reads ctx.node's inputs/attributes (validating them),
// emits IR nodes and sets the node's outputs. Grouped by family, one file each:
// convert_conv.cc, convert_dense.cc, convert_pool.cc, convert_elementwise.cc,
// convert_shape.cc, convert_constant.cc. Internal to compiler/import/onnx.
#pragma once
#include "import/onnx/onnx_context.h"

namespace tinyforge::onnx_import {

using Converter = void (*)(Context& ctx);

struct ConverterEntry {
  const char* op_type;
  Converter convert;
  int min_opset;  // the first opset whose semantics the converter implements
};

// The table, sorted by op type. nullptr-terminated lookup by name.
const ConverterEntry* find_converter(const std::string& op_type);
const ConverterEntry* converters_begin();
const ConverterEntry* converters_end();

// convert_conv.cc
void convert_Conv(Context& ctx);
void convert_BatchNormalization(Context& ctx);
// convert_dense.cc
void convert_Gemm(Context& ctx);
void convert_MatMul(Context& ctx);
// convert_pool.cc
void convert_MaxPool(Context& ctx);
void convert_AveragePool(Context& ctx);
void convert_GlobalAveragePool(Context& ctx);
void convert_GlobalMaxPool(Context& ctx);
// convert_elementwise.cc
void convert_Add(Context& ctx);
void convert_Sub(Context& ctx);
void convert_Mul(Context& ctx);
void convert_Div(Context& ctx);
void convert_Relu(Context& ctx);
void convert_Clip(Context& ctx);
void convert_LeakyRelu(Context& ctx);
void convert_Sigmoid(Context& ctx);
void convert_Tanh(Context& ctx);
void convert_Identity(Context& ctx);
void convert_Dropout(Context& ctx);
// convert_shape.cc
void convert_Flatten(Context& ctx);
void convert_Reshape(Context& ctx);
void convert_Squeeze(Context& ctx);
void convert_Unsqueeze(Context& ctx);
void convert_Transpose(Context& ctx);
void convert_Concat(Context& ctx);
void convert_Softmax(Context& ctx);
void convert_Pad(Context& ctx);
void convert_ReduceMean(Context& ctx);
// convert_constant.cc
void convert_Constant(Context& ctx);
void convert_Shape(Context& ctx);
void convert_Gather(Context& ctx);
void convert_Slice(Context& ctx);
void convert_Cast(Context& ctx);

// Shared by converters: fuse a clamp [lo, hi] into the op that produced `v` when that op
// supports a fused activation matching it and `v` has no other reader; returns true if
// fused (the caller then forwards `v` as its output).
bool try_fuse_activation(Context& ctx, Value& v, float lo, float hi);

// Elementwise Add/Sub/Mul with numpy broadcasting (constant-folded when both are constants),
// in channels-last layout when an operand already is, else in ONNX layout.
// `params`: the node's (the op's attributes, no fused activation).
Value binary(Context& ctx, OpCode op, Value& a, Value& b, const std::string& name,
             const ir::Params& params);

// A float32 reshape of `v` to the ONNX shape `shape`, taken from whichever representation
// has the bytes in ONNX order already (no transpose when avoidable).
Value reshaped(Context& ctx, Value& v, const Shape& shape, const std::string& name);

}  // namespace tinyforge::onnx_import
