// OTA commands:
//   tinyforge keygen -o KEY [--force]             Ed25519 key pair: KEY (secret), KEY.pub
//   tinyforge package BLOB --key KEY --version V --counter N [--model-id ID]
//                     [--target T] [--device PROFILE] [--base OLD.tfp [--full]]
//                     [--self-test-input F ... | --no-self-test]
//                     [--add-key NEW.pub] [--revoke-key OLD.pub] -o U.tfu
//   tinyforge verify U.tfu --pub KEY.pub [--device PROFILE [--base OLD.tfp]]
//                     exit 0 only for an intact, authentic package (that the device can run)
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/device_profile.h"
#include "io/files.h"
#include "ir/graph.h"
#include "ota/delta_writer.h"
#include "ota/package_writer.h"
#include "ota/self_test_writer.h"
#include "ota/signing_keys.h"
#include "tinyforge/ota/package.h"
#include "tinyforge/ota/sha256.h"
#include "tinyforge/runtime.h"

namespace tinyforge::cli {
namespace {

std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// The device runs what it installs, so only a plan blob its runtime accepts is packaged.
void require_plan_blob(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::vector<uint32_t> aligned((bytes.size() + 3) / 4);
  if (!bytes.empty()) std::memcpy(aligned.data(), bytes.data(), bytes.size());
  const Status s = validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()),
                                 static_cast<uint32_t>(bytes.size()));
  if (s != Status::ok)
    throw tinyforge::Error(path + ": not a valid plan blob (" + status_name(s) +
                           "; make one with `tinyforge compile`)");
}

// `--device PROFILE`: the update's plan must run on that image (every refusal named).
void require_runs_on_device(const emit::DeviceProfile& profile, const std::string& profile_path,
                            const std::string& what, const std::vector<uint8_t>& plan) {
  const std::vector<std::string> refusals = emit::refusals_for_device(profile, plan);
  if (refusals.empty()) return;
  std::string text;
  for (const std::string& r : refusals) text += (text.empty() ? "" : "; ") + r;
  throw tinyforge::Error(what + ": the device of " + profile_path + " cannot run it: " + text);
}

// The plan a verified package installs: the payload in front of its self-test block, for a
// delta package rebuilt from `base_path` (the plan the device runs) and checked against the
// signed hash, exactly as the device rebuilds it.
std::vector<uint8_t> installed_plan(const std::string& path, const std::vector<uint8_t>& package,
                                    const ota::Manifest& m, const std::string& base_path) {
  uint32_t manifest_size = 0;
  ota::parse_package_header(package.data(), package.size(), &manifest_size);
  const auto body = package.begin() + ota::signed_block_bytes(manifest_size);
  std::vector<uint8_t> payload(body, package.end());
  if (m.has_delta) {
    if (base_path.empty())
      throw UsageError(path +
                       ": a delta package: --device needs --base OLD.tfp, the plan the "
                       "device runs, to rebuild the update's plan");
    const std::vector<uint8_t> base = ota::base_image(read_input(base_path).bytes);
    std::array<uint8_t, ota::kDigestBytes> digest;
    ota::sha256(base.data(), base.size(), digest.data());
    if (!m.has_base || std::memcmp(digest.data(), m.base_sha256, digest.size()) != 0)
      throw tinyforge::Error(path +
                             ": rejected: wrong_base (the package is a delta against "
                             "another plan than " +
                             base_path + ")");
    Status s = Status::ok;
    payload = ota::apply_delta(base, payload, m.payload_size, &s);
    ota::sha256(payload.data(), payload.size(), digest.data());
    if (s != Status::ok || std::memcmp(digest.data(), m.payload_sha256, digest.size()) != 0)
      throw tinyforge::Error(
          path + ": rejected: " + status_name(s == Status::ok ? Status::bad_hash : s) +
          " (the delta does not rebuild the signed plan from " + base_path + ")");
  } else if (!base_path.empty()) {
    throw UsageError("--base is only for a delta package; " + path + " ships the whole plan");
  }
  if (m.has_self_test) payload.resize(m.self_test_offset);
  return payload;
}

// Security counters are decimal: "010" is ten, never octal eight.
uint32_t parse_counter(const std::string& text) {
  uint64_t v = 0;
  for (char c : text) v = v * 10 + static_cast<uint64_t>(c - '0');
  return static_cast<uint32_t>(v);
}

CLI::Validator decimal_u32() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || text.size() > 10 ||
            text.find_first_not_of("0123456789") != std::string::npos ||
            std::stoull(text) > 0xFFFFFFFFull)
          return "'" + text + "' is not a decimal number 0..4294967295";
        return {};
      },
      "DECIMAL");
}

}  // namespace

