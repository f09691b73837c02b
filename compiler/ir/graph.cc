#include "ir/graph.h"

#include <fmt/format.h>

namespace tinyforge::ir {

std::string Graph::node_label(size_t i) const {
  const Node& n = nodes.at(i);
  std::string s = fmt::format("op {} ({}", i, op_info(n.op).name);
  if (!n.name.empty()) s += fmt::format(" '{}'", n.name);
  return s + ")";
}

void Graph::check() const {
  const int count = static_cast<int>(tensors.size());
  std::vector<char> defined(tensors.size(), 0);
  auto where = [&](const std::string& what) {
    return source.empty() ? what : fmt::format("{}: {}", source, what);
  };
  for (int t : inputs) {
    if (t < 0 || t >= count)
      throw Error(where(fmt::format("model input tensor {} out of range", t)));
    defined[t] = 1;
  }
  for (int t = 0; t < count; ++t)
    if (tensors[t].constant || tensors[t].variable) defined[t] = 1;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    for (int t : n.inputs) {
      if (t == -1) continue;
      if (t < 0 || t >= count)
        throw Error(where(fmt::format("{}: input tensor {} out of range", node_label(i), t)));
      if (!defined[t])
        throw Error(where(fmt::format(
            "{}: reads tensor {} ('{}') before any op writes it (cyclic or unordered graph)",
            node_label(i), t, tensors[t].name)));
    }
    for (int t : n.outputs) {
      if (t < 0 || t >= count)
        throw Error(where(fmt::format("{}: output tensor {} out of range", node_label(i), t)));
      if (defined[t])
        throw Error(where(fmt::format("{}: writes tensor {} ('{}') that is already defined",
                                      node_label(i), t, tensors[t].name)));
      defined[t] = 1;
    }
  }
  for (int t : outputs) {
    if (t < 0 || t >= count)
      throw Error(where(fmt::format("model output tensor {} out of range", t)));
    if (!defined[t]) throw Error(where(fmt::format("model output tensor {} is never written", t)));
  }
}

}  // namespace tinyforge::ir
