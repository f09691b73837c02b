// Model-level part of the ONNX importer: parse, opset, initializers, graph inputs, the
// node loop (dispatch to convert_*.cc through the converter table), graph outputs.
#include "import/onnx/import_onnx.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <unordered_set>

#include "import/onnx/onnx_convert.h"
#include "import/onnx/onnx_tensor.h"
#include "io/files.h"
#include "ir/unsupported.h"

namespace tinyforge {
namespace {

using onnx_import::Context;

std::string printable_line(const std::string& s);
using onnx_import::Value;

constexpr int kMinOpset = 1;   // per-op minimums are in the converter table
constexpr int kMaxOpset = 17;  // the newest opset Debian's onnx 1.12 knows

int default_opset(const onnx::ModelProto& model, const std::string& source) {
  int found = -1;
  for (const onnx::OperatorSetIdProto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") {
      if (o.version() < kMinOpset || o.version() > kMaxOpset)
        throw tinyforge::Error(
            fmt::format("{}: unsupported: opset {} of the default domain (supported {}..{})",
                        source, o.version(), kMinOpset, kMaxOpset));
      found = static_cast<int>(o.version());
    }
  if (found < 0)
    throw tinyforge::Error(source + ": the model imports no opset of the default ONNX domain");
  return found;
}

void count_uses(Context& ctx, const onnx::GraphProto& g) {
  for (const onnx::NodeProto& n : g.node())
    for (const std::string& in : n.input())
      if (!in.empty()) ++ctx.uses[in];
  for (const onnx::ValueInfoProto& o : g.output()) ++ctx.uses[o.name()];
}

void add_initializers(Context& ctx, const onnx::GraphProto& g) {
  for (const onnx::TensorProto& t : g.initializer()) {
    if (t.name().empty()) throw tinyforge::Error(ctx.source() + ": an initializer has no name");
    if (ctx.values.count(t.name()))
      throw tinyforge::Error(
          fmt::format("{}: initializer '{}' is defined twice", ctx.source(), t.name()));
    ctx.values.emplace(t.name(), ctx.constant_value(onnx_import::read_tensor(t, ctx.source())));
  }
  if (g.sparse_initializer_size() > 0)
    throw tinyforge::Error(ctx.source() + ": unsupported: sparse initializers");
}

void add_graph_inputs(Context& ctx, const onnx::GraphProto& g) {
  for (const onnx::ValueInfoProto& in : g.input()) {
    if (ctx.values.count(in.name())) continue;  // an initializer listed as input (IR version < 4)
    if (in.name().empty()) throw tinyforge::Error(ctx.source() + ": a graph input has no name");
    Value v;
    v.shape = onnx_import::read_value_shape(in, true, ctx.source() + ": graph input");
    ir::Tensor t;
    t.name = onnx_import::clean_name(in.name());
    // int64 indices (token ids) run as int32; check_index_inputs limits who reads them.
    t.type =
        in.type().tensor_type().elem_type() == onnx::TensorProto::INT64 ? DType::i32 : DType::f32;
    t.shape = ctx.ir_shape(v.shape);
    v.onnx = ctx.graph.add_tensor(std::move(t));
    ctx.graph.inputs.push_back(v.onnx);
    ctx.values.emplace(in.name(), std::move(v));
  }
  if (ctx.graph.inputs.empty())
    throw tinyforge::Error(ctx.source() + ": the model has no runtime input");
}

// The checks that need no shapes: domain, op type, opset. Throws Context::unsupported.
const ops::OnnxRead& converter_for(Context& ctx, const onnx::NodeProto& n) {
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    ctx.unsupported(fmt::format("op domain '{}'", n.domain()));
  const ops::OnnxRead* e = onnx_import::find_converter(n.op_type());
  if (e == nullptr)
    ctx.unsupported("op; no tinyforge converter for this op type (docs/ops.md lists them)");
  if (ctx.opset < e->min_opset)
    ctx.unsupported(fmt::format("this op before opset {}", e->min_opset));
  return *e;
}

// Converts every node. A node tinyforge does not support (Context::unsupported) is refused
// and its outputs are marked unknown; nodes reading them are still checked for what needs
// no shapes (a supported op type), so that one error names every unsupported node. Other
// errors (a malformed file) stop at once.
std::vector<Refusal> convert_nodes(Context& ctx, const onnx::GraphProto& g) {
  std::vector<Refusal> refusals;
  std::unordered_set<std::string> unknown;  // outputs of refused or skipped nodes
  for (int index = 0; index < g.node_size(); ++index) {
    const onnx::NodeProto& n = g.node(index);
    ctx.node = &n;
    Refusal r;
    r.index = index;
    r.op = onnx_import::clean_name(n.op_type());
    r.name = onnx_import::clean_name(n.name());
    r.version = ctx.opset;
    r.stage = "import";
    bool reads_unknown = false;
    for (const std::string& in : n.input()) {
      reads_unknown = reads_unknown || unknown.count(in) > 0;
      auto v = ctx.values.find(in);
      if (r.dtype.empty() && v != ctx.values.end())
        r.dtype = v->second.is_constant() && !ctx.constants[v->second.const_index].is_float
                      ? "int64"
                      : "float32";
    }
    const size_t first_new = ctx.graph.nodes.size();
    try {
      const ops::OnnxRead& e = converter_for(ctx, n);
      if (reads_unknown) {  // its input shapes are unknown: nothing more can be checked
        for (const std::string& out : n.output()) unknown.insert(out);
        continue;
      }
      // An optional output may be left out by an empty name (LSTM's Y when only Y_h is read).
      if (std::all_of(n.output().begin(), n.output().end(),
                      [](const std::string& out) { return out.empty(); }))
        ctx.fail("the node has no output");
      for (const std::string& out : n.output())
        if (!out.empty() && ctx.values.count(out))
          ctx.fail(fmt::format("output '{}' is already defined", out));
      e.convert(ctx);
      for (int i = 0; i < n.output_size(); ++i)
        if (ctx.output_used(static_cast<size_t>(i)) && !ctx.values.count(n.output(i)))
          ctx.unsupported(fmt::format("output {} ('{}')", i, n.output(i)));
      for (size_t k = first_new; k < ctx.graph.nodes.size(); ++k)
        ctx.graph.nodes[k].source_index = index;
    } catch (const UnsupportedError& e) {  // anything else: a malformed file, stop here
      r.reason = printable_line(strip_prefix(e.what(), ctx.where()));
      refusals.push_back(std::move(r));
      ctx.graph.nodes.resize(first_new);
      for (const std::string& out : n.output()) {
        unknown.insert(out);
        ctx.values.erase(out);  // a half-converted node leaves nothing behind
      }
    }
  }
  ctx.node = nullptr;
  return refusals;
}

void add_graph_outputs(Context& ctx, const onnx::GraphProto& g) {
  std::unordered_set<int> taken(ctx.graph.inputs.begin(), ctx.graph.inputs.end());
  for (const onnx::ValueInfoProto& out : g.output()) {
    auto it = ctx.values.find(out.name());
    if (it == ctx.values.end())
      throw tinyforge::Error(fmt::format("{}: graph output '{}' is not produced by any node",
                                         ctx.source(), out.name()));
    Value& v = it->second;
    if (v.is_constant())
      throw tinyforge::Error(fmt::format("{}: unsupported: graph output '{}' is a constant",
                                         ctx.source(), out.name()));
    // int64 indices (ArgMax) run as int32: the output file holds int32 values.
    const bool int_indices = v.onnx >= 0 && ctx.graph.tensors[v.onnx].type == DType::i32;
    const auto expected_type = int_indices ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
    if (out.has_type() && out.type().has_tensor_type() &&
        out.type().tensor_type().has_elem_type() &&
        out.type().tensor_type().elem_type() != expected_type)
      throw tinyforge::Error(fmt::format(
          "{}: graph output '{}': unsupported: element type {}; expected {} here (float32 "
          "models are imported, ArgMax / ArgMin indices as int64)",
          ctx.source(), out.name(),
          onnx_import::onnx_type_name(out.type().tensor_type().elem_type()),
          onnx_import::onnx_type_name(expected_type)));
    // Declared static dims must agree with what the importer inferred.
    if (out.has_type() && out.type().has_tensor_type() && out.type().tensor_type().has_shape()) {
      const auto& dims = out.type().tensor_type().shape().dim();
      std::string declared;
      bool same = dims.size() == static_cast<int>(v.shape.size());
      for (int i = 0; i < dims.size(); ++i) {
        declared +=
            (i ? "," : "") + (dims[i].has_dim_value() ? std::to_string(dims[i].dim_value()) : "?");
        if (same && dims[i].has_dim_value() && dims[i].dim_value() != v.shape[i]) same = false;
      }
      if (!same)
        throw tinyforge::Error(
            fmt::format("{}: graph output '{}' has shape {} here but is declared [{}]",
                        ctx.source(), out.name(), onnx_import::shape_str(v.shape), declared));
    }
    int t = ctx.as_onnx(v, out.name());
    if (taken.count(t))
      t = ctx.emit(OpCode::Reshape, {t}, ctx.shape_of(t), ir::Params{}, out.name() + "/copy");
    taken.insert(t);
    ctx.graph.tensors[t].name = onnx_import::clean_name(out.name());
    ctx.graph.outputs.push_back(t);
  }
  if (ctx.graph.outputs.empty()) throw tinyforge::Error(ctx.source() + ": the model has no output");
}

// Drops nodes whose results nobody reads (unused ONNX branches, conversions made for a
// consumer that was later folded away).
void remove_dead_nodes(ir::Graph& g) {
  std::vector<char> live(g.tensors.size(), 0);
  for (int t : g.outputs) live[t] = 1;
  std::vector<ir::Node> kept;
  for (size_t i = g.nodes.size(); i-- > 0;) {
    bool needed = false;
    for (int o : g.nodes[i].outputs) needed = needed || live[o];
    if (!needed) continue;
    for (int in : g.nodes[i].inputs)
      if (in >= 0) live[in] = 1;
    kept.push_back(std::move(g.nodes[i]));
  }
  g.nodes.assign(std::make_move_iterator(kept.rbegin()), std::make_move_iterator(kept.rend()));
}

// An int64 graph input runs as an int32 tensor (`tinyforge run --int64-inputs` narrows the
// data, refusing values outside int32): only ops that take int32 indices at run time may
// read it, Gather as its indices and Cast.
void check_index_inputs(const Context& ctx) {
  const ir::Graph& g = ctx.graph;
  for (int t : g.inputs) {
    if (g.tensors[static_cast<size_t>(t)].type != DType::i32) continue;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const ir::Node& n = g.nodes[i];
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (n.inputs[k] == t && !(n.op == OpCode::Gather && k == 1) && n.op != OpCode::Cast)
          throw UnsupportedError(fmt::format(
              "{}: unsupported: int64 graph input '{}' read by {} (input {}); expected only "
              "Gather indices and Cast to read int64 inputs (they run as int32)",
              ctx.source(), g.tensors[static_cast<size_t>(t)].name, g.node_label(i), k));
    }
  }
}

// Names inside a damaged (or hostile) file may hold control characters or be huge: the
// message must stay one printable line.
std::string printable_line(const std::string& s) {
  constexpr size_t kMaxLength = 1000;
  std::string out;
  for (char c : s.substr(0, kMaxLength))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > kMaxLength) out += "...";
  return out;
}

