// Facts used: TFLite's asymmetric parameter choice (tensorflow/lite/tools/optimize/
// quantization_utils.cc, GetAsymmetricQuantizationParams): widen [min, max] to include 0,
// scale = (max - min) / (qmax - qmin), zero point from whichever end gives the smaller
// error, nudged to an integer in [qmin, qmax]; symmetric per-channel weights in
// [-127, 127] (quantization spec); bias overflow handled by raising the weight scale
// (quantization_utils.cc, AdjustWeightsForBiasScale).
#include "quantize/quant_params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tinyforge::quantize {
namespace {

constexpr float kQMin = -128.0f, kQMax = 127.0f;
constexpr float kWeightMax = 127.0f;
constexpr double kBiasLimit = 2147483647.0;

void require_float_constant(const ir::Tensor& t, const char* role) {
  if (!t.constant || t.type != DType::f32 || static_cast<int64_t>(t.data.size()) != t.bytes())
    throw tinyforge::Error(
        fmt::format("{} '{}' is not a float32 constant; expected float weights to "
                    "quantize",
                    role, t.name));
}

// Elements per step along `axis` and the channel count.
struct AxisLayout {
  int64_t inner = 1;
  int32_t channels = 1;
};
AxisLayout axis_layout(const ir::Tensor& w, int axis) {
  if (axis < 0 || axis >= static_cast<int>(w.shape.size()))
    throw tinyforge::Error(fmt::format("tensor '{}' has rank {}; cannot quantize along axis {}",
                                       w.name, w.shape.size(), axis));
  AxisLayout l;
  l.channels = w.shape[static_cast<size_t>(axis)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < w.shape.size(); ++d) l.inner *= w.shape[d];
  return l;
}

}  // namespace

ir::Quant activation_params(Range r) {
  float lo = std::min(r.min, 0.0f), hi = std::max(r.max, 0.0f);
  if (!(hi - lo > 0.0f) || !std::isfinite(hi - lo)) {
    lo = 0.0f;
    hi = 1.0f;
  }
  const float scale = (hi - lo) / (kQMax - kQMin);
  const float zp_from_min = kQMin - lo / scale;
  const float zp_from_max = kQMax - hi / scale;
  const float error_from_min = std::abs(kQMin) + std::abs(lo / scale);
  const float error_from_max = std::abs(kQMax) + std::abs(hi / scale);
  const float zp_real = error_from_min < error_from_max ? zp_from_min : zp_from_max;
  const float zp = zp_real <= kQMin ? kQMin : zp_real >= kQMax ? kQMax : std::round(zp_real);
  ir::Quant q;
  q.scale = {scale};
  q.zero_point = {static_cast<int32_t>(zp)};
  return q;
}

int8_t quantize_value(float real, float scale, int32_t zero_point) {
  const float q = std::round(real / scale) + static_cast<float>(zero_point);
  return static_cast<int8_t>(std::clamp(q, kQMin, kQMax));
}

std::vector<float> weight_scales(const ir::Tensor& w, int axis) {
  require_float_constant(w, "weights");
  const AxisLayout l = axis_layout(w, axis);
  std::vector<float> max_abs(static_cast<size_t>(l.channels), 0.0f);
  for (int64_t i = 0; i < w.elements(); ++i) {
    const auto c = static_cast<size_t>((i / l.inner) % l.channels);
    max_abs[c] = std::max(max_abs[c], std::abs(w.at<float>(i)));
  }
  std::vector<float> scales;
  for (float m : max_abs) scales.push_back((m > 0.0f && std::isfinite(m) ? m : 1.0f) / kWeightMax);
  return scales;
}

float per_tensor_scale(const std::vector<float>& channel_scales) {
  float s = 0.0f;
  for (float c : channel_scales) s = std::max(s, c);
  return s;
}

