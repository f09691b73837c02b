// The typed params of one IR node. Each op keeps its own params struct (declared in its host
// file under compiler/ops/, or the device params struct of tinyforge/params.h when that
// already carries the op's attributes); the IR holds it without knowing the type, so adding
// an op never touches the IR. Reading a node's params as another op's type is a bug in the
// compiler and throws Error naming both.
//
// A params struct is a copyable value type with `operator==` (the round-trip tests compare
// imported graphs with it).
#pragma once
#include <any>
#include <string>
#include <typeinfo>
#include <utility>

#include "ir/error.h"

namespace tinyforge::ir {

class Params {
 public:
  Params() = default;
  template <class T, class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Params>>>
  Params(T value) : value_(std::move(value)), equal_(&equal<T>) {}  // NOLINT: implicit by design

  bool empty() const { return !value_.has_value(); }

  // The params as T, or nullptr when the node holds none or another type.
  template <class T>
  const T* find() const {
    return std::any_cast<T>(&value_);
  }
  template <class T>
  T* find() {
    return std::any_cast<T>(&value_);
  }

  // The params as T; throws Error when the node holds none or another type.
  template <class T>
  const T& get() const {
    if (const T* p = find<T>()) return *p;
    throw Error(mismatch(typeid(T).name()));
  }
  template <class T>
  T& get() {
    if (T* p = find<T>()) return *p;
    throw Error(mismatch(typeid(T).name()));
  }

  // The params as T, or T's defaults when the node holds none (built without attributes,
  // e.g. an activation-less Add); throws Error when it holds another type.
  template <class T>
  T get_or_default() const {
    return empty() ? T{} : get<T>();
  }
  // The params as T to change; a node without params gets T's defaults first.
  template <class T>
  T& get_or_set_default() {
    if (empty()) *this = Params(T{});
    return get<T>();
  }

  friend bool operator==(const Params& a, const Params& b) {
    if (a.equal_ != b.equal_) return false;  // different types (or one empty)
    return a.equal_ == nullptr || a.equal_(a.value_, b.value_);
  }
  friend bool operator!=(const Params& a, const Params& b) { return !(a == b); }

 private:
  template <class T>
  static bool equal(const std::any& a, const std::any& b) {
    return *std::any_cast<T>(&a) == *std::any_cast<T>(&b);
  }
  std::string mismatch(const char* wanted) const {
    return std::string("internal error: node params are ") +
           (empty() ? "absent" : value_.type().name()) + ", read as " + wanted;
  }

  std::any value_;
  bool (*equal_)(const std::any&, const std::any&) = nullptr;
};

}  // namespace tinyforge::ir