ir::Graph import_model(const onnx::ModelProto& model, const std::string& source_name) {
  if (!model.has_graph()) throw tinyforge::Error(source_name + ": the ONNX model has no graph");
  Context ctx(source_name);
  ctx.opset = default_opset(model, source_name);
  const onnx::GraphProto& g = model.graph();
  count_uses(ctx, g);
  add_initializers(ctx, g);
  add_graph_inputs(ctx, g);
  std::vector<Refusal> refusals = convert_nodes(ctx, g);
  if (!refusals.empty())  // the nodes that did convert, for their lowering to be checked too
    throw UnsupportedOps(source_name, std::move(refusals), "",
                         std::make_shared<ir::Graph>(std::move(ctx.graph)));
  add_graph_outputs(ctx, g);
  remove_dead_nodes(ctx.graph);
  check_index_inputs(ctx);
  ctx.graph.check();
  return std::move(ctx.graph);
}

}  // namespace

const char* onnx_supported_ops() {
  static const std::string list = [] {
    std::string s;
    for (const ops::OnnxRead& e : onnx_import::converters())
      s += (s.empty() ? "" : ", ") + std::string(e.op_type);
    return s;
  }();
  return list.c_str();
}

ir::Graph import_onnx(const uint8_t* data, size_t size, const std::string& source_name) {
  if (size > static_cast<size_t>(INT_MAX))
    throw tinyforge::Error(source_name + ": file too large for an ONNX model");
  onnx::ModelProto model;
  if (data == nullptr || size == 0 || !model.ParseFromArray(data, static_cast<int>(size)))
    throw tinyforge::Error(source_name + ": not a valid ONNX model (protobuf parse failed)");
  try {
    return import_model(model, source_name);
  } catch (const UnsupportedOps&) {
    throw;  // its lines are made printable already
  } catch (const tinyforge::Error& e) {
    throw tinyforge::Error(printable_line(e.what()));
  }
}

ir::Graph import_onnx_file(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return import_onnx(bytes.data(), bytes.size(), path);
}

}  // namespace tinyforge
