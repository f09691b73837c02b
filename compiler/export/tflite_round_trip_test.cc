// Import and export are one mapping: for every op of the op table (float and int8 where the
// op has both), a one-op graph goes IR -> TFLite -> IR and must come back as the same IR
// (ops, attributes, every tensor it reads or writes) and run to byte-identical outputs.
// A new op row without a case here fails `EveryOpHasARoundTripCase`.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numeric>
#include <set>

#include "export/tflite_writer.h"
#include "import/tflite/import_tflite.h"
#include "ir_test_graphs.h"
#include "ops/add.h"
#include "ops/arg_min_max.h"
#include "ops/clamp.h"
#include "ops/concatenation.h"
#include "ops/div.h"
#include "ops/fully_connected.h"
#include "ops/gather.h"
#include "ops/leaky_relu.h"
#include "ops/lstm.h"
#include "ops/mirror_pad.h"
#include "ops/mul.h"
#include "ops/pad.h"
#include "ops/reduce.h"
#include "ops/resize.h"
#include "ops/signal.h"
#include "ops/softmax.h"
#include "ops/split_pack.h"
#include "ops/strided_slice.h"
#include "ops/sub_squared_difference.h"
#include "ops/svdf.h"
#include "ops/transpose.h"
#include "ops/transpose_conv.h"
#include "ops/unary_math.h"
#include "plan/select_kernels.h"
#include "tinyforge/audio_frontend.h"

namespace tinyforge {
namespace {

using testing::GraphBuilder;

struct Case {
  std::string name;
  std::function<ir::Graph()> build;
};

void quantize_tensor(ir::Tensor& t, float scale, int32_t zero_point) {
  t.quant.scale = {scale};
  t.quant.zero_point = {zero_point};
  if (!t.constant) {
    t.type = DType::i8;
    return;
  }
  std::vector<uint8_t> q(static_cast<size_t>(t.elements()));
  for (int64_t i = 0; i < t.elements(); ++i) {
    const float v = std::round(t.at<float>(i) / scale) + static_cast<float>(zero_point);
    const float clamped = std::clamp(v, -128.f, 127.f);
    q[static_cast<size_t>(i)] = static_cast<uint8_t>(static_cast<int8_t>(clamped));
  }
  t.type = DType::i8;
  t.data = std::move(q);
}

// A quantized tensor of `type`: int8 with `zero_point`, int16 (TFLite's 16x8 scheme) with 0.
void quantize_activation(ir::Tensor& t, DType type, float scale, int32_t zero_point) {
  quantize_tensor(t, scale, type == DType::i8 ? zero_point : 0);
  t.type = type;
}

void quantize_bias(ir::Tensor& t, float scale) {
  std::vector<uint8_t> q(static_cast<size_t>(t.elements()) * 4);
  for (int64_t i = 0; i < t.elements(); ++i) {
    const int32_t v = static_cast<int32_t>(std::lround(t.at<float>(i) / scale));
    std::memcpy(q.data() + i * 4, &v, 4);
  }
  t.type = DType::i32;
  t.data = std::move(q);
  t.quant.scale = {scale};
  t.quant.zero_point = {0};
}

// One op reading activations `ins` (plus constants) and writing `out`; graph inputs are the
// non-constant inputs.
ir::Graph one_op(GraphBuilder& b, OpCode op, const std::vector<int>& ins, int out,
                 ir::Params params = {}) {
  b.node(op, ins, out, std::move(params));
  for (int t : ins)
    if (t >= 0 && !b.g.tensors[static_cast<size_t>(t)].constant) b.g.inputs.push_back(t);
  b.g.outputs = {out};
  b.g.source = op_info(op).name;
  b.g.check();
  return b.g;
}

ir::Graph conv(bool int8) {
  GraphBuilder b(3);
  const int x = b.activation("x", {1, 6, 6, 3});
  const int y = b.activation("y", {1, 3, 3, 4});
  const int w = b.weights("w", {4, 3, 3, 3}, 0.5f), bias = b.weights("b", {4}, 0.2f);
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, 3);
    quantize_tensor(b.g.tensors[y], 0.05f, -10);
    quantize_tensor(b.g.tensors[w], 0.004f, 0);
    quantize_bias(b.g.tensors[bias], 0.02f * 0.004f);
  }
  ops::ConvAttrs a;
  a.window.stride_h = a.window.stride_w = 2;
  a.window.padding = ir::Padding::same;
  a.activation = ir::Activation::relu;
  return one_op(b, OpCode::Conv2D, {x, w, bias}, y, a);
}

ir::Graph depthwise(bool int8) {
  GraphBuilder b(4);
  const int x = b.activation("x", {1, 5, 5, 2});
  const int y = b.activation("y", {1, 3, 3, 4});
  const int w = b.weights("w", {1, 3, 3, 4}, 0.5f), bias = b.weights("b", {4}, 0.2f);
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, 0);
    quantize_tensor(b.g.tensors[y], 0.03f, 5);
    quantize_tensor(b.g.tensors[w], 0.004f, 0);
    quantize_bias(b.g.tensors[bias], 0.02f * 0.004f);
  }
  ops::ConvAttrs a;
  a.activation = ir::Activation::relu6;
  a.depth_multiplier = 2;
  return one_op(b, OpCode::DepthwiseConv2D, {x, w, bias}, y, a);
}

