// OTA commands:
//   tinyforge keygen -o KEY [--force]             Ed25519 key pair: KEY (secret), KEY.pub
//   tinyforge package BLOB --key KEY --version V --counter N [--model-id ID]
//                     [--target T] [--base BLOB] [--self-test-input F ... | --no-self-test]
//                     [--add-key NEW.pub] [--revoke-key OLD.pub] -o U.tfu
//   tinyforge verify U.tfu --pub KEY.pub          exit 0 only for an intact, authentic package
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "io/files.h"
#include "ir/graph.h"
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
  const Status s =
      validate_plan(reinterpret_cast<const uint8_t*>(aligned.data()), static_cast<uint32_t>(bytes.size()));
  if (s != Status::ok)
    throw tinyforge::Error(path + ": not a valid plan blob (" + status_name(s) + "); run `tinyforge compile` first");
}

}  // namespace

void add_keygen(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair for signing OTA packages");
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("-o,--output", *out, "secret key file to write; the public key goes to FILE.pub")->required();
  cmd->add_flag("--force", *force, "overwrite existing key files");
  cmd->callback([out, force] {
    const ota::KeyPair keys = ota::generate_keypair();
    ota::save_keypair(*out, keys, *force);
    std::printf("%s: secret key (keep it private)\n%s.pub: public key %s\n", out->c_str(),
                out->c_str(), ota::to_hex(keys.public_key.data(), keys.public_key.size()).c_str());
  });
}

void add_package(CLI::App& app) {
  auto* cmd = app.add_subcommand("package", "Sign a plan blob into an OTA update package (.tfu)");
  struct Args {
    std::string blob, key, version, model_id, target = "cortex-m4", base, out, add_key, revoke_key;
    std::vector<std::string> self_test_inputs;
    bool no_self_test = false;
    uint32_t counter = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("BLOB", a->blob, "plan blob (.tfp) to ship")->required();
  cmd->add_option("--key", a->key, "secret key file from `tinyforge keygen`")->required();
  cmd->add_option("--version", a->version, "semantic version MAJOR.MINOR.PATCH")->required();
  cmd->add_option("--counter", a->counter, "security counter: devices refuse packages below their installed one")
      ->required();
  cmd->add_option("--model-id", a->model_id, "model id, 1..32 characters (default: the blob's file name)");
  cmd->add_option("--target", a->target, "target the package is built for (default: cortex-m4)");
  cmd->add_option("--base", a->base, "plan blob the device must be running to accept this package");
  cmd->add_option("--self-test-input", a->self_test_inputs,
                  "raw input tensor(s) for the known-answer self-test (default: pseudo-random)");
  cmd->add_flag("--no-self-test", a->no_self_test,
                "no known-answer self-test (devices refuse such packages unless they opt out)");
  cmd->add_option("--add-key", a->add_key, "key rotation: devices trust this KEY.pub once this update is confirmed");
  cmd->add_option("--revoke-key", a->revoke_key, "revocation: devices stop trusting this KEY.pub once confirmed");
  cmd->add_option("-o,--output", a->out, "package file to write")->required();
  cmd->callback([a] {
    const std::vector<uint8_t> blob = io::read_file(a->blob);
    require_plan_blob(a->blob, blob);
    ota::PackageSpec spec;
    spec.model_id = a->model_id.empty() ? file_stem(a->blob) : a->model_id;
    spec.version = ota::parse_semver(a->version);
    spec.security_counter = a->counter;
    spec.target = a->target;
    if (!a->base.empty()) {
      std::vector<uint8_t> base = io::read_file(a->base);
      while (base.size() % 4 != 0) base.push_back(0);  // as the plan lies in the payload
      std::array<uint8_t, ota::kDigestBytes> digest;
      ota::sha256(base.data(), base.size(), digest.data());
      spec.base_sha256 = digest;
    }
    if (!a->add_key.empty()) spec.add_key = ota::load_public_key(a->add_key);
    if (!a->revoke_key.empty()) spec.revoke_key_id = ota::key_id(ota::load_public_key(a->revoke_key));
    if (a->no_self_test && !a->self_test_inputs.empty())
      throw tinyforge::Error("--no-self-test and --self-test-input exclude each other");
    std::vector<uint8_t> self_test;
    if (!a->no_self_test) {  // the expected output comes from the device runtime, on the host
      ota::SelfTestSpec test;
      for (const std::string& f : a->self_test_inputs) test.inputs.push_back(io::read_file(f));
      self_test = ota::make_self_test(blob, test);
    }
    const ota::KeyPair keys = ota::load_secret_key(a->key);
    const std::vector<uint8_t> package = ota::write_package(spec, blob, keys.secret_key, self_test);
    io::write_file(a->out, package);
    std::printf("%s: %s %s counter %u target %s key %08x, plan %zu bytes, self-test %zu bytes, "
                "package %zu bytes\n",
                a->out.c_str(), spec.model_id.c_str(), ota::semver_text(spec.version).c_str(),
                spec.security_counter, spec.target.c_str(), ota::key_id(keys.public_key), blob.size(),
                self_test.size(), package.size());
  });
}

void add_verify(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify", "Check an OTA package: signature, manifest, size and payload hash");
  auto path = std::make_shared<std::string>();
  auto pub = std::make_shared<std::string>();
  cmd->add_option("PACKAGE", *path, "package (.tfu)")->required();
  cmd->add_option("--pub", *pub, "public key file (KEY.pub from `tinyforge keygen`)")->required();
  cmd->callback([path, pub] {
    const ota::PublicKey key = ota::load_public_key(*pub);
    const std::vector<uint8_t> bytes = io::read_file(*path);
    ota::Manifest m;
    // The device's own verifier: what passes here passes on the device.
    const Status s = ota::verify_package(bytes.data(), bytes.size(), key.data(), &m);
    if (s != Status::ok) throw tinyforge::Error(*path + ": rejected: " + status_name(s));
    std::printf("%s: ok: %s %s counter %u target %s, payload %u bytes\n", path->c_str(), m.model_id,
                ota::semver_text(m.version).c_str(), m.security_counter, m.target, m.payload_size);
  });
}

}  // namespace tinyforge::cli
