// Conv-family reference kernels (Conv2D, DepthwiseConv2D, FullyConnected, AveragePool2D,
// MaxPool2D) on small cases whose expected outputs were computed by hand; the arithmetic
// is written next to each case. Then check_<Op> rejections.
//
// Requantization in the int8 cases uses multipliers whose effect is easy to follow:
//   (2^30, shift 1)  = x 1.0 exactly
//   (2^30, shift 0)  = x 0.5, via gemmlowp's SaturatingRoundingDoublingHighMul: ties round
//                      up for positive values (2.5 -> 3) and toward zero for negative ones
//                      (-17.5 -> -17), the reference's exact behaviour
//   (2^30, shift -1) = x 0.5 as above, then RoundingDivideByPOT(1): ties away from zero
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "tinyforge/kernel.h"

namespace tinyforge {
namespace {

constexpr int32_t kOne = 1 << 30;  // Q31 multiplier 0.5; with shift 1 it scales by 1.0

// A tensor for a kernel call: dtype, dims and little-endian bytes. `absent` marks an
// optional input left out, which the kernels see as a value-initialized view.
struct T {
  DType type = DType::f32;
  std::vector<int32_t> dims;
  std::vector<uint8_t> bytes;
  bool absent = false;

  template <typename E>
  static T of(DType type, std::vector<int32_t> dims, const std::vector<E>& v) {
    T t;
    t.type = type;
    t.dims = std::move(dims);
    t.bytes.resize(v.size() * sizeof(E));
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
  }
  template <typename E>
  std::vector<E> values() const {
    std::vector<E> v(bytes.size() / sizeof(E));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
};

T f32(std::vector<int32_t> dims, std::vector<float> v) {
  return T::of(DType::f32, std::move(dims), v);
}
T i8(std::vector<int32_t> dims, std::vector<int8_t> v) {
  return T::of(DType::i8, std::move(dims), v);
}
T i32(std::vector<int32_t> dims, std::vector<int32_t> v) {
  return T::of(DType::i32, std::move(dims), v);
}
T none() {
  T t;
  t.absent = true;
  return t;
}
// An output of `dims` filled with a sentinel, so unwritten elements show up.
T out_like(const T& expected) {
  T t = expected;
  std::memset(t.bytes.data(), 0x5A, t.bytes.size());
  return t;
}

TensorView view_of(T& t, bool with_data = true) {
  TensorView v{};
  if (t.absent) return v;
  v.type = t.type;
  v.rank = static_cast<uint8_t>(t.dims.size());
  for (int i = 0; i < kMaxRank; ++i) v.dims[i] = i < v.rank ? t.dims[i] : 1;
  v.data = with_data ? t.bytes.data() : nullptr;
  v.bytes = static_cast<uint32_t>(t.bytes.size());
  return v;
}

Status check_op(const Conv2DParams& p, const KernelIO& io) { return check_Conv2D(p, io); }
Status check_op(const DepthwiseConv2DParams& p, const KernelIO& io) {
  return check_DepthwiseConv2D(p, io);
}
Status check_op(const FullyConnectedParams& p, const KernelIO& io) {
  return check_FullyConnected(p, io);
}
void eval_op(const Conv2DParams& p, const KernelIO& io) { eval_Conv2D(p, io); }
void eval_op(const DepthwiseConv2DParams& p, const KernelIO& io) { eval_DepthwiseConv2D(p, io); }
void eval_op(const FullyConnectedParams& p, const KernelIO& io) { eval_FullyConnected(p, io); }

enum class Pool { average, max };

// One kernel call bound to its params: check (with null data, as the validator does)
// and eval.
struct Op {
  std::function<Status(const KernelIO&)> check;
  std::function<void(const KernelIO&)> eval;
};
template <typename P>
Op op(const P& p) {
  return {[p](const KernelIO& io) { return check_op(p, io); },
          [p](const KernelIO& io) { eval_op(p, io); }};
}
Op pool(Pool kind, const Pool2DParams& p) {
  if (kind == Pool::average)
    return {[p](const KernelIO& io) { return check_AveragePool2D(p, io); },
            [p](const KernelIO& io) { eval_AveragePool2D(p, io); }};
  return {[p](const KernelIO& io) { return check_MaxPool2D(p, io); },
          [p](const KernelIO& io) { eval_MaxPool2D(p, io); }};
}

Status check(const Op& o, std::vector<T> inputs, T output) {
  std::vector<TensorView> in;
  for (T& t : inputs) in.push_back(view_of(t, /*with_data=*/false));
  const TensorView out = view_of(output, false);
  const KernelIO io{in.data(), static_cast<uint8_t>(in.size()), &out, 1, nullptr, 0};
  return o.check(io);
}

T run(const Op& o, std::vector<T> inputs, const T& expected) {
  std::vector<TensorView> in;
  for (T& t : inputs) in.push_back(view_of(t));
  T output = out_like(expected);
  const TensorView out = view_of(output);
  const KernelIO io{in.data(), static_cast<uint8_t>(in.size()), &out, 1, nullptr, 0};
  o.eval(io);
  return output;
}

// ---- params builders -------------------------------------------------------------------

constexpr float kInf = std::numeric_limits<float>::infinity();

Conv2DParams conv(int sh, int sw, int pt, int pl, int dh = 1, int dw = 1) {
  Conv2DParams p{};
  p.stride_h = static_cast<int16_t>(sh);
  p.stride_w = static_cast<int16_t>(sw);
  p.dilation_h = static_cast<int16_t>(dh);
  p.dilation_w = static_cast<int16_t>(dw);
  p.pad_top = static_cast<int16_t>(pt);
  p.pad_left = static_cast<int16_t>(pl);
  p.act_min = -128;
  p.act_max = 127;
  p.f_act_min = -kInf;
  p.f_act_max = kInf;
  return p;
}
template <typename P>
P quant(P p, int32_t input_zp, int32_t output_zp, int32_t lo = -128, int32_t hi = 127) {
  p.input_offset = -input_zp;
  p.output_offset = output_zp;
  p.act_min = lo;
  p.act_max = hi;
  return p;
}
template <typename P>
P fclamp(P p, float lo, float hi) {
  p.f_act_min = lo;
  p.f_act_max = hi;
  return p;
}
DepthwiseConv2DParams dwconv(int multiplier, int sh, int sw, int pt, int pl, int dh = 1,
                             int dw = 1) {
  const Conv2DParams c = conv(sh, sw, pt, pl, dh, dw);
  DepthwiseConv2DParams p{};
  p.stride_h = c.stride_h;
  p.stride_w = c.stride_w;
  p.dilation_h = c.dilation_h;
  p.dilation_w = c.dilation_w;
  p.pad_top = c.pad_top;
  p.pad_left = c.pad_left;
  p.depth_multiplier = multiplier;
  p.act_min = -128;
  p.act_max = 127;
  p.f_act_min = -kInf;
  p.f_act_max = kInf;
  return p;
}
FullyConnectedParams fc() {
  FullyConnectedParams p{};
  p.act_min = -128;
  p.act_max = 127;
  p.f_act_min = -kInf;
  p.f_act_max = kInf;
  return p;
}
Pool2DParams pool_params(int fh, int fw, int sh, int sw, int pt, int pl, int32_t lo = -128,
                         int32_t hi = 127) {
  Pool2DParams p{};
  p.filter_h = static_cast<int16_t>(fh);
  p.filter_w = static_cast<int16_t>(fw);
  p.stride_h = static_cast<int16_t>(sh);
  p.stride_w = static_cast<int16_t>(sw);
  p.pad_top = static_cast<int16_t>(pt);
  p.pad_left = static_cast<int16_t>(pl);
  p.act_min = lo;
  p.act_max = hi;
  p.f_act_min = -kInf;
  p.f_act_max = kInf;
  return p;
}

std::vector<float> iota_f(int n, float start = 1.0f) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) v.push_back(start + static_cast<float>(i));
  return v;
}

// ---- the table -------------------------------------------------------------------------

struct Case {
  std::string name;
  Op op;
  std::vector<T> inputs;
  T expected;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  // Input grids used below (row-major, one channel):
  //   g3 = 1 2 3 / 4 5 6 / 7 8 9        g4 = 1..16 in a 4x4 grid
  const T g3 = f32({1, 3, 3, 1}, iota_f(9));

