// Ed25519 signature verification (RFC 8032, section 5.1.7), freestanding: no heap, no
// globals written, worst-case stack documented in docs/ota-format.md (measured by
// scripts/ota_size). Verification only: signing happens on the host (libsodium).
//
// Accepts exactly what libsodium 1.0.18's crypto_sign_verify_detached accepts:
//  - S must be canonical (S < L);
//  - R and the public key A must not be one of the small-order encodings libsodium
//    blacklists (the 8 small-order points, sign bit ignored, plus the non-canonical
//    encodings of 0 and 1);
//  - A must be canonical (y < p) and decode to a curve point;
//  - the check is cofactorless: encode([S]B - [k]A) == R, k = SHA-512(R || A || M) mod L.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinyforge::ota {

constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kEd25519PublicKeyBytes = 32;

bool ed25519_verify(const uint8_t signature[kEd25519SignatureBytes], const uint8_t* message,
                    size_t size, const uint8_t public_key[kEd25519PublicKeyBytes]);

}  // namespace tinyforge::ota
