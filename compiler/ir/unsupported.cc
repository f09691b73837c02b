#include "ir/unsupported.h"

#include <fmt/format.h>

#include <algorithm>

namespace tinyforge {
namespace {

// One refusal per line, each line short enough to read (and to grep) on a terminal.
constexpr size_t kMaxReason = 240;

std::string summary(const std::string& source, size_t n, const std::string& target) {
  return fmt::format(
      "{}: {} op{} {} unsupported{} (each is listed below; replace or remove {}, see "
      "docs/ops.md for what runs where)",
      source, n, n == 1 ? "" : "s", n == 1 ? "is" : "are",
      target.empty() ? "" : " on target " + target, n == 1 ? "it" : "them");
}

// One refusal: the usual one-line error. More: the summary, then a line for each.
std::string joined(const std::string& source, const std::vector<Refusal>& refusals,
                   const std::string& target) {
  if (refusals.size() == 1) return source + ": " + refusal_text(refusals[0]);
  std::string s = summary(source, refusals.size(), target);
  for (const Refusal& r : refusals) s += "\n" + source + ": " + refusal_text(r);
  return s;
}

}  // namespace

UnsupportedOps::UnsupportedOps(std::string source, std::vector<Refusal> refusals,
                               std::string target, std::shared_ptr<ir::Graph> partial)
    : Error(joined(source, refusals, target)),
      source_(std::move(source)),
      target_(std::move(target)),
      refusals_(std::move(refusals)),
      partial_(std::move(partial)) {}

std::vector<std::string> UnsupportedOps::lines() const {
  std::vector<std::string> out;
  if (refusals_.size() != 1) out.push_back(summary(source_, refusals_.size(), target_));
  for (const Refusal& r : refusals_) out.push_back(source_ + ": " + refusal_text(r));
  return out;
}

std::string refusal_text(const Refusal& r) {
  const std::string what = r.name.empty() ? r.op : fmt::format("{} '{}'", r.op, r.name);
  std::string s = r.index >= 0 ? fmt::format("op {} ({})", r.index, what) : "op (" + what + ")";
  if (r.version > 0) s += fmt::format(" v{}", r.version);
  if (!r.dtype.empty()) s += " " + r.dtype;
  std::string reason = r.reason.substr(0, kMaxReason);
  if (r.reason.size() > kMaxReason) reason += "...";
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return s + ": " + reason;
}

std::string strip_prefix(const std::string& full, const std::string& prefix) {
  if (full.size() > prefix.size() + 2 && full.compare(0, prefix.size(), prefix) == 0 &&
      full.compare(prefix.size(), 2, ": ") == 0)
    return full.substr(prefix.size() + 2);
  return full;
}

}  // namespace tinyforge