// float32: SAME, stride 2, bias, fused relu (padding 1); int8: VALID, per-tensor, no bias.
ir::Graph transpose_conv(bool int8) {
  GraphBuilder b(23);
  const int x = b.activation("x", {1, 3, 3, 2});
  const int y = b.activation("y", {1, int8 ? 7 : 5, int8 ? 7 : 5, 4});
  const int w = b.weights("w", {4, 3, 3, 2}, 0.5f);
  int bias = -1;
  ops::TransposeConvAttrs a;
  a.stride_h = a.stride_w = 2;
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, -6);
    quantize_tensor(b.g.tensors[y], 0.04f, 9);
    quantize_tensor(b.g.tensors[w], 0.004f, 0);
  } else {
    bias = b.weights("b", {4}, 0.2f);
    a.pad_top = a.pad_left = 1;
    a.activation = ir::Activation::relu;
  }
  return one_op(b, OpCode::TransposeConv, {x, w, bias}, y, a);
}

// float32 with CIFG (no input gate), peepholes, a projection without bias, time-major and
// clipping: TFLite's 24 operands, -1 where absent; both states variable tensors.
ir::Graph lstm() {
  GraphBuilder b(37);
  using namespace ops::lstm_input;
  const int32_t steps = 3, batch = 2, features = 4, cells = 5, outputs = 3;
  std::vector<int> in(kCount, -1);
  in[kInput] = b.activation("x", {steps, batch, features});
  for (size_t gate = 1; gate < 4; ++gate) {
    in[kInputToInput + gate] = b.weights("w" + std::to_string(gate), {cells, features}, 0.5f);
    in[kRecurrentToInput + gate] = b.weights("r" + std::to_string(gate), {cells, outputs}, 0.5f);
    in[kInputGateBias + gate] = b.weights("b" + std::to_string(gate), {cells}, 0.2f);
  }
  in[kCellToForget] = b.weights("p_forget", {cells}, 0.3f);
  in[kCellToOutput] = b.weights("p_output", {cells}, 0.3f);
  in[kProjectionWeights] = b.weights("projection", {outputs, cells}, 0.5f);
  in[kOutputState] = b.activation("output_state", {batch, outputs});
  in[kCellState] = b.activation("cell_state", {batch, cells});
  b.g.tensors[static_cast<size_t>(in[kOutputState])].variable = true;
  b.g.tensors[static_cast<size_t>(in[kCellState])].variable = true;
  const int y = b.activation("y", {steps, batch, outputs});
  ops::LstmAttrs a;
  a.time_major = true;
  a.cell_clip = 3.0f;
  a.proj_clip = 0.5f;
  b.node(OpCode::Lstm, in, y, a);
  b.g.inputs = {in[kInput]};
  b.g.outputs = {y};
  b.g.source = "Lstm";
  b.g.check();
  return b.g;
}

// A constant of raw `values` of `type` (the int16 time weights and int32 bias of int8 SVDF;
// the signal ops' tables, which have no quantization: scale 0).
template <typename T>
int raw_constant(GraphBuilder& b, const std::string& name, DType type, std::vector<int32_t> shape,
                 const std::vector<T>& values, float scale = 0) {
  ir::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.constant = true;
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  if (scale > 0) t.quant = {{scale}, {0}, 0};
  return b.g.add_tensor(std::move(t));
}

// The signal ops (custom ops with FlexBuffer options): one op on integer tensors, the tables
// constants.
int integer_activation(GraphBuilder& b, const std::string& name, std::vector<int32_t> shape,
                       DType type) {
  const int t = b.activation(name, std::move(shape));
  b.g.tensors[static_cast<size_t>(t)].type = type;
  return t;
}

