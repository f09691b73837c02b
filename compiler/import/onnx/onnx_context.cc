#include "import/onnx/onnx_context.h"

#include <fmt/format.h>

#include <algorithm>

#include "ir/unsupported.h"
#include "ops/transpose.h"

namespace tinyforge::onnx_import {

int64_t Constant::elements() const { return elements_of(shape); }

int64_t elements_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;  // dims are validated to be small, so this cannot overflow
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

std::string clean_name(const std::string& s) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : s.substr(0, kMax))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return s.size() > kMax ? out + "..." : out;
}

std::vector<int32_t> to_channels_last(size_t rank) {
  std::vector<int32_t> p{0};
  for (size_t d = 2; d < rank; ++d) p.push_back(static_cast<int32_t>(d));
  p.push_back(1);
  return p;
}

std::vector<int32_t> from_channels_last(size_t rank) {
  std::vector<int32_t> p{0, static_cast<int32_t>(rank) - 1};
  for (size_t d = 1; d + 1 < rank; ++d) p.push_back(static_cast<int32_t>(d));
  return p;
}

int channels_last_axis(int64_t axis, size_t rank) {
  return from_channels_last(rank)[static_cast<size_t>(axis)];
}

Constant transpose_constant(const Constant& c, const std::vector<int32_t>& perm) {
  Constant r;
  r.is_float = c.is_float;
  const size_t rank = c.shape.size();
  for (int32_t p : perm) r.shape.push_back(c.shape[p]);
  std::vector<int64_t> in_stride(rank, 1);
  for (size_t d = rank; d-- > 1;) in_stride[d - 1] = in_stride[d] * c.shape[d];
  const int64_t n = c.elements();
  std::vector<int64_t> idx(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    int64_t k = 0;
    for (size_t d = 0; d < rank; ++d) k += idx[d] * in_stride[perm[d]];
    if (c.is_float)
      r.f.push_back(c.f[k]);
    else
      r.i.push_back(c.i[k]);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < r.shape[d]) break;
      idx[d] = 0;
    }
  }
  return r;
}

Context::Context(std::string source) : source_(std::move(source)) { graph.source = source_; }

std::string Context::where() const {
  if (node == nullptr) return source_;
  return fmt::format("{}: node '{}' ({}, opset {})", source_, node->name(), node->op_type(), opset);
}

void Context::fail(const std::string& what) const { throw tinyforge::Error(where() + ": " + what); }

void Context::unsupported(const std::string& what) const {
  throw UnsupportedError(where() + ": unsupported: " + what);
}

size_t Context::num_inputs() const { return static_cast<size_t>(node->input_size()); }

bool Context::has_input(size_t i) const {
  return i < num_inputs() && !node->input(static_cast<int>(i)).empty();
}

Value& Context::input(size_t i) {
  if (!has_input(i)) fail(fmt::format("input {} is missing", i));
  const std::string& name = node->input(static_cast<int>(i));
  auto it = values.find(name);
  if (it == values.end())
    fail(
        fmt::format("input '{}' is not a graph input, an initializer or the output of an earlier "
                    "node (the graph must be topologically sorted)",
                    name));
  return it->second;
}

const Constant& Context::constant_input(size_t i, const char* role) {
  Value& v = input(i);
  if (!v.is_constant())
    unsupported(
        fmt::format("{} '{}' is computed at run time; it must be an initializer or constant", role,
                    node->input(static_cast<int>(i))));
  return constants[v.const_index];
}

std::vector<float> Context::float_input(size_t i, const char* role) {
  const Constant& c = constant_input(i, role);
  if (!c.is_float) fail(fmt::format("{} must be a float tensor", role));
  return c.f;
}

std::vector<int64_t> Context::ints_input(size_t i, const char* role) {
  const Constant& c = constant_input(i, role);
  if (c.is_float) fail(fmt::format("{} must be an integer tensor", role));
  return c.i;
}

void Context::set_output(size_t i, Value v) {
  if (i >= static_cast<size_t>(node->output_size()) || node->output(static_cast<int>(i)).empty())
    return;  // optional output not requested
  const std::string& name = node->output(static_cast<int>(i));
  if (values.count(name)) fail(fmt::format("output '{}' is already defined", name));
  for (int t : {v.onnx, v.nhwc, v.flat})
    if (t >= 0 && graph.tensors[t].name.empty()) graph.tensors[t].name = clean_name(name);
  values.emplace(name, std::move(v));
}

