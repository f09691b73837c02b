// ONNX importer: a serialized onnx.ModelProto -> Graph IR (float32 models).
//
// The bytes are parsed with protobuf (Debian's libonnx-dev generated classes); then every
// field the importer uses is validated before use: opset of the default domain 1..17 (each
// op from the first opset whose semantics its converter implements, see converters.cc),
// tensor types, dims positive and bounded, initializer data exactly its declared size,
// node inputs defined before use (topological order), attribute types, and every op's
// shapes (shape inference is done here, op by op). Anything else throws tinyforge::Error
// naming the node; refused nodes are collected and thrown together as UnsupportedOps
// (ir/unsupported.h), one line each, e.g.
//   "m.onnx: op 7 (RNN 'rnn_1') v13 float32: unsupported: op; no tinyforge converter ..."
// Errors about features we do not implement contain the word "unsupported".
//
// Layout: ONNX activations are NCHW, the runtime's are NHWC. The importer converts once,
// offline: conv filters OIHW -> [OC,KH,KW,IC/groups] (depthwise -> [1,KH,KW,OC]), Gemm /
// MatMul weights -> [OUT,IN], and a Flatten of a channels-last tensor is absorbed by
// permuting the next Gemm's weight columns. Each value remembers in which layout(s) the
// IR holds it; a Transpose (or a free Reshape when only size-1 dims move) is inserted
// only where a consumer needs the other layout. The model's inputs and outputs keep the
// ONNX model's own shapes and layout (NCHW in, NCHW out), so `tinyforge run` takes the
// same raw tensors as onnxruntime would.
//
// Folded at import: BatchNormalization into the preceding Conv/Gemm (when the BN is the
// only reader of its output), Relu/Clip(0,6)/Clip(-1,1) into the preceding op's fused
// activation, Identity/Dropout removed, Constant/Shape/Gather/Slice/Cast and other
// constant-only subgraphs evaluated. 1-D Conv/pools run as 2-D ops with H = 1.
// docs/onnx-import.md lists the ops and their limits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ir/graph.h"

namespace tinyforge {

ir::Graph import_onnx(const uint8_t* data, size_t size, const std::string& source_name);
ir::Graph import_onnx_file(const std::string& path);

// The ONNX op types import_onnx maps, comma separated (for messages and docs).
const char* onnx_supported_ops();

}  // namespace tinyforge
