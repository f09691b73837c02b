// A weighted layer described as a grouped 2-D convolution over an NHWC input, so that the
// passes working on weights (bias correction, the pruner's least-squares refit) need not
// know which op it is. A fully-connected layer is a 1x1 convolution whose positions are its
// input rows. Each weighted op fills it in its host file (ops::HostOp::weight_geometry).
#pragma once
#include <cstdint>

namespace tinyforge::ir {

struct WeightGeometry {
  int32_t batch = 1, h = 1, w = 1, c = 1;  // input, NHWC
  int32_t oh = 1, ow = 1;                  // output positions per batch
  int32_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int32_t pad_top = 0, pad_left = 0;  // padding before the first element
  int32_t out_channels = 0;
  int32_t groups = 1;    // output channel oc reads input group oc / out_per_group()
  int32_t group_in = 1;  // input channels per group
  // Weight (oc, e), e indexing the patch [kh][kw][group_in], is stored at oc * patch() + e,
  // or at e * out_channels + oc when the output channel is the fastest axis (a depthwise
  // filter [1, KH, KW, OC]).
  bool out_channel_fastest = false;

  int32_t patch() const { return kh * kw * group_in; }
  int32_t out_per_group() const { return out_channels / groups; }
  int64_t positions() const { return int64_t{batch} * oh * ow; }
  int64_t weight_index(int32_t oc, int32_t e) const {
    return out_channel_fastest ? int64_t{e} * out_channels + oc : int64_t{oc} * patch() + e;
  }
  // The input channel weight (oc, e) multiplies.
  int32_t input_channel(int32_t oc, int32_t e) const {
    return oc / out_per_group() * group_in + e % group_in;
  }
};

}  // namespace tinyforge::ir