ir::Graph signal_op(OpCode op) {
  GraphBuilder b(41);
  int x = -1, y = -1;
  switch (op) {
    case OpCode::SignalWindow: {
      x = integer_activation(b, "frames", {2, 8}, DType::i16);
      y = integer_activation(b, "windowed", {2, 8}, DType::i16);
      const std::vector<int16_t> w = {-4096, 3, 900, 4095, 12, 2048, -1, 7};
      b.node(op, {x, raw_constant(b, "window", DType::i16, {8}, w)}, y,
             ops::SignalAttrs<SignalWindowParams>{{12}});
      break;
    }
    case OpCode::SignalEnergy:
      x = integer_activation(b, "spectrum", {18}, DType::i16);
      y = integer_activation(b, "energy", {9}, DType::u32);
      b.node(op, {x}, y, ops::SignalAttrs<SignalEnergyParams>{{2, 7}});
      break;
    case OpCode::SignalFilterBank: {
      x = integer_activation(b, "energy", {9}, DType::u32);
      y = integer_activation(b, "channels", {2}, DType::u64);
      const std::vector<int16_t> w = {100, 2000, 4000, 300, 3000, 1000},
                                 u = {3996, 2096, 96, 3796, 1096, 3096};
      b.node(op,
             {x, raw_constant(b, "weights", DType::i16, {6}, w),
              raw_constant(b, "unweights", DType::i16, {6}, u),
              raw_constant(b, "freq_starts", DType::i16, {3}, std::vector<int16_t>{1, 3, 5}),
              raw_constant(b, "weight_starts", DType::i16, {3}, std::vector<int16_t>{0, 2, 4}),
              raw_constant(b, "widths", DType::i16, {3}, std::vector<int16_t>{2, 2, 2})},
             y, ops::SignalAttrs<SignalFilterBankParams>{{2}});
      break;
    }
    case OpCode::SignalFilterBankSquareRoot:
      x = integer_activation(b, "channels", {5}, DType::u64);
      y = integer_activation(b, "magnitudes", {5}, DType::u32);
      b.node(op, {x, raw_constant(b, "scale_bits", DType::i32, {1}, std::vector<int32_t>{3})}, y,
             ops::SignalAttrs<SignalFilterBankSquareRootParams>{});
      break;
    case OpCode::SignalFilterBankLog:
      x = integer_activation(b, "magnitudes", {5}, DType::u32);
      y = integer_activation(b, "log", {5}, DType::i16);
      b.node(op, {x}, y, ops::SignalAttrs<SignalFilterBankLogParams>{{5, 1600}});
      break;
    case OpCode::SignalFftAutoScale: {
      x = integer_activation(b, "frame", {12}, DType::i16);
      y = integer_activation(b, "scaled", {12}, DType::i16);
      const int bits = integer_activation(b, "scale_bits", {}, DType::i32);
      b.g.nodes.push_back(
          ir::Node{op, {x}, {y, bits}, ops::SignalAttrs<SignalFftAutoScaleParams>{}, ""});
      b.g.inputs = {x};
      b.g.outputs = {y, bits};
      b.g.source = op_info(op).name;
      b.g.check();
      return b.g;
    }
    case OpCode::SignalRfft:
      x = integer_activation(b, "frames", {2, 12}, DType::i16);
      y = integer_activation(b, "spectra", {2, 18}, DType::i16);
      b.node(op, {x}, y, ops::SignalAttrs<SignalRfftParams>{{16}});
      break;
    case OpCode::SignalFilterBankSpectralSubtraction: {
      x = integer_activation(b, "magnitudes", {5}, DType::u32);
      y = integer_activation(b, "reduced", {5}, DType::u32);
      const int estimate = integer_activation(b, "noise_estimate", {5}, DType::u32);
      b.g.nodes.push_back(ir::Node{op,
                                   {x},
                                   {y, estimate},
                                   ops::SignalAttrs<SignalFilterBankSpectralSubtractionParams>{
                                       {5, 409, 15975, 983, 15401, 819, 10, 14, 1}},
                                   ""});
      b.g.inputs = {x};
      b.g.outputs = {y, estimate};
      b.g.source = op_info(op).name;
      b.g.check();
      return b.g;
    }
    case OpCode::SignalDelay:
      x = integer_activation(b, "frames", {2, 12}, DType::i16);
      y = integer_activation(b, "delayed", {2, 12}, DType::i16);
      b.node(op, {x}, y, ops::SignalAttrs<SignalDelayParams>{{5}});
      break;
    case OpCode::SignalPcan: {
      x = integer_activation(b, "reduced", {5}, DType::u32);
      y = integer_activation(b, "normalized", {5}, DType::u32);
      const int estimate = integer_activation(b, "noise_estimate", {5}, DType::u32);
      std::vector<int16_t> lut(kPcanLutSize);
      for (size_t i = 0; i < lut.size(); ++i) lut[i] = static_cast<int16_t>(4000 - 31 * i);
      const int32_t size = static_cast<int32_t>(kPcanLutSize);
      b.node(op, {x, estimate, raw_constant(b, "gain_lut", DType::i16, {size}, lut)}, y,
             ops::SignalAttrs<SignalPcanParams>{{6}});
      b.g.inputs = {x, estimate};
      b.g.outputs = {y};
      b.g.source = op_info(op).name;
      b.g.check();
      return b.g;
    }
    default:
      throw tinyforge::Error("not a signal op");
  }
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = op_info(op).name;
  b.g.check();
  return b.g;
}

// float32: rank 2, bias, relu; int8: rank 1, no bias, int16 time weights and state. The
// state is a variable tensor, not a model input.
ir::Graph svdf(bool int8) {
  GraphBuilder b(31);
  const int32_t units = 3, rank = int8 ? 1 : 2, memory = 4, filters = units * rank;
  const int x = b.activation("x", {1, 6});
  const int y = b.activation("y", {1, units});
  const int state = b.activation("state", {1, filters * memory});
  b.g.tensors[static_cast<size_t>(state)].variable = true;
  int wf = b.weights("weights_feature", {filters, 6}, 0.5f), wt = -1, bias = -1;
  ops::SvdfAttrs a;
  a.rank = rank;
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, -6);
    quantize_tensor(b.g.tensors[y], 0.04f, 9);
    quantize_tensor(b.g.tensors[wf], 0.004f, 0);
    ir::Tensor& s = b.g.tensors[static_cast<size_t>(state)];
    s.type = DType::i16;
    s.quant = {{0.001f}, {0}, 0};
    std::vector<int16_t> time(static_cast<size_t>(filters * memory));
    for (size_t i = 0; i < time.size(); ++i)
      time[i] = static_cast<int16_t>(i * 2371 % 60001 - 30000);
    wt = raw_constant(b, "weights_time", DType::i16, {filters, memory}, time, 1.0f / 32768);
  } else {
    wt = b.weights("weights_time", {filters, memory}, 0.5f);
    bias = b.weights("bias", {units}, 0.2f);
    a.activation = ir::Activation::relu;
  }
  b.node(OpCode::Svdf, {x, wf, wt, bias, state}, y, a);
  b.g.inputs = {x};
  b.g.outputs = {y};
  b.g.source = "Svdf";
  b.g.check();
  return b.g;
}

ir::Graph fully_connected(bool int8) {
  GraphBuilder b(5);
  const int x = b.activation("x", {2, 12});
  const int y = b.activation("y", {2, 5});
  const int w = b.weights("w", {5, 12}, 0.5f), bias = b.weights("b", {5}, 0.2f);
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, -4);
    quantize_tensor(b.g.tensors[y], 0.06f, 2);
    quantize_tensor(b.g.tensors[w], 0.004f, 0);
    quantize_bias(b.g.tensors[bias], 0.02f * 0.004f);
  }
  return one_op(b, OpCode::FullyConnected, {x, w, bias}, y,
                ops::FullyConnectedAttrs{ir::Activation::relu_n1_to_1});
}

ir::Graph pool(OpCode op, bool int8) {
  GraphBuilder b(6);
  const int x = b.activation("x", {1, 6, 6, 3});
  const int y = b.activation("y", {1, 3, 3, 3});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, 1);
    quantize_tensor(b.g.tensors[y], 0.02f, 1);
  }
  ops::PoolAttrs a;
  a.window.filter_h = a.window.filter_w = 2;
  a.window.stride_h = a.window.stride_w = 2;
  return one_op(b, op, {x}, y, a);
}