bool Context::output_used(size_t i) const {
  if (i >= static_cast<size_t>(node->output_size())) return false;
  const std::string& name = node->output(static_cast<int>(i));
  if (name.empty()) return false;
  auto it = uses.find(name);
  return it != uses.end() && it->second > 0;
}

int Context::uses_of_input(size_t i) const {
  auto it = uses.find(node->input(static_cast<int>(i)));
  return it == uses.end() ? 0 : it->second;
}

const onnx::AttributeProto* Context::attr(const char* name) const {
  for (const onnx::AttributeProto& a : node->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

namespace {
void expect_type(const Context& c, const onnx::AttributeProto& a,
                 onnx::AttributeProto::AttributeType t, const char* what) {
  // Old exporters leave `type` unset (0); accept that when the expected field is present.
  if (a.type() == t) return;
  if (a.type() == onnx::AttributeProto::UNDEFINED) {
    const bool present = (t == onnx::AttributeProto::INT && a.has_i()) ||
                         (t == onnx::AttributeProto::FLOAT && a.has_f()) ||
                         (t == onnx::AttributeProto::STRING && a.has_s()) ||
                         (t == onnx::AttributeProto::INTS && a.ints_size() > 0) ||
                         (t == onnx::AttributeProto::FLOATS && a.floats_size() > 0);
    if (present) return;
  }
  c.fail(fmt::format("attribute '{}' must be {}", a.name(), what));
}
}  // namespace

int64_t Context::attr_int(const char* name, int64_t fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return fallback;
  expect_type(*this, *a, onnx::AttributeProto::INT, "an int");
  return a->i();
}

float Context::attr_float(const char* name, float fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return fallback;
  expect_type(*this, *a, onnx::AttributeProto::FLOAT, "a float");
  return a->f();
}

std::string Context::attr_string(const char* name, const std::string& fallback) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return fallback;
  expect_type(*this, *a, onnx::AttributeProto::STRING, "a string");
  return a->s();
}

std::vector<int64_t> Context::attr_ints(const char* name) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return {};
  expect_type(*this, *a, onnx::AttributeProto::INTS, "a list of ints");
  return {a->ints().begin(), a->ints().end()};
}

std::vector<float> Context::attr_floats(const char* name) const {
  const onnx::AttributeProto* a = attr(name);
  if (a == nullptr) return {};
  expect_type(*this, *a, onnx::AttributeProto::FLOATS, "a list of floats");
  return {a->floats().begin(), a->floats().end()};
}

int Context::add_constant(Constant c) {
  if (c.shape.size() > kMaxConstRank)
    fail(fmt::format("constant of rank {} is too large", c.shape.size()));
  for (int64_t d : c.shape)
    if (d < 0 || d > kMaxDim) fail(fmt::format("constant dim {} out of range", d));
  const int64_t n = elements_of(c.shape);
  if (n > kMaxElements) fail("constant too large");
  if (static_cast<int64_t>(c.is_float ? c.f.size() : c.i.size()) != n)
    fail("internal error: constant data does not match its shape");
  constants.push_back(std::move(c));
  return static_cast<int>(constants.size()) - 1;
}

Value Context::constant_value(Constant c) {
  Value v;
  v.shape = c.shape;
  v.const_index = add_constant(std::move(c));
  return v;
}

Value Context::scalar_value(float f) {
  Constant c;
  c.shape = {1};
  c.f = {f};
  return constant_value(std::move(c));
}

int Context::ir_constant(const std::string& name, std::vector<int32_t> shape,
                         const std::vector<float>& data) {
  ir::Tensor t;
  t.name = clean_name(name);
  t.type = DType::f32;
  t.shape = std::move(shape);
  t.constant = true;
  if (t.elements() != static_cast<int64_t>(data.size()))
    fail(fmt::format("internal error: constant '{}' data does not match its shape", name));
  t.data.resize(data.size() * sizeof(float));
  if (!data.empty()) std::memcpy(t.data.data(), data.data(), t.data.size());
  return graph.add_tensor(std::move(t));
}