void add_keygen(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair for signing OTA packages");
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("-o,--output", *out, "secret key file to write; the public key goes to FILE.pub")
      ->required();
  cmd->add_flag("--force", *force, "overwrite existing key files");
  auto result = std::make_shared<Result>();
  result->add_flag(cmd);
  cmd->callback([out, force, result] {
    const ota::KeyPair keys = ota::generate_keypair();
    ota::save_keypair(*out, keys, *force);
    const std::string pub = ota::to_hex(keys.public_key.data(), keys.public_key.size());
    nlohmann::ordered_json j;
    j["secret_key"] = *out;
    j["public_key_file"] = *out + ".pub";
    j["public_key"] = pub;
    result->print(j, fmt::format("{}: secret key (keep it private)\n{}.pub: public key {}\n", *out,
                                 *out, pub));
  });
}

void add_package(CLI::App& app) {
  auto* cmd = app.add_subcommand("package", "Sign a plan blob into an OTA update package (.tfu)");
  struct Args {
    std::string blob, key, version, model_id, target, base, out, counter, add_key, revoke_key,
        device;
    std::vector<std::string> self_test_inputs;
    bool no_self_test = false;
    bool full = false;
    Result result;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("BLOB", a->blob, "plan blob (.tfp) to ship")->required();
  cmd->add_option("--key", a->key, "secret key file from `tinyforge keygen`")->required();
  cmd->add_option("--version", a->version, "semantic version MAJOR.MINOR.PATCH")->required();
  cmd->add_option("--counter", a->counter,
                  "security counter, decimal: devices refuse packages below their installed one")
      ->check(decimal_u32())
      ->required();
  cmd->add_option("--model-id", a->model_id,
                  "model id, 1..32 characters (default: the blob's file name)");
  cmd->add_option("--target", a->target,
                  "target the package is for (default: the one the blob was compiled for, "
                  "cortex-m4 for a host blob)")
      ->check(target_check(false));
  cmd->add_option("--device", a->device,
                  "device profile (device.json beside a `tinyforge firmware` image): refuse a "
                  "plan that image cannot run, naming every missing kernel; the default target");
  cmd->add_option("--base", a->base,
                  "plan blob (.tfp) the device runs: write a delta package against it (devices "
                  "running anything else refuse it)");
  cmd->add_flag("--full", a->full,
                "with --base: ship the whole plan, only requiring the device to run the base");
  cmd->add_option("--self-test-input", a->self_test_inputs,
                  "raw input tensor(s) for the known-answer self-test (default: pseudo-random)");
  cmd->add_flag("--no-self-test", a->no_self_test,
                "no known-answer self-test (devices refuse such packages unless they opt out)");
  cmd->add_option("--add-key", a->add_key,
                  "key rotation: devices trust this KEY.pub once this update is confirmed");
  cmd->add_option("--revoke-key", a->revoke_key,
                  "revocation: devices stop trusting this KEY.pub once confirmed");
  cmd->add_option("-o,--output", a->out, "package file to write")->required();
  a->result.add_flag(cmd);
  cmd->callback([a] {
    check_output(a->out, {a->blob, a->key, a->base, a->device});
    const std::vector<uint8_t> blob = read_input(a->blob).bytes;
    require_plan_blob(a->blob, blob);
    std::string target = a->target;
    if (!a->device.empty()) {
      const emit::DeviceProfile profile = emit::read_device_profile(a->device);
      require_runs_on_device(profile, a->device, a->blob, blob);
      if (!target.empty() && target != profile.target)
        throw UsageError(fmt::format("--target {}: the device of {} is a {}", target, a->device,
                                     profile.target));
      target = profile.target;
    }
    // The package names the device target; a blob compiled for another Cortex-M target is
    // refused, a host blob (reference kernels, runs anywhere) is packaged with a warning.
    const std::optional<BlobTarget> compiled = blob_target(blob);
    if (compiled && compiled->target != "host") {
      if (target.empty()) target = compiled->target;
      if (target != compiled->target)
        throw tinyforge::Error(
            fmt::format("{}: compiled for {}, packaged for {} (recompile with "
                        "`tinyforge compile --target {}`)",
                        a->blob, compiled->target, target, target));
    } else if (target.empty()) {
      target = "cortex-m4";
    }
    ota::PackageSpec spec;
    spec.model_id = a->model_id.empty() ? file_stem(a->blob) : a->model_id;
    spec.version = ota::parse_semver(a->version);
    spec.security_counter = parse_counter(a->counter);
    spec.target = target;
    if (a->full && a->base.empty()) throw UsageError("--full needs --base");
    std::vector<uint8_t> base_plan;
    if (!a->base.empty()) {
      base_plan = read_input(a->base).bytes;
      require_plan_blob(a->base, base_plan);
      const std::vector<uint8_t> base = ota::base_image(base_plan);  // as the plan lies in flash
      std::array<uint8_t, ota::kDigestBytes> digest;
      ota::sha256(base.data(), base.size(), digest.data());
      spec.base_sha256 = digest;
    }
    if (!a->add_key.empty()) spec.add_key = ota::load_public_key(a->add_key);
    if (!a->revoke_key.empty())
      spec.revoke_key_id = ota::key_id(ota::load_public_key(a->revoke_key));
    if (a->no_self_test && !a->self_test_inputs.empty())
      throw UsageError("--no-self-test and --self-test-input exclude each other");
    std::vector<uint8_t> self_test;
    if (!a->no_self_test) {  // the expected output comes from the device runtime, on the host
      ota::SelfTestSpec test;
      for (const std::string& f : a->self_test_inputs) test.inputs.push_back(io::read_file(f));
      self_test = ota::make_self_test(blob, test);
    }
    const ota::KeyPair keys = ota::load_secret_key(a->key);
    const bool delta = !a->base.empty() && !a->full;
    const std::vector<uint8_t> package =
        delta ? ota::write_delta_package(spec, base_plan, blob, keys.secret_key, self_test)
              : ota::write_package(spec, blob, keys.secret_key, self_test);
    const size_t full_bytes =
        delta ? ota::write_package(spec, blob, keys.secret_key, self_test).size() : package.size();
    io::write_file(a->out, package);
    if (!compiled || compiled->target == "host") check_blob_target(a->blob, blob, target);
    nlohmann::ordered_json j;
    j["output"] = a->out;
    j["model_id"] = spec.model_id;
    j["version"] = ota::semver_text(spec.version);
    j["counter"] = spec.security_counter;
    j["target"] = spec.target;
    j["key_id"] = fmt::format("{:08x}", ota::key_id(keys.public_key));
    j["payload_bytes"] = blob.size();
    j["self_test_bytes"] = self_test.size();
    j["package_bytes"] = package.size();
    j["delta"] = delta;
    if (delta) j["full_package_bytes"] = full_bytes;
    a->result.print(
        j, fmt::format("{}: {} {} counter {} target {} key {:08x}, plan {} bytes, "
                       "self-test {} bytes, package {} bytes{}\n",
                       a->out, spec.model_id, ota::semver_text(spec.version), spec.security_counter,
                       spec.target, ota::key_id(keys.public_key), blob.size(), self_test.size(),
                       package.size(),
                       delta ? fmt::format(" (delta against {}; the full package: {} bytes)",
                                           a->base, full_bytes)
                             : std::string()));
  });
}

void add_verify(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "verify", "Check an OTA package: signature, manifest, size and payload hash");
  auto path = std::make_shared<std::string>();
  auto pub = std::make_shared<std::string>();
  cmd->add_option("PACKAGE", *path, "package (.tfu)")->required();
  cmd->add_option("--pub", *pub, "public key file (KEY.pub from `tinyforge keygen`)")->required();
  auto device = std::make_shared<std::string>();
  auto base = std::make_shared<std::string>();
  cmd->add_option("--device", *device,
                  "device profile (device.json beside a `tinyforge firmware` image): also refuse "
                  "a package for another target or whose plan needs a kernel the image lacks");
  cmd->add_option("--base", *base,
                  "with --device and a delta package: the plan blob the device runs (to rebuild "
                  "the update's plan)");
  auto result = std::make_shared<Result>();
  result->add_flag(cmd);
  cmd->callback([path, pub, device, base, result] {
    const ota::PublicKey key = ota::load_public_key(*pub);
    const std::vector<uint8_t> bytes = io::read_file(*path);
    ota::Manifest m;
    // The device's own verifier: what passes here passes on the device.
    const Status s = ota::verify_package(bytes.data(), bytes.size(), key.data(), &m);
    if (s != Status::ok)
      throw tinyforge::Error(*path + ": rejected: " + status_name(s) +
                             " (not a package signed by this key, or damaged)");
    if (!device->empty()) {
      const emit::DeviceProfile profile = emit::read_device_profile(*device);
      if (profile.target != m.target)
        throw tinyforge::Error(
            fmt::format("{}: rejected: bad_target (the package is for {}, the "
                        "device of {} is a {})",
                        *path, m.target, *device, profile.target));
      require_runs_on_device(profile, *device, *path, installed_plan(*path, bytes, m, *base));
    } else if (!base->empty()) {
      throw UsageError("--base goes with --device");
    }
    nlohmann::ordered_json j;
    j["package"] = *path;
    j["ok"] = true;
    j["model_id"] = m.model_id;
    j["version"] = ota::semver_text(m.version);
    j["counter"] = m.security_counter;
    j["target"] = m.target;
    j["payload_bytes"] = m.payload_size;
    j["delta"] = m.has_delta;
    if (!device->empty()) j["device"] = *device;
    if (m.has_delta) {
      j["delta_bytes"] = m.delta_size;
      j["base_sha256"] = ota::to_hex(m.base_sha256, ota::kDigestBytes);
    }
    result->print(j, fmt::format("{}: ok: {} {} counter {} target {}, payload {} bytes{}\n", *path,
                                 m.model_id, ota::semver_text(m.version), m.security_counter,
                                 m.target, m.payload_size,
                                 m.has_delta ? fmt::format(" (sent as a {}-byte delta; the device "
                                                           "checks the rebuilt payload)",
                                                           m.delta_size)
                                             : std::string()));
  });
}

}  // namespace tinyforge::cli