ir::Graph binary(OpCode op, bool int8) {
  GraphBuilder b(7);
  const int x = b.activation("x", {1, 3, 4, 2});
  const int z = b.activation("z", {1, 1, 4, 2});  // broadcast along dim 1
  const int y = b.activation("y", {1, 3, 4, 2});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.01f, -3);
    quantize_tensor(b.g.tensors[z], 0.02f, 7);
    quantize_tensor(b.g.tensors[y], 0.015f, 0);
  }
  if (op == OpCode::Mul) return one_op(b, op, {x, z}, y, ops::MulAttrs{ir::Activation::relu});
  if (op == OpCode::Div) return one_op(b, op, {x, z}, y, ops::DivAttrs{ir::Activation::relu6});
  return one_op(b, op, {x, z}, y, ops::AddAttrs{ir::Activation::relu});
}

// Maximum / Minimum: int8 inputs and output share one scale and zero point.
ir::Graph maximum_minimum(OpCode op, bool int8) {
  GraphBuilder b(17);
  const int x = b.activation("x", {2, 1, 5});
  const int z = b.activation("z", {3, 1});  // broadcast against x
  const int y = b.activation("y", {2, 3, 5});
  if (int8)
    for (int t : {x, z, y}) quantize_tensor(b.g.tensors[t], 0.05f, -7);
  return one_op(b, op, {x, z}, y);
}

// Sub (fused activation in its typed params) and SquaredDifference (none).
ir::Graph sub_squared_difference(OpCode op, bool int8) {
  GraphBuilder b(18);
  const int x = b.activation("x", {2, 1, 4, 3});
  const int z = b.activation("z", {3, 1, 3});  // broadcast against x
  const int y = b.activation("y", {2, 3, 4, 3});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.01f, -3);
    quantize_tensor(b.g.tensors[z], 0.02f, 7);
    quantize_tensor(b.g.tensors[y], 0.015f, -100);
  }
  ir::Graph g = one_op(b, op, {x, z}, y);
  if (op == OpCode::Sub) g.nodes[0].params = ops::SubOptions{ir::Activation::relu6};
  return g;
}

ir::Graph leaky_relu(bool int8) {
  GraphBuilder b(19);
  const int x = b.activation("x", {2, 3, 5});
  const int y = b.activation("y", {2, 3, 5});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.03f, 4);
    quantize_tensor(b.g.tensors[y], 0.02f, -60);
  }
  ir::Graph g = one_op(b, OpCode::LeakyRelu, {x}, y);
  g.nodes[0].params = ops::LeakyReluOptions{0.125f};
  return g;
}

// UnaryMath with each TFLite builtin's function; int8 through its table.
ir::Graph unary_math(UnaryFunction f, bool int8) {
  GraphBuilder b(23);
  const int x = b.activation("x", {3, 5});
  const int y = b.activation("y", {3, 5});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.04f, -100);
    quantize_tensor(b.g.tensors[y], 0.03f, -20);
  }
  return one_op(b, OpCode::UnaryMath, {x}, y, ops::UnaryMathAttrs{f, 1.0f, 1.0f});
}

// Prelu with a constant per-channel alpha.
ir::Graph prelu(bool int8) {
  GraphBuilder b(25);
  const int x = b.activation("x", {1, 3, 4, 2});
  const int alpha = b.weights("alpha", {2}, 0.5f);
  const int y = b.activation("y", {1, 3, 4, 2});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.03f, 5);
    quantize_tensor(b.g.tensors[alpha], 0.004f, -3);
    quantize_tensor(b.g.tensors[y], 0.02f, -50);
  }
  return one_op(b, OpCode::Prelu, {x, alpha}, y);
}

// MirrorPad (int8: the input's quantization kept).
ir::Graph mirror_pad(MirrorPadMode mode, bool int8) {
  GraphBuilder b(26);
  const int x = b.activation("x", {2, 3, 4});
  const int y = b.activation("y", {3, 6, 5});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.05f, 9);
  return one_op(b, OpCode::MirrorPad, {x}, y, ops::MirrorPadAttrs{mode, {1, 2, 0, 0, 1, 1}});
}

// Gather of constant indices along the middle axis.
ir::Graph gather(bool int8) {
  GraphBuilder b(27);
  const int x = b.activation("x", {2, 5, 3});
  ir::Tensor indices;
  indices.name = "indices";
  indices.type = DType::i32;
  indices.shape = {4};
  indices.constant = true;
  for (int32_t v : {4, 0, 0, 2})
    for (int k = 0; k < 4; ++k) indices.data.push_back(static_cast<uint8_t>(v >> (8 * k)));
  const int i = b.g.add_tensor(std::move(indices));
  const int y = b.activation("y", {2, 4, 3});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.05f, -9);
  return one_op(b, OpCode::Gather, {x, i}, y, ops::GatherAttrs{1});
}

// ArgMax / ArgMin along the middle axis: int32 indices out of float32 or int8 data.
ir::Graph arg_min_max(OpCode op, bool int8) {
  GraphBuilder b(28);
  const int x = b.activation("x", {2, 5, 3});
  const int y = b.activation("y", {2, 3});
  b.g.tensors[y].type = DType::i32;
  if (int8) quantize_tensor(b.g.tensors[x], 0.05f, 11);
  return one_op(b, op, {x}, y, ops::ArgMinMaxAttrs{1, false});
}

// Cast between two dtypes (int8 and int16 sides quantized: TFLite ignores it).
ir::Graph cast(DType from, DType to) {
  GraphBuilder b(29);
  const int x = b.activation("x", {3, 4});
  const int y = b.activation("y", {3, 4});
  for (auto [t, type] : {std::pair{x, from}, std::pair{y, to}}) {
    b.g.tensors[t].type = type;
    if (type == DType::i8 || type == DType::i16) quantize_activation(b.g.tensors[t], type, 1, 0);
  }
  return one_op(b, OpCode::Cast, {x}, y);
}