  // VALID 2x2 diagonal filter: out(y,x) = in(y,x) + in(y+1,x+1) + 0.5.
  c.push_back({"conv_f32_valid",
               op(conv(1, 1, 0, 0)),
               {g3, f32({1, 2, 2, 1}, {1, 0, 0, 1}), f32({1}, {0.5f})},
               f32({1, 2, 2, 1}, {1 + 5 + 0.5f, 2 + 6 + 0.5f, 4 + 8 + 0.5f, 5 + 9 + 0.5f})});

  // SAME 3x3 box filter, pad 1 on each side: each output sums its clipped neighbourhood.
  c.push_back({"conv_f32_same_box",
               op(conv(1, 1, 1, 1)),
               {g3, f32({1, 3, 3, 1}, std::vector<float>(9, 1.0f)), none()},
               f32({1, 3, 3, 1}, {1 + 2 + 4 + 5, 1 + 2 + 3 + 4 + 5 + 6, 2 + 3 + 5 + 6,  //
                                  1 + 2 + 4 + 5 + 7 + 8, 45, 2 + 3 + 5 + 6 + 8 + 9,     //
                                  4 + 5 + 7 + 8, 4 + 5 + 6 + 7 + 8 + 9, 5 + 6 + 8 + 9})});

  // SAME, stride 2 on 4x4 with a 3x3 box: out 2x2, total padding (2-1)*2+3-4 = 1, all of it
  // after (pad_top = pad_left = 0).
  c.push_back(
      {"conv_f32_same_stride2",
       op(conv(2, 2, 0, 0)),
       {f32({1, 4, 4, 1}, iota_f(16)), f32({1, 3, 3, 1}, std::vector<float>(9, 1.0f)), none()},
       f32({1, 2, 2, 1}, {1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11, 3 + 4 + 7 + 8 + 11 + 12,
                          9 + 10 + 11 + 13 + 14 + 15, 11 + 12 + 15 + 16})});

