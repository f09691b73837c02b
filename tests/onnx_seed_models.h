// Small ONNX models that together use every op and most attributes the ONNX importer
// handles. Seeds for fuzz_onnx_import (make_fuzz_seeds) and a smoke test that each
// imports, compiles and runs. Header-only; test and tool code only.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "import/onnx/onnx_test_builder.h"

namespace tinyforge::onnx_test {

inline std::vector<std::pair<std::string, std::string>> onnx_seed_models() {
  std::vector<std::pair<std::string, std::string>> out;
  {  // conv stack: Conv, BatchNormalization, Relu, pools, Flatten, Gemm, Softmax
    ModelBuilder mb(13);
    mb.input("x", {1, 3, 10, 10});
    mb.initializer("w", {6, 3, 3, 3}, random_floats(162, 1));
    mb.initializer("b", {6}, random_floats(6, 2));
    for (const char* n : {"s", "bb", "m"}) mb.initializer(n, {6}, random_floats(6, 3));
    mb.initializer("v", {6}, random_floats(6, 4, 0.5f, 1.5f));
    auto& c = mb.node("Conv", {"x", "w", "b"}, {"c"});
    attr(c, "pads", std::vector<int64_t>{1, 1, 0, 0});
    attr(c, "strides", std::vector<int64_t>{1, 2});
    mb.node("BatchNormalization", {"c", "s", "bb", "m", "v"}, {"bn"});
    mb.node("Relu", {"bn"}, {"r"});
    auto& mp = mb.node("MaxPool", {"r"}, {"mp"});
    attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
    attr(mp, "strides", std::vector<int64_t>{2, 2});
    attr(mp, "ceil_mode", int64_t{1});
    auto& ap = mb.node("AveragePool", {"mp"}, {"ap"});
    attr(ap, "kernel_shape", std::vector<int64_t>{3, 3});
    attr(ap, "pads", std::vector<int64_t>{1, 1, 1, 1});
    attr(ap, "count_include_pad", int64_t{1});
    mb.node("Flatten", {"ap"}, {"f"});
    mb.initializer("fw", {5, 6 * 5 * 3}, random_floats(450, 5));
    mb.initializer("fb", {5}, random_floats(5, 6));
    attr(mb.node("Gemm", {"f", "fw", "fb"}, {"g"}), "transB", int64_t{1});
    attr(mb.node("Softmax", {"g"}, {"y"}), "axis", int64_t{1});
    mb.output("y");
    mb.node("GlobalAveragePool", {"r"}, {"gap"});
    mb.output("gap");
    out.emplace_back("conv_stack", mb.bytes());
  }
  {  // depthwise + elementwise + data movement
    ModelBuilder mb(13);
    mb.input("x", {1, 4, 5, 5});
    mb.input("z", {1, 8, 1, 1});
    mb.initializer("dw", {8, 1, 3, 3}, random_floats(72, 7));
    auto& d = mb.node("Conv", {"x", "dw"}, {"d"});
    attr(d, "group", int64_t{4});
    attr(d, "auto_pad", "SAME_UPPER");
    mb.initializer("lo", {}, {0.0f});
    mb.initializer("hi", {}, {6.0f});
    mb.node("Clip", {"d", "lo", "hi"}, {"d6"});
    mb.initializer("gw", {4, 2, 1, 1}, random_floats(8, 8));
    attr(mb.node("Conv", {"x", "gw"}, {"g"}), "group", int64_t{2});
    attr(mb.node("Concat", {"d6", "g"}, {"cat"}), "axis", int64_t{1});
    mb.node("Mul", {"cat", "cat"}, {"sq"});
    mb.node("Sigmoid", {"sq"}, {"sg"});
    mb.node("Tanh", {"cat"}, {"th"});
    mb.node("Add", {"sg", "th"}, {"sum"});
    mb.initializer("two", {12, 1, 1}, random_floats(12, 9, 1.0f, 2.0f));
    mb.node("Div", {"sum", "two"}, {"dv"});
    mb.node("Sub", {"dv", "sg"}, {"sb"});
    mb.initializer_i64("pads", {8}, {0, 0, 1, 0, 0, 0, 0, 1});
    mb.node("Pad", {"sb", "pads"}, {"p"});
    attr(mb.node("Transpose", {"p"}, {"t"}), "perm", std::vector<int64_t>{0, 3, 1, 2});
    mb.initializer_i64("shape", {3}, {1, 6, -1});
    mb.node("Reshape", {"t", "shape"}, {"y"});
    mb.output("y");
    mb.initializer("zw", {3, 8, 1, 1}, random_floats(24, 10));
    mb.node("Conv", {"z", "zw"}, {"zc"});
    mb.node("Identity", {"zc"}, {"zi"});
    mb.node("Dropout", {"zi"}, {"zo"});
    mb.output("zo");
    out.emplace_back("depthwise_mix", mb.bytes());
  }
  {  // MatMul, Squeeze/Unsqueeze, opset-11 Softmax, shape arithmetic
    ModelBuilder mb(11);
    mb.input("x", {2, 3, 4});
    mb.initializer("w", {4, 5}, random_floats(20, 11));
    mb.node("MatMul", {"x", "w"}, {"mm"});
    attr(mb.node("Unsqueeze", {"mm"}, {"u"}), "axes", std::vector<int64_t>{1});
    attr(mb.node("Squeeze", {"u"}, {"sq"}), "axes", std::vector<int64_t>{1});
    attr(mb.node("Softmax", {"sq"}, {"sm"}), "axis", int64_t{1});
    mb.node("Shape", {"sm"}, {"shp"});
    mb.initializer_i64("idx", {1}, {2});
    mb.node("Gather", {"shp", "idx"}, {"last"});
    auto& k = mb.node("Constant", {}, {"minus"});
    auto* a = k.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_int64_data(-1);
    attr(mb.node("Concat", {"minus", "last"}, {"target"}), "axis", int64_t{0});
    attr(mb.node("Cast", {"target"}, {"target64"}), "to", int64_t{onnx::TensorProto::INT64});
    mb.node("Reshape", {"sm", "target64"}, {"y"});
    mb.output("y");
    out.emplace_back("matmul_shapes", mb.bytes());
  }
  {  // upsampling decoder: ConvTranspose with pads, output_padding and bias, then Relu
    ModelBuilder mb(13);
    mb.input("x", {1, 3, 4, 4});
    mb.initializer("tw", {3, 2, 3, 3}, random_floats(54, 11));
    mb.initializer("tb", {2}, random_floats(2, 12));
    auto& t = mb.node("ConvTranspose", {"x", "tw", "tb"}, {"up"});
    attr(t, "strides", std::vector<int64_t>{2, 2});
    attr(t, "pads", std::vector<int64_t>{1, 1, 1, 1});
    attr(t, "output_padding", std::vector<int64_t>{1, 1});
    mb.node("Relu", {"up"}, {"y"});
    mb.output("y");
    out.emplace_back("upsample", mb.bytes());
  }
  return out;
}

}  // namespace tinyforge::onnx_test