// ReduceMax: int8 input and output share one scale and zero point.
ir::Graph reduce_max(bool int8) {
  GraphBuilder b(24);
  const int x = b.activation("x", {2, 3, 4});
  const int y = b.activation("y", {2, 1, 4});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.05f, 9);
  ir::Graph g = one_op(b, OpCode::ReduceMax, {x}, y);
  g.nodes[0].params = ops::ReduceOptions{{-2}, true};
  return g;
}

// Mean (int8: the 4-D spatial path) and Sum (int8: the requantizing path).
ir::Graph reduce(OpCode op, bool int8) {
  GraphBuilder b(20);
  const int x = b.activation("x", {2, 3, 4, 5});
  const int y = b.activation(
      "y", op == OpCode::Mean ? std::vector<int32_t>{2, 1, 1, 5} : std::vector<int32_t>{2, 4, 5});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.03f, 4);
    quantize_tensor(b.g.tensors[y], op == OpCode::Mean ? 0.02f : 0.5f, -6);
  }
  ir::Graph g = one_op(b, op, {x}, y);
  g.nodes[0].params =
      op == OpCode::Mean ? ops::ReduceOptions{{1, 2}, true} : ops::ReduceOptions{{-3}, false};
  return g;
}

// StridedSlice with masks, a negative stride and a shrunk dim.
ir::Graph strided_slice(bool int8) {
  GraphBuilder b(21);
  const int x = b.activation("x", {2, 5, 6, 3});
  const int y = b.activation("y", {2, 3, 2});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.02f, -9);
  ir::Graph g = one_op(b, OpCode::StridedSlice, {x}, y);
  ops::StridedSliceOptions o;
  o.begin = {0, 4, 1, 2};
  o.end = {0, 0, -1, 3};
  o.strides = {1, -2, 3, 1};
  o.begin_mask = 1;
  o.end_mask = 1 | 2;
  o.shrink_axis_mask = 8;
  g.nodes[0].params = o;
  return g;
}

// Split into pieces of `sizes` along axis 2 (equal: written as SPLIT, else as SPLIT_V).
ir::Graph split(bool int8, const std::vector<int32_t>& sizes) {
  GraphBuilder b(22);
  const int x = b.activation("x", {2, 3, std::accumulate(sizes.begin(), sizes.end(), 0), 2});
  std::vector<int> outs;
  for (size_t k = 0; k < sizes.size(); ++k)
    outs.push_back(b.activation("y" + std::to_string(k), {2, 3, sizes[k], 2}));
  if (int8)
    for (size_t t = 0; t < b.g.tensors.size(); ++t) quantize_tensor(b.g.tensors[t], 0.04f, 7);
  b.g.nodes.push_back(ir::Node{OpCode::Split, {x}, outs, ops::SplitAttrs{2}, ""});
  b.g.inputs = {x};
  b.g.outputs = outs;
  b.g.source = "Split";
  b.g.check();
  return b.g;
}

// Unpack of [2, 3, 4] along axis 1 into three [2, 4].
ir::Graph unpack(bool int8) {
  GraphBuilder b(23);
  const int x = b.activation("x", {2, 3, 4});
  std::vector<int> outs;
  for (int k = 0; k < 3; ++k) outs.push_back(b.activation("y" + std::to_string(k), {2, 4}));
  if (int8)
    for (size_t t = 0; t < b.g.tensors.size(); ++t) quantize_tensor(b.g.tensors[t], 0.03f, -2);
  b.g.nodes.push_back(ir::Node{OpCode::Unpack, {x}, outs, ops::SplitAttrs{1}, ""});
  b.g.inputs = {x};
  b.g.outputs = outs;
  b.g.source = "Unpack";
  b.g.check();
  return b.g;
}

// Pack of three [2, 4] into [2, 4, 3] (the last axis).
ir::Graph pack(bool int8) {
  GraphBuilder b(24);
  std::vector<int> ins;
  for (int k = 0; k < 3; ++k) ins.push_back(b.activation("x" + std::to_string(k), {2, 4}));
  const int y = b.activation("y", {2, 4, 3});
  if (int8)
    for (size_t t = 0; t < b.g.tensors.size(); ++t) quantize_tensor(b.g.tensors[t], 0.05f, 1);
  return one_op(b, OpCode::Pack, ins, y, ops::PackAttrs{2});
}

// Resize [1, 3, 4, 2] to [1, 5, 2, 2] with the given flags.
ir::Graph resize(OpCode op, bool int8, ops::ResizeAttrs a) {
  GraphBuilder b(25);
  const int x = b.activation("x", {1, 3, 4, 2});
  const int y = b.activation("y", {1, 5, 2, 2});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.02f, -3);
  return one_op(b, op, {x}, y, a);
}

ir::Graph unary(OpCode op, bool int8, float out_scale = 0, int32_t out_zp = 0) {
  GraphBuilder b(8);
  const int x = b.activation("x", {2, 7});
  const int y = b.activation("y", {2, 7});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.03f, 4);
    quantize_tensor(b.g.tensors[y], out_scale, out_zp);
  }
  return one_op(b, op, {x}, y);
}

ir::Graph reshape(DType type) {
  GraphBuilder b(9);
  const int x = b.activation("x", {1, 2, 3, 4});
  const int y = b.activation("y", {1, 24});
  if (type != DType::f32)
    for (int t : {x, y}) quantize_activation(b.g.tensors[t], type, 0.03f, 4);
  return one_op(b, OpCode::Reshape, {x}, y);
}