  // Dilation 2, VALID, 2x2 filter [1 2; 3 4] on 5x5 with in(r,c) = 5r+c+1:
  // out(y,x) = in(y,x) + 2 in(y,x+2) + 3 in(y+2,x) + 4 in(y+2,x+2) = 50y + 10x + 92.
  c.push_back({"conv_f32_dilation2",
               op(conv(1, 1, 0, 0, 2, 2)),
               {f32({1, 5, 5, 1}, iota_f(25)), f32({1, 2, 2, 1}, {1, 2, 3, 4}), none()},
               f32({1, 3, 3, 1}, {92, 102, 112, 142, 152, 162, 192, 202, 212})});

  // Non-square 2x1 kernel [2; 1] on [1 2; 3 4; 5 6], VALID, then RELU6:
  // 2*1+3 = 5, 2*2+4 = 8 -> 6, 2*3+5 = 11 -> 6, 2*4+6 = 14 -> 6.
  c.push_back({"conv_f32_nonsquare_relu6",
               op(fclamp(conv(1, 1, 0, 0), 0.0f, 6.0f)),
               {f32({1, 3, 2, 1}, iota_f(6)), f32({1, 2, 1, 1}, {2, 1}), none()},
               f32({1, 2, 2, 1}, {5, 6, 6, 6})});

  // Grouped conv: 4 input channels, filter [4,1,1,2] -> 2 groups of 2 output channels.
  // in [1 2 3 4]; oc0 [1 0]·[1 2] = 1, oc1 [0 1]·[1 2] = 2, oc2 [1 1]·[3 4] = 7,
  // oc3 [2 -1]·[3 4] = 2.
  c.push_back(
      {"conv_f32_groups",
       op(conv(1, 1, 0, 0)),
       {f32({1, 1, 1, 4}, {1, 2, 3, 4}), f32({4, 1, 1, 2}, {1, 0, 0, 1, 1, 1, 2, -1}), none()},
       f32({1, 1, 1, 4}, {1, 2, 7, 2})});

  // int8 per-channel, 1x1 kernel, input zp 5 (values 10 20 30 40 -> 5 15 25 35), output zp -10.
  // oc0: filter 2, bias 10, scale 1.0: 2v + 10 = 20 40 60 80 -> 10 30 50 70.
  // oc1: filter -3, bias -20, scale 0.5: -3v - 20 = -35 -65 -95 -125, halved with ties
  //      toward zero for negatives: -17 -32 -47 -62 -> -27 -42 -57 -72.
  c.push_back({"conv_i8_per_channel",
               op(quant(conv(1, 1, 0, 0), 5, -10)),
               {i8({1, 2, 2, 1}, {10, 20, 30, 40}), i8({2, 1, 1, 1}, {2, -3}), i32({2}, {10, -20}),
                i32({2}, {kOne, kOne}), i32({2}, {1, 0})},
               i8({1, 2, 2, 2}, {10, -27, 30, -42, 50, -57, 70, -72})});

  // Zero-point extremes. Input zp -128: [-128 127 0] -> [0 255 128]; filter -1; scale 1;
  // output zp 127: [127, 127-255, 127-128] = [127 -128 -1].
  c.push_back({"conv_i8_zero_points_min_in_max_out",
               op(quant(conv(1, 1, 0, 0), -128, 127)),
               {i8({1, 1, 3, 1}, {-128, 127, 0}), i8({1, 1, 1, 1}, {-1}), none(), i32({1}, {kOne}),
                i32({1}, {1})},
               i8({1, 1, 3, 1}, {127, -128, -1})});
  // Input zp 127: [127 -128] -> [0 -255]; filter -1 -> [0 255]; output zp -128 -> [-128 127].
  c.push_back({"conv_i8_zero_points_max_in_min_out",
               op(quant(conv(1, 1, 0, 0), 127, -128)),
               {i8({1, 1, 2, 1}, {127, -128}), i8({1, 1, 1, 1}, {-1}), none(), i32({1}, {kOne}),
                i32({1}, {1})},
               i8({1, 1, 2, 1}, {-128, 127})});