void fit_bias_range(const ir::Tensor* bias, float input_scale, std::vector<float>& scales) {
  if (bias == nullptr) return;
  require_float_constant(*bias, "bias");
  if (scales.size() != 1 && bias->elements() != static_cast<int64_t>(scales.size()))
    throw tinyforge::Error(fmt::format("bias '{}' has {} elements for {} output channels",
                                       bias->name, bias->elements(), scales.size()));
  for (int64_t c = 0; c < bias->elements(); ++c) {
    float& scale = scales[scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    const double b = std::abs(static_cast<double>(bias->at<float>(c)));
    const double needed = b / (kBiasLimit * static_cast<double>(input_scale));
    if (needed > scale) scale = static_cast<float>(needed * (1.0 + 1e-6));
  }
}

ir::Tensor quantize_weights(const ir::Tensor& w, int axis, const std::vector<float>& scales) {
  require_float_constant(w, "weights");
  const AxisLayout l = axis_layout(w, axis);
  if (scales.size() != 1 && scales.size() != static_cast<size_t>(l.channels))
    throw tinyforge::Error(
        fmt::format("weights '{}': {} scales for {} channels", w.name, scales.size(), l.channels));
  ir::Tensor q = w;
  q.type = DType::i8;
  q.data.assign(static_cast<size_t>(w.elements()), 0);
  for (int64_t i = 0; i < w.elements(); ++i) {
    const size_t c = scales.size() == 1 ? 0 : static_cast<size_t>((i / l.inner) % l.channels);
    const float v = std::round(w.at<float>(i) / scales[c]);
    q.data[static_cast<size_t>(i)] =
        static_cast<uint8_t>(static_cast<int8_t>(std::clamp(v, -kWeightMax, kWeightMax)));
  }
  q.quant.scale = scales;
  q.quant.zero_point.assign(scales.size(), 0);
  q.quant.axis = scales.size() == 1 ? 0 : axis;
  return q;
}

ir::Tensor quantize_bias(const ir::Tensor& b, float input_scale, const std::vector<float>& scales) {
  require_float_constant(b, "bias");
  if (scales.size() != 1 && b.elements() != static_cast<int64_t>(scales.size()))
    throw tinyforge::Error(fmt::format("bias '{}' has {} elements for {} output channels", b.name,
                                       b.elements(), scales.size()));
  ir::Tensor q = b;
  q.type = DType::i32;
  q.quant = ir::Quant{};
  q.quant.axis = 0;
  // TFLite's kernels check bias_scale against float(input_scale * filter_scale).
  for (float s : scales) {
    q.quant.scale.push_back(input_scale * s);
    q.quant.zero_point.push_back(0);
  }
  q.data.assign(static_cast<size_t>(b.elements()) * 4, 0);
  for (int64_t c = 0; c < b.elements(); ++c) {
    const float scale = q.quant.scale[scales.size() == 1 ? 0 : static_cast<size_t>(c)];
    const double v = std::round(static_cast<double>(b.at<float>(c)) / scale);
    const auto i = static_cast<int32_t>(std::clamp(v, -kBiasLimit, kBiasLimit));
    std::memcpy(q.data.data() + static_cast<size_t>(c) * 4, &i, 4);
  }
  return q;
}

ir::Tensor quantize_constant(const ir::Tensor& t) {
  require_float_constant(t, "constant");
  Range r{0.0f, 0.0f};
  for (int64_t i = 0; i < t.elements(); ++i) {
    const float v = t.at<float>(i);
    if (!std::isfinite(v)) continue;
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
  ir::Tensor q = t;
  q.type = DType::i8;
  q.quant = activation_params(r);
  q.data.assign(static_cast<size_t>(t.elements()), 0);
  for (int64_t i = 0; i < t.elements(); ++i)
    q.data[static_cast<size_t>(i)] = static_cast<uint8_t>(
        quantize_value(t.at<float>(i), q.quant.scale[0], q.quant.zero_point[0]));
  return q;
}

ir::Quant int16_state_params(Range r, bool power_of_two) {
  float range = std::max(std::fabs(r.min), std::fabs(r.max));
  if (!(range > 0.0f) || !std::isfinite(range)) range = 1.0f;
  float scale = range / 32767.0f;
  if (power_of_two) {
    int power = 0;  // GetPowerOfTwoScale: at most 10 doublings
    for (int i = 0; i < 10; ++i)
      if (std::pow(2.0f, static_cast<float>(power)) < range) ++power;
    scale = std::pow(2.0f, static_cast<float>(power)) / 32768.0f;
  }
  ir::Quant q;
  q.scale = {scale};
  q.zero_point = {0};
  return q;
}

ir::Tensor quantize_int16_weights(const ir::Tensor& w, float codes) {
  require_float_constant(w, "weights");
  float max_abs = 0.0f;
  for (int64_t i = 0; i < w.elements(); ++i) max_abs = std::max(max_abs, std::fabs(w.at<float>(i)));
  const float scale = (max_abs > 0.0f && std::isfinite(max_abs) ? max_abs : 1.0f) / codes;
  ir::Tensor q = w;
  q.type = DType::i16;
  q.data.assign(static_cast<size_t>(w.elements()) * 2, 0);
  for (int64_t i = 0; i < w.elements(); ++i) {
    const auto v =
        static_cast<int16_t>(std::clamp(std::round(w.at<float>(i) / scale), -32767.0f, 32767.0f));
    std::memcpy(q.data.data() + 2 * i, &v, 2);  // little-endian host
  }
  q.quant.scale = {scale};
  q.quant.zero_point = {0};
  q.quant.axis = 0;
  return q;
}

}  // namespace tinyforge::quantize
