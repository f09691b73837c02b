// Which ops of ops.def this build of the runtime carries.
//
// A firmware image compiles runtime/src/dispatch.cc and names.cc again with its own
// generated "tinyforge_model_ops.h" (compiler/emit/model_ops.h), which sets
// TINYFORGE_OP_ENABLED_<Name> to 1 for the ops of the image's kernel set and 0 for the
// others. Without that header (the runtime library, the host) every op is enabled.
//
//   TINYFORGE_OP_IS_ENABLED(Name)  1 or 0, usable in constant expressions
//   TINYFORGE_OP_CASE(Name, ...)   the tokens `...` when Name is enabled, else nothing
#pragma once

#if __has_include("tinyforge_model_ops.h")
#include "tinyforge_model_ops.h"
#define TINYFORGE_OP_IS_ENABLED(name) TINYFORGE_OP_ENABLED_##name
#define TINYFORGE_OP_CASE(name, ...) TINYFORGE_OP_CASE_(TINYFORGE_OP_ENABLED_##name, __VA_ARGS__)
#define TINYFORGE_OP_CASE_(enabled, ...) TINYFORGE_OP_CASE__(enabled, __VA_ARGS__)
#define TINYFORGE_OP_CASE__(enabled, ...) TINYFORGE_OP_WHEN_##enabled(__VA_ARGS__)
#define TINYFORGE_OP_WHEN_1(...) __VA_ARGS__
#define TINYFORGE_OP_WHEN_0(...)
#else
#define TINYFORGE_OP_IS_ENABLED(name) 1
#define TINYFORGE_OP_CASE(name, ...) __VA_ARGS__
#endif