  // Saturation: filter 2, scale 1, zps 0: [100 -100 63 -64] -> [200 -200 126 -128]
  // -> [127 -128 126 -128].
  c.push_back({"conv_i8_saturation",
               op(quant(conv(1, 1, 0, 0), 0, 0)),
               {i8({1, 1, 4, 1}, {100, -100, 63, -64}), i8({1, 1, 1, 1}, {2}), none(),
                i32({1}, {kOne}), i32({1}, {1})},
               i8({1, 1, 4, 1}, {127, -128, 126, -128})});
  // Fused RELU as a clamp range [output zp, 127] = [-20, 127]: same accumulators, output zp
  // -20: [180 -220 106 -148] -> [127 -20 106 -20].
  c.push_back({"conv_i8_relu_clamp",
               op(quant(conv(1, 1, 0, 0), 0, -20, -20, 127)),
               {i8({1, 1, 4, 1}, {100, -100, 63, -64}), i8({1, 1, 1, 1}, {2}), none(),
                i32({1}, {kOne}), i32({1}, {1})},
               i8({1, 1, 4, 1}, {127, -20, 106, -20})});

  // int8 SAME, stride 2, 3x3 box on 4x4 g4 (zp 0): same sums as the float case (54 45 72 54),
  // scaled by 0.5 with a right shift of 1 (x 0.25): 54 -> 27 -> 13.5 -> 14 (away from zero),
  // 45 -> 23 (22.5 up) -> 11.5 -> 12, 72 -> 36 -> 18, 54 -> 14.
  {
    std::vector<int8_t> g4;
    for (int i = 1; i <= 16; ++i) g4.push_back(static_cast<int8_t>(i));
    c.push_back({"conv_i8_same_stride2_rounding",
                 op(quant(conv(2, 2, 0, 0), 0, 0)),
                 {i8({1, 4, 4, 1}, g4), i8({1, 3, 3, 1}, std::vector<int8_t>(9, 1)), none(),
                  i32({1}, {kOne}), i32({1}, {-1})},
                 i8({1, 2, 2, 1}, {14, 12, 18, 14})});
  }