ir::Graph softmax(bool int8) {
  GraphBuilder b(10);
  const int x = b.activation("x", {3, 6});
  const int y = b.activation("y", {3, 6});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.05f, 0);
    quantize_tensor(b.g.tensors[y], 1.0f / 256, -128);
  }
  return one_op(b, OpCode::Softmax, {x}, y, ops::SoftmaxAttrs{});
}

// LogSoftmax has no attributes; int8 with TFLite's fixed output (16/256, 127).
ir::Graph log_softmax(bool int8) {
  GraphBuilder b(10);
  const int x = b.activation("x", {3, 6});
  const int y = b.activation("y", {3, 6});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.05f, 3);
    quantize_tensor(b.g.tensors[y], 16.0f / 256, 127);
  }
  return one_op(b, OpCode::LogSoftmax, {x}, y);
}

ir::Graph quantize_op() {
  GraphBuilder b(11);
  const int x = b.activation("x", {4, 5});
  const int y = b.activation("y", {4, 5});
  quantize_tensor(b.g.tensors[y], 0.01f, -5);
  return one_op(b, OpCode::Quantize, {x}, y);
}

ir::Graph dequantize_op() {
  GraphBuilder b(12);
  const int x = b.activation("x", {4, 5});
  const int y = b.activation("y", {4, 5});
  quantize_tensor(b.g.tensors[x], 0.01f, -5);
  return one_op(b, OpCode::Dequantize, {x}, y);
}

// 16x8 boundaries: float32 -> int16, int16 -> int8 (requantize), int16 -> float32.
ir::Graph int16_conversion(OpCode op, bool from_int16, bool to_int16) {
  GraphBuilder b(24);
  const int x = b.activation("x", {3, 4});
  const int y = b.activation("y", {3, 4});
  if (from_int16) quantize_activation(b.g.tensors[x], DType::i16, 3.0f / 32768, 0);
  if (op == OpCode::Quantize) quantize_tensor(b.g.tensors[y], to_int16 ? 5.0f / 32768 : 0.03f, 0);
  if (to_int16) b.g.tensors[y].type = DType::i16;
  return one_op(b, op, {x}, y);
}

ir::Graph clamp(float lo, float hi, bool int8) {
  GraphBuilder b(13);
  const int x = b.activation("x", {3, 5});
  const int y = b.activation("y", {3, 5});
  if (int8) {
    quantize_tensor(b.g.tensors[x], 0.02f, 0);
    quantize_tensor(b.g.tensors[y], 0.02f, 0);
  }
  return one_op(b, OpCode::Clamp, {x}, y, ops::ClampAttrs{lo, hi});
}

ir::Graph concatenation(DType type) {
  GraphBuilder b(14);
  const int x = b.activation("x", {1, 2, 2, 3});
  const int z = b.activation("z", {1, 2, 2, 5});
  const int y = b.activation("y", {1, 2, 2, 8});
  if (type != DType::f32)
    for (int t : {x, z, y}) quantize_activation(b.g.tensors[t], type, 0.02f, 6);
  return one_op(b, OpCode::Concatenation, {x, z}, y, ops::ConcatenationAttrs{3});
}

ir::Graph transpose(bool int8) {
  GraphBuilder b(15);
  const int x = b.activation("x", {2, 3, 4});
  const int y = b.activation("y", {4, 2, 3});
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], 0.02f, -2);
  return one_op(b, OpCode::Transpose, {x}, y, ops::TransposeAttrs{{2, 0, 1}});
}

ir::Graph pad(bool int8, int32_t border_q) {
  GraphBuilder b(16);
  const int x = b.activation("x", {1, 3, 3, 2});
  const int y = b.activation("y", {1, 4, 6, 2});
  const float scale = 0.25f;
  if (int8)
    for (int t : {x, y}) quantize_tensor(b.g.tensors[t], scale, 3);
  // A value the int8 border represents exactly, so it reads back as the same float.
  const ops::PadAttrs a{{0, 1, 2, 0, 0, 0, 1, 0}, scale * static_cast<float>(border_q)};
  return one_op(b, OpCode::Pad, {x}, y, a);
}