std::vector<int32_t> Context::ir_shape(const Shape& s) const {
  if (s.size() > kMaxRank)
    unsupported(fmt::format("tensor of rank {} {} (the runtime supports rank <= {})", s.size(),
                            shape_str(s), kMaxRank));
  std::vector<int32_t> out;
  for (int64_t d : s) {
    if (d < 1 || d > kMaxDim)
      fail(fmt::format("dimension {} of shape {} is out of range", d, shape_str(s)));
    out.push_back(static_cast<int32_t>(d));
  }
  if (elements_of(s) > kMaxElements)
    fail(fmt::format("tensor of shape {} is too large", shape_str(s)));
  return out;
}

int Context::emit(OpCode op, std::vector<int> inputs, const std::vector<int32_t>& shape,
                  ir::Params params, const std::string& name) {
  ir::Tensor t;
  t.name = clean_name(name);
  t.type = DType::f32;
  t.shape = shape;
  const int out = graph.add_tensor(std::move(t));
  ir::Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = {out};
  n.params = std::move(params);
  n.name = clean_name(node != nullptr && !node->name().empty() ? node->name() : name);
  graph.nodes.push_back(std::move(n));
  return out;
}

int Context::reshape(int tensor, const std::vector<int32_t>& shape, const std::string& name) {
  if (shape_of(tensor) == shape) return tensor;
  // Reshape of a Reshape: read the first one's input (the middle one dies if unused).
  const int p = producer(tensor);
  if (p >= 0 && graph.nodes[p].op == OpCode::Reshape && graph.nodes[p].inputs[0] >= 0) {
    tensor = graph.nodes[p].inputs[0];
    if (shape_of(tensor) == shape) return tensor;
  }
  return emit(OpCode::Reshape, {tensor}, shape, ir::Params{}, name);
}

int Context::transpose(int tensor, const std::vector<int32_t>& perm, const std::string& name) {
  const std::vector<int32_t> in = shape_of(tensor);
  std::vector<int32_t> out;
  for (int32_t p : perm) out.push_back(in[p]);
  // The bytes stay in place when the dims larger than 1 keep their relative order.
  int last = -1;
  bool in_order = true;
  for (int32_t p : perm) {
    if (in[p] == 1) continue;
    if (p < last) in_order = false;
    last = p;
  }
  if (in_order) return reshape(tensor, out, name);
  return emit(OpCode::Transpose, {tensor}, out, ops::TransposeAttrs{perm}, name);
}

int Context::producer(int tensor) const {
  for (size_t i = graph.nodes.size(); i-- > 0;)
    for (int o : graph.nodes[i].outputs)
      if (o == tensor) return static_cast<int>(i);
  return -1;
}

int Context::readers(int tensor) const {
  int n = 0;
  for (const ir::Node& node : graph.nodes)
    for (int t : node.inputs) n += t == tensor;
  return n;
}

int Context::producer_through_reshape(int tensor) const {
  const int p = producer(tensor);
  if (p < 0 || graph.nodes[p].op != OpCode::Reshape) return p;
  const int src = graph.nodes[p].inputs[0];
  return readers(src) == 1 ? producer(src) : p;
}

