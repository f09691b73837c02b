// Ed25519 key files for OTA signing (libsodium). Text, one line each:
//   KEY      "tinyforge-ed25519-secret-v1 <64 hex digits: the 32-byte seed>"   (mode 0600)
//   KEY.pub  "tinyforge-ed25519-public-v1 <64 hex digits: the 32-byte public key>"
// The public key is what a device is built with (AgentConfig::public_key).
#pragma once
#include <string>

#include "ota/package_writer.h"

namespace tinyforge::ota {

struct KeyPair {
  PublicKey public_key;
  SecretKey secret_key;
};

KeyPair generate_keypair();
KeyPair keypair_from_seed(const std::array<uint8_t, 32>& seed);

// Writes `path` and `path`.pub; throws if either exists and !overwrite.
void save_keypair(const std::string& path, const KeyPair& keys, bool overwrite);
KeyPair load_secret_key(const std::string& path);
PublicKey load_public_key(const std::string& path);

std::string to_hex(const uint8_t* data, size_t size);

}  // namespace tinyforge::ota