std::vector<Case> cases() {
  const float inf = HUGE_VALF;
  return {
      {"Conv2D_f32", [] { return conv(false); }},
      {"Conv2D_i8", [] { return conv(true); }},
      {"DepthwiseConv2D_f32", [] { return depthwise(false); }},
      {"DepthwiseConv2D_i8", [] { return depthwise(true); }},
      {"FullyConnected_f32", [] { return fully_connected(false); }},
      {"FullyConnected_i8", [] { return fully_connected(true); }},
      {"AveragePool2D_f32", [] { return pool(OpCode::AveragePool2D, false); }},
      {"AveragePool2D_i8", [] { return pool(OpCode::AveragePool2D, true); }},
      {"MaxPool2D_f32", [] { return pool(OpCode::MaxPool2D, false); }},
      {"MaxPool2D_i8", [] { return pool(OpCode::MaxPool2D, true); }},
      {"Add_f32", [] { return binary(OpCode::Add, false); }},
      {"Add_i8", [] { return binary(OpCode::Add, true); }},
      {"Reshape_f32", [] { return reshape(DType::f32); }},
      {"Reshape_i8", [] { return reshape(DType::i8); }},
      {"Reshape_i16", [] { return reshape(DType::i16); }},
      {"Softmax_f32", [] { return softmax(false); }},
      {"Softmax_i8", [] { return softmax(true); }},
      {"LogSoftmax_f32", [] { return log_softmax(false); }},
      {"LogSoftmax_i8", [] { return log_softmax(true); }},
      {"Quantize", [] { return quantize_op(); }},
      {"Dequantize", [] { return dequantize_op(); }},
      {"Quantize_f32_to_i16", [] { return int16_conversion(OpCode::Quantize, false, true); }},
      {"Quantize_i16_to_i8", [] { return int16_conversion(OpCode::Quantize, true, false); }},
      {"Dequantize_i16", [] { return int16_conversion(OpCode::Dequantize, true, false); }},
      {"Mul_f32", [] { return binary(OpCode::Mul, false); }},
      {"Mul_i8", [] { return binary(OpCode::Mul, true); }},
      {"Logistic_f32", [] { return unary(OpCode::Logistic, false); }},
      {"Logistic_i8", [] { return unary(OpCode::Logistic, true, 1.0f / 256, -128); }},
      {"Tanh_f32", [] { return unary(OpCode::Tanh, false); }},
      {"Tanh_i8", [] { return unary(OpCode::Tanh, true, 1.0f / 128, 0); }},
      {"Clamp_relu_f32", [inf] { return clamp(0, inf, false); }},
      {"Clamp_relu6_i8", [] { return clamp(0, 6, true); }},
      {"Clamp_n1_to_1_f32", [] { return clamp(-1, 1, false); }},
      {"Clamp_0_to_1_i8", [] { return clamp(0, 1, true); }},
      {"Concatenation_f32", [] { return concatenation(DType::f32); }},
      {"Concatenation_i8", [] { return concatenation(DType::i8); }},
      {"Concatenation_i16", [] { return concatenation(DType::i16); }},
      {"Transpose_f32", [] { return transpose(false); }},
      {"Transpose_i8", [] { return transpose(true); }},
      {"Pad_f32", [] { return pad(false, 0); }},
      {"PadV2_f32", [] { return pad(false, -3); }},
      {"Pad_i8", [] { return pad(true, 0); }},
      {"PadV2_i8", [] { return pad(true, 5); }},
      {"Maximum_f32", [] { return maximum_minimum(OpCode::Maximum, false); }},
      {"Maximum_i8", [] { return maximum_minimum(OpCode::Maximum, true); }},
      {"Minimum_f32", [] { return maximum_minimum(OpCode::Minimum, false); }},
      {"Minimum_i8", [] { return maximum_minimum(OpCode::Minimum, true); }},
      {"Sub_f32", [] { return sub_squared_difference(OpCode::Sub, false); }},
      {"Sub_i8", [] { return sub_squared_difference(OpCode::Sub, true); }},
      {"SquaredDifference_f32",
       [] { return sub_squared_difference(OpCode::SquaredDifference, false); }},
      {"SquaredDifference_i8",
       [] { return sub_squared_difference(OpCode::SquaredDifference, true); }},
      {"LeakyRelu_f32", [] { return leaky_relu(false); }},
      {"LeakyRelu_i8", [] { return leaky_relu(true); }},
      {"Mean_f32", [] { return reduce(OpCode::Mean, false); }},
      {"Mean_i8", [] { return reduce(OpCode::Mean, true); }},
      {"Sum_f32", [] { return reduce(OpCode::Sum, false); }},
      {"Sum_i8", [] { return reduce(OpCode::Sum, true); }},
      {"StridedSlice_f32", [] { return strided_slice(false); }},
      {"StridedSlice_i8", [] { return strided_slice(true); }},
      {"Split_f32",
       [] {
         return split(false, {3, 3, 3});
       }},
      {"Split_i8",
       [] {
         return split(true, {2, 2});
       }},
      {"SplitV_f32",
       [] {
         return split(false, {1, 4, 2});
       }},
      {"SplitV_i8",
       [] {
         return split(true, {5, 1, 1, 2, 3});
       }},
      {"Unpack_f32", [] { return unpack(false); }},
      {"Unpack_i8", [] { return unpack(true); }},
      {"Pack_f32", [] { return pack(false); }},
      {"Pack_i8", [] { return pack(true); }},
      {"ResizeNearestNeighbor_f32",
       [] {
         return resize(OpCode::ResizeNearestNeighbor, false, {true, false});
       }},
      {"ResizeNearestNeighbor_i8",
       [] {
         return resize(OpCode::ResizeNearestNeighbor, true, {false, true});
       }},
      {"ResizeBilinear_f32",
       [] {
         return resize(OpCode::ResizeBilinear, false, {false, true});
       }},
      {"ResizeBilinear_i8", [] { return resize(OpCode::ResizeBilinear, true, {}); }},
      {"HardSwish_f32", [] { return unary(OpCode::HardSwish, false); }},
      {"HardSwish_i8", [] { return unary(OpCode::HardSwish, true, 0.02f, -20); }},
      {"UnaryMath_exp_f32", [] { return unary_math(UnaryFunction::exp, false); }},
      {"UnaryMath_elu_f32", [] { return unary_math(UnaryFunction::elu, false); }},
      {"UnaryMath_log_i8", [] { return unary_math(UnaryFunction::log, true); }},
      {"UnaryMath_sqrt_i8", [] { return unary_math(UnaryFunction::sqrt, true); }},
      {"UnaryMath_rsqrt_i8", [] { return unary_math(UnaryFunction::rsqrt, true); }},
      {"UnaryMath_abs_i8", [] { return unary_math(UnaryFunction::abs, true); }},
      {"UnaryMath_neg_i8", [] { return unary_math(UnaryFunction::neg, true); }},
      {"Div_f32", [] { return binary(OpCode::Div, false); }},
      {"Div_i8", [] { return binary(OpCode::Div, true); }},
      {"ReduceMax_f32", [] { return reduce_max(false); }},
      {"ReduceMax_i8", [] { return reduce_max(true); }},
      {"Prelu_f32", [] { return prelu(false); }},
      {"Prelu_i8", [] { return prelu(true); }},
      {"MirrorPad_f32", [] { return mirror_pad(MirrorPadMode::reflect, false); }},
      {"MirrorPad_i8", [] { return mirror_pad(MirrorPadMode::symmetric, true); }},
      {"Gather_f32", [] { return gather(false); }},
      {"Gather_i8", [] { return gather(true); }},
      {"TransposeConv_f32", [] { return transpose_conv(false); }},
      {"TransposeConv_i8", [] { return transpose_conv(true); }},
      {"Svdf_f32", [] { return svdf(false); }},
      {"Svdf_i8", [] { return svdf(true); }},
      {"ArgMax_f32", [] { return arg_min_max(OpCode::ArgMax, false); }},
      {"ArgMax_i8", [] { return arg_min_max(OpCode::ArgMax, true); }},
      {"ArgMin_f32", [] { return arg_min_max(OpCode::ArgMin, false); }},
      {"ArgMin_i8", [] { return arg_min_max(OpCode::ArgMin, true); }},
      {"Cast_f32_to_i32", [] { return cast(DType::f32, DType::i32); }},
      {"Cast_i32_to_f32", [] { return cast(DType::i32, DType::f32); }},
      {"Cast_i8_to_i16", [] { return cast(DType::i8, DType::i16); }},
      {"Cast_f32_to_i8", [] { return cast(DType::f32, DType::i8); }},
      {"SignalWindow", [] { return signal_op(OpCode::SignalWindow); }},
      {"SignalEnergy", [] { return signal_op(OpCode::SignalEnergy); }},
      {"SignalFilterBank", [] { return signal_op(OpCode::SignalFilterBank); }},
      {"SignalFilterBankSquareRoot", [] { return signal_op(OpCode::SignalFilterBankSquareRoot); }},
      {"SignalFilterBankLog", [] { return signal_op(OpCode::SignalFilterBankLog); }},
      {"SignalFftAutoScale", [] { return signal_op(OpCode::SignalFftAutoScale); }},
      {"SignalRfft", [] { return signal_op(OpCode::SignalRfft); }},
      {"SignalFilterBankSpectralSubtraction",
       [] { return signal_op(OpCode::SignalFilterBankSpectralSubtraction); }},
      {"SignalPcan", [] { return signal_op(OpCode::SignalPcan); }},
      {"SignalDelay", [] { return signal_op(OpCode::SignalDelay); }},
      {"Lstm_f32", lstm},
  };
}