int Context::materialize(const Value& v, const Shape& shape, const std::string& name) {
  // Source dims larger than 1, renumbered; the value's order over them.
  std::vector<int> compact(v.view_dims.size(), -1);
  Shape sizes;
  for (size_t d = 0; d < v.view_dims.size(); ++d)
    if (v.view_dims[d] != 1) {
      compact[d] = static_cast<int>(sizes.size());
      sizes.push_back(v.view_dims[d]);
    }
  std::vector<int> order;
  for (int32_t p : v.view_perm)
    if (compact[p] >= 0) order.push_back(compact[p]);
  // Groups: runs of source dims that stay next to each other in the value.
  std::vector<int> group_of(sizes.size(), -1);
  int groups = 0;
  for (size_t i = 0; i < order.size(); ++i)
    group_of[order[i]] = i > 0 && order[i] == order[i - 1] + 1 ? group_of[order[i - 1]] : groups++;
  // Groups renumbered in source order, with their sizes; `target`: the value's group order.
  std::vector<int> rank_of(static_cast<size_t>(groups), -1);
  Shape group_size;
  for (size_t d = 0; d < sizes.size(); ++d) {
    int& r = rank_of[group_of[d]];
    if (r < 0) {
      r = static_cast<int>(group_size.size());
      group_size.push_back(1);
    }
    group_size[r] *= sizes[d];
  }
  std::vector<int> target;
  for (size_t i = 0; i < order.size(); ++i)
    if (i == 0 || group_of[order[i]] != group_of[order[i - 1]])
      target.push_back(rank_of[group_of[order[i]]]);

  int t = v.view_source;
  if (target.size() <= kMaxRank) {
    t = reshape(t, ir_shape(group_size.empty() ? Shape{1} : group_size), name + "/groups");
    t = transpose(t, std::vector<int32_t>(target.begin(), target.end()), name + "/permute");
  } else {
    // Put target[i] in place i by swapping it with the block before it:
    // [placed, block, target[i], rest] -> [placed, target[i], block, rest].
    std::vector<int> cur(target.size());
    for (size_t i = 0; i < cur.size(); ++i) cur[i] = static_cast<int>(i);
    for (size_t i = 0; i < target.size(); ++i) {
      const auto j =
          static_cast<size_t>(std::find(cur.begin(), cur.end(), target[i]) - cur.begin());
      if (j == i) continue;
      int64_t placed = 1, block = 1, rest = 1;
      for (size_t k = 0; k < i; ++k) placed *= group_size[cur[k]];
      for (size_t k = i; k < j; ++k) block *= group_size[cur[k]];
      for (size_t k = j + 1; k < cur.size(); ++k) rest *= group_size[cur[k]];
      t = reshape(t, ir_shape({placed, block, group_size[cur[j]], rest}), name + "/blocks");
      t = transpose(t, {0, 2, 1, 3}, fmt::format("{}/swap{}", name, i));
      const int moved = cur[j];
      cur.erase(cur.begin() + static_cast<std::ptrdiff_t>(j));
      cur.insert(cur.begin() + static_cast<std::ptrdiff_t>(i), moved);
    }
  }
  return reshape(t, ir_shape(shape), name);
}

int Context::as_onnx(Value& v, const std::string& name) {
  if (v.onnx >= 0) return v.onnx;
  if (v.view_source >= 0) {
    v.onnx = materialize(v, v.shape, name);
    return v.onnx;
  }
  if (v.is_constant()) {
    const Constant& c = constants[v.const_index];
    if (!c.is_float) fail(fmt::format("'{}' is an integer constant used as a float tensor", name));
    if (c.shape.empty() || elements_of(c.shape) == 0)
      unsupported(
          fmt::format("constant '{}' of shape {} used as an activation", name, shape_str(c.shape)));
    v.onnx = ir_constant(name, ir_shape(c.shape), c.f);
    return v.onnx;
  }
  if (v.nhwc >= 0) {
    v.onnx = transpose(v.nhwc, from_channels_last(v.shape.size()), name + "/nchw");
    return v.onnx;
  }
  if (v.flat >= 0) {
    // [N, H*W*C] -> [N,H,W,C] -> [N,C,H,W] -> [N, C*H*W]
    const int32_t n = shape_of(v.flat)[0];
    const auto c = static_cast<int32_t>(v.flat_chw[0]), h = static_cast<int32_t>(v.flat_chw[1]),
               w = static_cast<int32_t>(v.flat_chw[2]);
    const int t4 = reshape(v.flat, {n, h, w, c}, name + "/unflatten");
    const int nchw = transpose(t4, {0, 3, 1, 2}, name + "/nchw");
    v.onnx = reshape(nchw, {n, c * h * w}, name);
    return v.onnx;
  }
  fail(fmt::format("internal error: value '{}' has no representation", name));
}

int Context::as_nhwc(Value& v, const std::string& name) {
  if (v.nhwc >= 0) return v.nhwc;
  if (!has_channels_last_form(v.shape.size()))
    fail(fmt::format("'{}' has shape {}; expected [N,C,H,W] or [N,C,L]", name, shape_str(v.shape)));
  const std::vector<int32_t> perm = to_channels_last(v.shape.size());
  if (v.is_constant()) {
    const Constant& c = constants[v.const_index];
    if (!c.is_float) fail(fmt::format("'{}' is an integer constant used as a float tensor", name));
    const Constant t = transpose_constant(c, perm);
    v.nhwc = ir_constant(name + "/nhwc", ir_shape(t.shape), t.f);
    return v.nhwc;
  }
  const int src = as_onnx(v, name);
  v.nhwc = transpose(src, perm, name + "/nhwc");
  return v.nhwc;
}

}  // namespace tinyforge::onnx_import
