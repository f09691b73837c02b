// Reading ONNX TensorProto (initializers, Constant values) and ValueInfo shapes, with
// every dim and byte count validated before use. Internal to compiler/import/onnx.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "import/onnx/onnx_context.h"

namespace tinyforge::onnx_import {

// Throws tinyforge::Error prefixed with `where` for: external or segmented data, unsupported
// element types, negative or huge dims, data sizes that differ from the shape.
// Float and double become float; integer and bool types become int64.
Constant read_tensor(const onnx::TensorProto& t, const std::string& where);

// Static shape of a graph input/output of element type FLOAT or INT64 (indices). A symbolic
// or missing dim 0 (the batch) becomes 1 when `batch_default` is set; any other unknown dim
// is an error.
Shape read_value_shape(const onnx::ValueInfoProto& v, bool batch_default, const std::string& where);

const char* onnx_type_name(int32_t data_type);

}  // namespace tinyforge::onnx_import