// Target kernel variants: chosen by the planner from IR ops, never in the IR itself.
bool is_kernel_variant(OpCode op) { return plan::is_dsp_twin(op) || plan::is_int16_twin(op); }

void expect_same_tensor(const ir::Tensor& a, const ir::Tensor& b, const std::string& what) {
  SCOPED_TRACE(what + " '" + a.name + "'");
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.constant, b.constant);
  EXPECT_EQ(a.variable, b.variable);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.quant.scale, b.quant.scale);
  EXPECT_EQ(a.quant.zero_point, b.quant.zero_point);
  if (a.quant.per_channel()) EXPECT_EQ(a.quant.axis, b.quant.axis);
}

void expect_same_ir(const ir::Graph& a, const ir::Graph& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const ir::Node& na = a.nodes[i];
    const ir::Node& nb = b.nodes[i];
    SCOPED_TRACE(a.node_label(i));
    EXPECT_EQ(na.op, nb.op);
    EXPECT_TRUE(na.params == nb.params) << "typed params differ";
    ASSERT_EQ(na.inputs.size(), nb.inputs.size());
    for (size_t k = 0; k < na.inputs.size(); ++k) {
      ASSERT_EQ(na.inputs[k] < 0, nb.inputs[k] < 0);
      if (na.inputs[k] >= 0)
        expect_same_tensor(a.tensors[na.inputs[k]], b.tensors[nb.inputs[k]], "input");
    }
    ASSERT_EQ(na.outputs.size(), nb.outputs.size());
    for (size_t k = 0; k < na.outputs.size(); ++k)
      expect_same_tensor(a.tensors[na.outputs[k]], b.tensors[nb.outputs[k]], "output");
  }
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
}

// Random bytes for every model input: any int8 byte, or floats in [-4, 4].
std::vector<std::vector<uint8_t>> random_inputs(const ir::Graph& g, uint32_t cases) {
  std::vector<std::vector<uint8_t>> inputs;
  uint32_t seed = 100;
  for (int t : g.inputs) {
    const ir::Tensor& x = g.tensors[static_cast<size_t>(t)];
    const size_t n = static_cast<size_t>(x.elements()) * cases;
    if (x.type == DType::f32) {
      inputs.push_back(testing::random_floats(n, seed++, -4, 4));
    } else {
      std::mt19937 rng(seed++);
      std::vector<uint8_t> bytes(n * dtype_size(x.type));
      for (uint8_t& v : bytes) v = static_cast<uint8_t>(rng());
      inputs.push_back(std::move(bytes));
    }
  }
  return inputs;
}

TEST(TfliteRoundTrip, ImportOfExportIsTheSameIrAndRunsBitIdentically) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const ir::Graph g = c.build();
    const std::vector<uint8_t> bytes = tflite_export::write_tflite(g);
    const ir::Graph back = import_tflite(bytes.data(), bytes.size(), c.name + ".tflite");
    expect_same_ir(g, back);
    const auto inputs = random_inputs(g, 3);
    EXPECT_EQ(testing::run_graph_outputs(back, inputs, 3),
              testing::run_graph_outputs(g, inputs, 3));
    // And once more: export of the import is the same file.
    EXPECT_EQ(tflite_export::write_tflite(back), bytes);
  }
}

TEST(TfliteRoundTrip, EveryOpHasARoundTripCase) {
  std::set<OpCode> covered;
  for (const Case& c : cases()) covered.insert(c.build().nodes.at(0).op);
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpCode>(i);
    if (is_kernel_variant(op)) continue;
    EXPECT_TRUE(covered.count(op)) << op_info(op).name << " has no round-trip case";
  }
}

}  // namespace
}  // namespace tinyforge