  // int8 dilation 2 with padding: 3x3 input 1..9 (zp 0), 2x2 filter of ones, dilation 2
  // (effective 3), SAME: out 3x3, total padding 2, pad 1. Tap offsets from the window
  // origin (y-1, x-1) are {0, 2} per axis, so out(y,x) sums in(y-1|y+1, x-1|x+1) inside:
  // (0,0) = in(1,1) = 5; (0,1) = in(1,0)+in(1,2) = 4+6; (0,2) = in(1,1) = 5; (1,0) = 2+8;
  // (1,1) = 1+3+7+9; (1,2) = 2+8; (2,0) = 5; (2,1) = 4+6; (2,2) = 5. Scale 1, bias 1.
  c.push_back({"conv_i8_dilation2_same",
               op(quant(conv(1, 1, 1, 1, 2, 2), 0, 0)),
               {i8({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), i8({1, 2, 2, 1}, {1, 1, 1, 1}),
                i32({1}, {1}), i32({1}, {kOne}), i32({1}, {1})},
               i8({1, 3, 3, 1}, {6, 11, 6, 11, 21, 11, 6, 11, 6})});

  // int8 grouped conv: 4 channels (zp 0) [1 2 3 4], 2 groups, scale 1; same filter as the
  // float case plus bias [0 0 0 -10]: [1 2 7 -8].
  c.push_back(
      {"conv_i8_groups",
       op(quant(conv(1, 1, 0, 0), 0, 0)),
       {i8({1, 1, 1, 4}, {1, 2, 3, 4}), i8({4, 1, 1, 2}, {1, 0, 0, 1, 1, 1, 2, -1}),
        i32({4}, {0, 0, 0, -10}), i32({4}, {kOne, kOne, kOne, kOne}), i32({4}, {1, 1, 1, 1})},
       i8({1, 1, 1, 4}, {1, 2, 7, -8})});

  // Depthwise float, depth multiplier 2: 2x2x2 input, ch0 = 1 2 3 4, ch1 = 10 20 30 40;
  // filter taps (NHWC, 4 output channels ic*2+m):
  //   oc0 (ch0) = ones -> 10; oc1 (ch0) = [1 0 0 -1] -> 1-4 = -3;
  //   oc2 (ch1) = [0 1 0 0] -> 20; oc3 (ch1) = 0.5 each -> 50, bias 1 -> 51.
  c.push_back({"depthwise_f32_multiplier2",
               op(dwconv(2, 1, 1, 0, 0)),
               {f32({1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}),
                f32({1, 2, 2, 4}, {1, 1, 0, 0.5f, 1, 0, 1, 0.5f, 1, 0, 0, 0.5f, 1, -1, 0, 0.5f}),
                f32({4}, {0, 0, 0, 1})},
               f32({1, 1, 1, 4}, {10, -3, 20, 51})});

  // Depthwise int8, multiplier 2, SAME stride 2 on 3x3 (values 1..9, zp 1 -> 0..8), 3x3
  // filters: oc0 box of ones, oc1 centre tap 2. Out 2x2, total padding 2, pad 1.
  // oc0 (scale 1): 0+1+3+4 = 8, 1+2+4+5 = 12, 3+4+6+7 = 20, 4+5+7+8 = 24.
  // oc1 (x 0.25): centres (0,0)(0,2)(2,0)(2,2) = 0 2 6 8, doubled 0 4 12 16 -> 0 1 3 4.
  {
    std::vector<int8_t> filter;
    for (int tap = 0; tap < 9; ++tap) {
      filter.push_back(1);
      filter.push_back(tap == 4 ? 2 : 0);
    }
    c.push_back({"depthwise_i8_same_stride2_multiplier2",
                 op(quant(dwconv(2, 2, 2, 1, 1), 1, 0)),
                 {i8({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), i8({1, 3, 3, 2}, filter), none(),
                  i32({2}, {kOne, kOne}), i32({2}, {1, -1})},
                 i8({1, 2, 2, 2}, {8, 0, 12, 1, 20, 3, 24, 4})});
  }

  // Depthwise int8, non-square 1x3 kernel [1 -2 1] with dilation 2 along width, VALID,
  // 2 channels, input zp -3, output zp 3, per-channel scales 1.0 and 0.5.
  // width 5: ch0 = [-3 0 3 6 9] -> +3 = [0 3 6 9 12]; ch1 = [1 1 1 1 21] -> [4 4 4 4 24].
  // Taps x, x+2, x+4 (out width 1): ch0: 0 - 12 + 12 = 0; ch1: 4 - 8 + 24 = 20 -> x0.5 = 10.
  // Output + 3: [3, 13].
  c.push_back(
      {"depthwise_i8_nonsquare_dilation",
       op(quant(dwconv(1, 1, 1, 0, 0, 1, 2), -3, 3)),
       {i8({1, 1, 5, 2}, {-3, 1, 0, 1, 3, 1, 6, 1, 9, 21}), i8({1, 1, 3, 2}, {1, 1, -2, -2, 1, 1}),
        none(), i32({2}, {kOne, kOne}), i32({2}, {1, 0})},
       i8({1, 1, 1, 2}, {3, 13})});

  // Fully connected float: rows [1 2 3] and [0 1 0]; units [1 0 -1] + 1 and [.5 .5 .5];
  // row0: -1, 3; row1: 1, 0.5; then RELU: -1 -> 0.
  c.push_back({"fc_f32_two_rows_relu",
               op(fclamp(fc(), 0.0f, kInf)),
               {f32({2, 3}, {1, 2, 3, 0, 1, 0}), f32({2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f}),
                f32({2}, {1, 0})},
               f32({2, 2}, {0, 3, 1, 0.5f})});

  // Fully connected int8: input zp -1 ([[1 2] [3 4]] -> [[2 3] [4 5]]), filter
  // [[1 1] [2 -1] [-1 0]], bias [0 5 0], scale 0.5 per unit (per-tensor expanded), out zp 3.
  // row0 acc [5 6 -2] -> [3 3 -1] -> [6 6 2]; row1 acc [9 8 -4] -> [5 4 -2] -> [8 7 1].
  c.push_back({"fc_i8",
               op(quant(fc(), -1, 3)),
               {i8({2, 2}, {1, 2, 3, 4}), i8({3, 2}, {1, 1, 2, -1, -1, 0}), i32({3}, {0, 5, 0}),
                i32({3}, {kOne, kOne, kOne}), i32({3}, {0, 0, 0})},
               i8({2, 3}, {6, 6, 2, 8, 7, 1})});

  // FC on a rank-4 input flattened to one row of 4 (the reshape TFLite folds in): input zp
  // 0, filter [[1 1 1 1]], scale 1, out zp 0: 30 + 40 + 50 + 7 = 127 (exactly the max).
  c.push_back({"fc_i8_flattens_input",
               op(quant(fc(), 0, 0)),
               {i8({1, 2, 2, 1}, {30, 40, 50, 7}), i8({1, 4}, {1, 1, 1, 1}), none(),
                i32({1}, {kOne}), i32({1}, {1})},
               i8({1, 1}, {127})});

  // Average pool int8, 2x2 stride 2 SAME on 3x3: out 2x2, padding 1 after only, so windows
  // at the right/bottom border hold 2, 2 and 1 real taps. ch0 = 1..9, ch1 = -1..-9.
  // ch0: 12/4 = 3, 9/2 = 4.5 -> 5, 15/2 = 7.5 -> 8, 9/1 = 9; ch1 negated (ties away from 0).
  {
    std::vector<int8_t> in;
    for (int i = 1; i <= 9; ++i) {
      in.push_back(static_cast<int8_t>(i));
      in.push_back(static_cast<int8_t>(-i));
    }
    c.push_back({"avgpool_i8_partial_windows",
                 pool(Pool::average, pool_params(2, 2, 2, 2, 0, 0)),
                 {i8({1, 3, 3, 2}, in)},
                 i8({1, 2, 2, 2}, {3, -3, 5, -5, 8, -8, 9, -9})});
    // Same, clamped to [-4, 4] (a quantized RELU-like range).
    c.push_back({"avgpool_i8_clamp",
                 pool(Pool::average, pool_params(2, 2, 2, 2, 0, 0, -4, 4)),
                 {i8({1, 3, 3, 2}, in)},
                 i8({1, 2, 2, 2}, {3, -3, 4, -4, 4, -4, 4, -4})});
  }
  // Average pool float, same geometry on g3: 3, 4.5, 7.5, 9.
  c.push_back({"avgpool_f32_partial_windows",
               pool(Pool::average, pool_params(2, 2, 2, 2, 0, 0)),
               {g3},
               f32({1, 2, 2, 1}, {3, 4.5f, 7.5f, 9})});
  // Average pool with padding before: 3x3 SAME stride 1 on 2x2 (pad 1): every window holds
  // all 4 inputs [1 2 3 4]: float 2.5; int8 (10 + 2) / 4 = 3.
  c.push_back({"avgpool_f32_pad_before",
               pool(Pool::average, pool_params(3, 3, 1, 1, 1, 1)),
               {f32({1, 2, 2, 1}, {1, 2, 3, 4})},
               f32({1, 2, 2, 1}, {2.5f, 2.5f, 2.5f, 2.5f})});
  c.push_back({"avgpool_i8_pad_before",
               pool(Pool::average, pool_params(3, 3, 1, 1, 1, 1)),
               {i8({1, 2, 2, 1}, {1, 2, 3, 4})},
               i8({1, 2, 2, 1}, {3, 3, 3, 3})});

  // Max pool int8, 2x2 stride 2 VALID on 4x4 with -128s:
  //   -128 -5 | 3 7 / -100 -128 | 2 -1 / 10 20 | -128 -128 / 30 0 | -128 -127
  // -> -5 7 30 -127; with RELU clamp [0, 127] -> 0 7 30 0.
  {
    const T in = i8({1, 4, 4, 1},
                    {-128, -5, 3, 7, -100, -128, 2, -1, 10, 20, -128, -128, 30, 0, -128, -127});
    c.push_back({"maxpool_i8",
                 pool(Pool::max, pool_params(2, 2, 2, 2, 0, 0)),
                 {in},
                 i8({1, 2, 2, 1}, {-5, 7, 30, -127})});
    c.push_back({"maxpool_i8_relu",
                 pool(Pool::max, pool_params(2, 2, 2, 2, 0, 0, 0, 127)),
                 {in},
                 i8({1, 2, 2, 1}, {0, 7, 30, 0})});
  }
  // Max pool float, non-square 1x2 window, SAME stride 1 on width 3 (padding 1 after):
  // windows [0,1] [1,2] [2] over [-1 -3 -2] -> -1 -2 -2.
  c.push_back({"maxpool_f32_nonsquare_same",
               pool(Pool::max, pool_params(1, 2, 1, 1, 0, 0)),
               {f32({1, 1, 3, 1}, {-1, -3, -2})},
               f32({1, 1, 3, 1}, {-1, -2, -2})});
  return c;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ConvKernels : public ::testing::TestWithParam<Case> {};

TEST_P(ConvKernels, MatchesHandComputedOutput) {
  const Case& k = GetParam();
  ASSERT_EQ(check(k.op, k.inputs, k.expected), Status::ok);
  const T got = run(k.op, k.inputs, k.expected);
  if (k.expected.type == DType::f32)
    EXPECT_EQ(got.values<float>(), k.expected.values<float>());
  else
    EXPECT_EQ(got.values<int8_t>(), k.expected.values<int8_t>());
}

INSTANTIATE_TEST_SUITE_P(Table, ConvKernels, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// ---- check_ rejections -----------------------------------------------------------------

struct Reject {
  std::string name;
  Op op;
  std::vector<T> inputs;
  T output;
  Status want;
};

std::vector<Reject> rejections() {
  const T in = f32({1, 3, 3, 1}, iota_f(9));
  const T w = f32({1, 2, 2, 1}, {1, 0, 0, 1});
  const T out = f32({1, 2, 2, 1}, {0, 0, 0, 0});
  const T in8 = i8({1, 3, 3, 1}, std::vector<int8_t>(9, 0));
  const T w8 = i8({1, 2, 2, 1}, {1, 0, 0, 1});
  const T out8 = i8({1, 2, 2, 1}, {0, 0, 0, 0});
  const T m1 = i32({1}, {kOne});
  const T s1 = i32({1}, {1});
  const Op c = op(conv(1, 1, 0, 0));
  const Op c8 = op(quant(conv(1, 1, 0, 0), 0, 0));
  std::vector<Reject> r;
  r.push_back({"conv_wrong_output_channels",
               c,
               {in, w, none()},
               f32({1, 2, 2, 2}, std::vector<float>(8)),
               Status::bad_shape});
  r.push_back({"conv_output_too_large",
               c,
               {in, w, none()},
               f32({1, 4, 4, 1}, std::vector<float>(16)),
               Status::bad_shape});
  r.push_back({"conv_output_too_small",
               c,
               {in, w, none()},
               f32({1, 1, 2, 1}, std::vector<float>(2)),
               Status::bad_shape});
  r.push_back({"conv_batch_mismatch",
               c,
               {in, w, none()},
               f32({2, 2, 2, 1}, std::vector<float>(8)),
               Status::bad_shape});
  r.push_back(
      {"conv_filter_rank3", c, {in, f32({1, 2, 2}, {1, 0, 0, 1}), none()}, out, Status::bad_shape});
  r.push_back({"conv_groups_do_not_divide",
               c,
               {f32({1, 3, 3, 3}, std::vector<float>(27)), f32({1, 2, 2, 2}, std::vector<float>(8)),
                none()},
               out,
               Status::bad_shape});
  r.push_back({"conv_stride0", op(conv(0, 1, 0, 0)), {in, w, none()}, out, Status::bad_params});
  r.push_back(
      {"conv_dilation0", op(conv(1, 1, 0, 0, 1, 0)), {in, w, none()}, out, Status::bad_params});
  r.push_back(
      {"conv_negative_pad", op(conv(1, 1, -1, 0)), {in, w, none()}, out, Status::bad_params});
  r.push_back({"conv_pad_as_wide_as_filter",
               op(conv(1, 1, 2, 0)),
               {in, w, none()},
               f32({1, 4, 2, 1}, std::vector<float>(8)),
               Status::bad_shape});
  r.push_back({"conv_bias_wrong_size", c, {in, w, f32({2}, {0, 0})}, out, Status::bad_shape});
  r.push_back({"conv_bias_wrong_type", c, {in, w, i32({1}, {0})}, out, Status::bad_shape});
  r.push_back({"conv_mixed_types_hybrid", c, {in, w8, none()}, out, Status::bad_params});
  r.push_back({"conv_int16_input",
               c,
               {T::of(DType::i16, {1, 3, 3, 1}, std::vector<int16_t>(9)), w, none()},
               out,
               Status::bad_params});
  r.push_back({"conv_nan_clamp",
               op(fclamp(conv(1, 1, 0, 0), std::numeric_limits<float>::quiet_NaN(), 1.0f)),
               {in, w, none()},
               out,
               Status::bad_params});
  r.push_back({"conv_i8_missing_multipliers", c8, {in8, w8, none()}, out8, Status::bad_params});
  r.push_back({"conv_i8_multiplier_wrong_size",
               c8,
               {in8, w8, none(), i32({2}, {kOne, kOne}), s1},
               out8,
               Status::bad_shape});
  r.push_back({"conv_i8_shift_absent", c8, {in8, w8, none(), m1, none()}, out8, Status::bad_shape});
  r.push_back(
      {"conv_i8_bias_float", c8, {in8, w8, f32({1}, {0}), m1, s1}, out8, Status::bad_shape});
  r.push_back({"conv_i8_input_offset_out_of_range",
               op(quant(conv(1, 1, 0, 0), -200, 0)),
               {in8, w8, none(), m1, s1},
               out8,
               Status::bad_params});
  r.push_back({"conv_i8_output_offset_out_of_range",
               op(quant(conv(1, 1, 0, 0), 0, 128)),
               {in8, w8, none(), m1, s1},
               out8,
               Status::bad_params});
  r.push_back({"conv_i8_clamp_inverted",
               op(quant(conv(1, 1, 0, 0), 0, 0, 10, -10)),
               {in8, w8, none(), m1, s1},
               out8,
               Status::bad_params});
  r.push_back({"conv_i8_clamp_outside_int8",
               op(quant(conv(1, 1, 0, 0), 0, 0, -129, 127)),
               {in8, w8, none(), m1, s1},
               out8,
               Status::bad_params});

  const T dw_in = f32({1, 2, 2, 2}, std::vector<float>(8));
  r.push_back({"depthwise_channels_not_ic_times_m",
               op(dwconv(2, 1, 1, 0, 0)),
               {dw_in, f32({1, 2, 2, 3}, std::vector<float>(12)), none()},
               f32({1, 1, 1, 3}, {0, 0, 0}),
               Status::bad_shape});
  r.push_back({"depthwise_multiplier0",
               op(dwconv(0, 1, 1, 0, 0)),
               {dw_in, f32({1, 2, 2, 2}, std::vector<float>(8)), none()},
               f32({1, 1, 1, 2}, {0, 0}),
               Status::bad_params});
  r.push_back({"depthwise_filter_batch2",
               op(dwconv(1, 1, 1, 0, 0)),
               {dw_in, f32({2, 2, 2, 2}, std::vector<float>(16)), none()},
               f32({1, 1, 1, 2}, {0, 0}),
               Status::bad_shape});

  const Op f = op(fc());
  r.push_back({"fc_rows_mismatch",
               f,
               {f32({1, 5}, std::vector<float>(5)), f32({2, 3}, std::vector<float>(6)), none()},
               f32({1, 2}, {0, 0}),
               Status::bad_shape});
  r.push_back({"fc_units_mismatch",
               f,
               {f32({1, 3}, std::vector<float>(3)), f32({2, 3}, std::vector<float>(6)), none()},
               f32({1, 3}, {0, 0, 0}),
               Status::bad_shape});
  r.push_back({"fc_filter_rank3",
               f,
               {f32({1, 3}, std::vector<float>(3)), f32({2, 3, 1}, std::vector<float>(6)), none()},
               f32({1, 2}, {0, 0}),
               Status::bad_shape});
  r.push_back({"fc_i8_too_few_inputs",
               op(quant(fc(), 0, 0)),
               {i8({1, 3}, {0, 0, 0}), i8({2, 3}, std::vector<int8_t>(6)), none()},
               i8({1, 2}, {0, 0}),
               Status::bad_params});

  const Op ap = pool(Pool::average, pool_params(2, 2, 2, 2, 0, 0));
  r.push_back({"pool_channel_mismatch", ap, {in}, f32({1, 1, 1, 2}, {0, 0}), Status::bad_shape});
  r.push_back({"pool_output_too_large",
               ap,
               {in},
               f32({1, 3, 3, 1}, std::vector<float>(9)),
               Status::bad_shape});
  r.push_back({"pool_type_mismatch", ap, {in}, i8({1, 1, 1, 1}, {0}), Status::bad_params});
  r.push_back({"pool_filter0",
               pool(Pool::max, pool_params(0, 2, 1, 1, 0, 0)),
               {in},
               f32({1, 3, 2, 1}, std::vector<float>(6)),
               Status::bad_params});
  // A window that would lie entirely in padding (pad = filter) would divide by zero.
  r.push_back({"pool_window_all_padding",
               pool(Pool::average, pool_params(2, 2, 1, 1, 2, 0)),
               {in},
               f32({1, 4, 2, 1}, std::vector<float>(8)),
               Status::bad_shape});
  r.push_back({"pool_two_inputs", ap, {in, in}, f32({1, 1, 1, 1}, {0}), Status::bad_params});
  return r;
}

void PrintTo(const Reject& r, std::ostream* os) { *os << r.name; }

class ConvKernelChecks : public ::testing::TestWithParam<Reject> {};

TEST_P(ConvKernelChecks, RejectsInconsistentOps) {
  const Reject& r = GetParam();
  EXPECT_EQ(check(r.op, r.inputs, r.output), r.want)
      << status_name(check(r.op, r.inputs, r.output));
}

INSTANTIATE_TEST_SUITE_P(Table, ConvKernelChecks, ::testing::ValuesIn(rejections()),
                         [](const auto& info) { return info.param.name; });

// The baseline the rejections start from is accepted, so each rejection is due to its one
// change.
TEST(ConvKernelChecks, BaselinesAreAccepted) {
  const T in = f32({1, 3, 3, 1}, iota_f(9));
  const T w = f32({1, 2, 2, 1}, {1, 0, 0, 1});
  const T out = f32({1, 2, 2, 1}, {0, 0, 0, 0});
  EXPECT_EQ(check(op(conv(1, 1, 0, 0)), {in, w, none()}, out), Status::ok);
  // SAME-style output (3x3 with the odd padding after) is also a valid geometry.
  EXPECT_EQ(check(op(conv(1, 1, 0, 0)), {in, w, none()}, f32({1, 3, 3, 1}, std::vector<float>(9))),
            Status::ok);
  const T in8 = i8({1, 3, 3, 1}, std::vector<int8_t>(9, 0));
  const T w8 = i8({1, 2, 2, 1}, {1, 0, 0, 1});
  EXPECT_EQ(
      check(op(quant(conv(1, 1, 0, 0), 0, 0)), {in8, w8, none(), i32({1}, {kOne}), i32({1}, {1})},
            i8({1, 2, 2, 1}, {0, 0, 0, 0})),
      Status::ok);
  EXPECT_EQ(check(op(dwconv(1, 1, 1, 0, 0)),
                  {f32({1, 2, 2, 2}, std::vector<float>(8)),
                   f32({1, 2, 2, 2}, std::vector<float>(8)), none()},
                  f32({1, 1, 1, 2}, {0, 0})),
            Status::ok);
  EXPECT_EQ(check(op(fc()),
                  {f32({1, 3}, std::vector<float>(3)), f32({2, 3}, std::vector<float>(6)), none()},
                  f32({1, 2}, {0, 0})),
            Status::ok);
  EXPECT_EQ(check(pool(Pool::average, pool_params(2, 2, 2, 2, 0, 0)), {in}, f32({1, 1, 1, 1}, {0})),
            Status::ok);
}

}  // namespace
}  // namespace tinyforge
