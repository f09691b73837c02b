#include "quantize/bias_correction.h"

#include <cstring>

namespace tinyforge::quantize {
namespace {

// Output channel and input channel of weight element i.
struct Channels {
  int64_t out, in;
};

}  // namespace

ir::Tensor corrected_bias(OpCode op, const ir::Tensor& w, const ir::Tensor& wq,
                          const ir::Tensor* bias, int32_t input_channels,
                          const std::vector<double>& means) {
  const int32_t channels = op == OpCode::DepthwiseConv2D ? w.shape.back() : w.shape.at(0);
  ir::Tensor b;
  if (bias) {
    b = *bias;
  } else {
    b.name = w.name + "/bias";
    b.type = DType::f32;
    b.shape = {channels};
    b.constant = true;
    b.data.assign(static_cast<size_t>(channels) * 4, 0);
  }
  const int32_t last = w.shape.back();
  const bool fits = op == OpCode::FullyConnected
                        ? means.size() == static_cast<size_t>(last)
                        : means.size() == static_cast<size_t>(input_channels) && input_channels > 0;
  const size_t scales = wq.quant.scale.size();
  if (!fits || (scales != 1 && scales != static_cast<size_t>(channels)) || b.elements() != channels)
    return b;

  const int64_t per_out = w.elements() / channels;  // conv / FC: elements per row
  const int32_t groups = op == OpCode::Conv2D ? input_channels / last : 1;
  const int32_t out_per_group = groups > 0 ? channels / groups : channels;
  const int32_t multiplier = op == OpCode::DepthwiseConv2D ? channels / input_channels : 1;
  auto channels_of = [&](int64_t i) -> Channels {
    if (op == OpCode::DepthwiseConv2D) return {i % channels, (i % channels) / multiplier};
    const int64_t out = i / per_out;
    if (op == OpCode::FullyConnected) return {out, i % last};
    return {out, (out / out_per_group) * last + i % last};
  };

  std::vector<double> shift(static_cast<size_t>(channels), 0.0);
  for (int64_t i = 0; i < w.elements(); ++i) {
    const Channels c = channels_of(i);
    const double rounded =
        static_cast<double>(wq.quant.scale[scales == 1 ? 0 : static_cast<size_t>(c.out)]) *
        static_cast<int8_t>(wq.data[static_cast<size_t>(i)]);
    shift[static_cast<size_t>(c.out)] +=
        (rounded - w.at<float>(i)) * means[static_cast<size_t>(c.in)];
  }
  for (int32_t c = 0; c < channels; ++c) {
    const float v = static_cast<float>(b.at<float>(c) - shift[static_cast<size_t>(c)]);
    std::memcpy(b.data.data() + static_cast<size_t>(c) * 4, &v, 4);
  }
  return b;
}

}  // namespace tinyforge::quantize
