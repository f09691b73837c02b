#include "ops/window.h"

#include <nlohmann/json.hpp>

namespace tinyforge::ops {

void describe_window(const WindowAttrs& a, nlohmann::json& out) {
  out["stride"] = {a.stride_h, a.stride_w};
  out["padding"] = a.padding == ir::Padding::same    ? "same"
                   : a.padding == ir::Padding::valid ? "valid"
                                                     : "explicit";
}

}  // namespace tinyforge::ops
