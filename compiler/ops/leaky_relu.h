// IR params of LeakyRelu: declared here so importers and tests can build nodes.
#pragma once

namespace tinyforge::ops {

// TFLite LeakyReluOptions / ONNX LeakyRelu's attribute: the slope for x <= 0.
struct LeakyReluOptions {
  float alpha = 0.2f;
  bool operator==(const LeakyReluOptions& o) const { return alpha == o.alpha; }
};

}  // namespace tinyforge::ops
