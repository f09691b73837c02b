// Ed25519 key generation and key files; see signing_keys.h.
#include "ota/signing_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ir/graph.h"

namespace tinyforge::ota {
namespace {

constexpr const char* kSecretTag = "tinyforge-ed25519-secret-v1";
constexpr const char* kPublicTag = "tinyforge-ed25519-public-v1";

void init_sodium() {
  if (sodium_init() < 0) throw tinyforge::Error("libsodium failed to initialize");
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void write_text(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) throw tinyforge::Error(path + ": cannot create: " + std::strerror(errno));
  if (overwrite) ::fchmod(fd, mode);  // an existing file keeps its mode otherwise
  const ssize_t n = ::write(fd, text.data(), text.size());
  const bool ok = n == static_cast<ssize_t>(text.size());
  if (::close(fd) != 0 || !ok) throw tinyforge::Error(path + ": write failed");
}

// Reads "<tag> <64 hex>" into 32 bytes.
std::array<uint8_t, 32> read_key_line(const std::string& path, const char* tag) {
  std::ifstream in(path);
  if (!in) throw tinyforge::Error(path + ": cannot open: " + std::strerror(errno));
  std::string word, hex;
  in >> word >> hex;
  if (word != tag)
    throw tinyforge::Error(path + ": not a " + std::string(tag) + " key file (first word \"" +
                           word + "\")");
  std::array<uint8_t, 32> out{};
  size_t bin_len = 0;
  if (hex.size() != 64 ||
      sodium_hex2bin(out.data(), out.size(), hex.c_str(), hex.size(), nullptr, &bin_len, nullptr) !=
          0 ||
      bin_len != 32)
    throw tinyforge::Error(path + ": expected 64 hex digits after \"" + std::string(tag) + "\"");
  std::string rest;
  if (in >> rest) throw tinyforge::Error(path + ": unexpected text after the key");
  return out;
}

}  // namespace

std::string to_hex(const uint8_t* data, size_t size) {
  std::string s(size * 2 + 1, '\0');
  sodium_bin2hex(s.data(), s.size(), data, size);
  s.pop_back();
  return s;
}

KeyPair generate_keypair() {
  init_sodium();
  std::array<uint8_t, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  KeyPair k = keypair_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

KeyPair keypair_from_seed(const std::array<uint8_t, 32>& seed) {
  init_sodium();
  KeyPair k;
  crypto_sign_seed_keypair(k.public_key.data(), k.secret_key.data(), seed.data());
  return k;
}

void save_keypair(const std::string& path, const KeyPair& keys, bool overwrite) {
  const std::string pub = path + ".pub";
  if (!overwrite) {
    for (const std::string& p : {path, pub})
      if (exists(p)) throw tinyforge::Error(p + ": already exists (use --force to overwrite)");
  }
  // The seed is the first half of libsodium's secret key.
  write_text(path, std::string(kSecretTag) + " " + to_hex(keys.secret_key.data(), 32) + "\n", 0600,
             overwrite);
  write_text(pub, std::string(kPublicTag) + " " + to_hex(keys.public_key.data(), 32) + "\n", 0644,
             overwrite);
}

KeyPair load_secret_key(const std::string& path) {
  std::array<uint8_t, 32> seed = read_key_line(path, kSecretTag);
  KeyPair k = keypair_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

PublicKey load_public_key(const std::string& path) { return read_key_line(path, kPublicTag); }

}  // namespace tinyforge::ota
