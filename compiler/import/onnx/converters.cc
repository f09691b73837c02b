// The ONNX op table: op type -> converter and the first opset it handles.
#include "import/onnx/converters.h"

#include <cstring>

namespace tinyforge::onnx_import {
namespace {

// Opset numbers: the first version whose semantics the converter implements (before it:
// legacy attributes such as `consumed_inputs` or Add's `broadcast`). Later changes (Pad /
// Clip parameters as inputs from opset 11, single-axis Softmax from 13, ...) are handled
// inside the converters by branching on ctx.opset.
constexpr ConverterEntry kConverters[] = {
    {"Add", convert_Add, 7},
    {"AveragePool", convert_AveragePool, 1},
    {"BatchNormalization", convert_BatchNormalization, 7},
    {"Cast", convert_Cast, 6},
    {"Clip", convert_Clip, 6},
    {"Concat", convert_Concat, 4},
    {"Constant", convert_Constant, 1},
    {"Conv", convert_Conv, 1},
    {"Div", convert_Div, 7},
    {"Dropout", convert_Dropout, 7},
    {"Flatten", convert_Flatten, 1},
    {"Gather", convert_Gather, 1},
    {"Gemm", convert_Gemm, 7},
    {"GlobalAveragePool", convert_GlobalAveragePool, 1},
    {"GlobalMaxPool", convert_GlobalMaxPool, 1},
    {"Identity", convert_Identity, 1},
    {"LeakyRelu", convert_LeakyRelu, 6},
    {"MatMul", convert_MatMul, 1},
    {"MaxPool", convert_MaxPool, 1},
    {"Mul", convert_Mul, 7},
    {"Pad", convert_Pad, 2},
    {"ReduceMean", convert_ReduceMean, 1},
    {"Relu", convert_Relu, 6},
    {"Reshape", convert_Reshape, 5},
    {"Shape", convert_Shape, 1},
    {"Sigmoid", convert_Sigmoid, 6},
    {"Slice", convert_Slice, 1},
    {"Softmax", convert_Softmax, 1},
    {"Squeeze", convert_Squeeze, 1},
    {"Sub", convert_Sub, 7},
    {"Tanh", convert_Tanh, 6},
    {"Transpose", convert_Transpose, 1},
    {"Unsqueeze", convert_Unsqueeze, 1},
};

}  // namespace

const ConverterEntry* converters_begin() { return kConverters; }
const ConverterEntry* converters_end() {
  return kConverters + sizeof(kConverters) / sizeof(kConverters[0]);
}

const ConverterEntry* find_converter(const std::string& op_type) {
  for (const ConverterEntry* e = converters_begin(); e != converters_end(); ++e)
    if (op_type == e->op_type) return e;
  return nullptr;
}

}  // namespace tinyforge::onnx_import
