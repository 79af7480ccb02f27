// Content hashing: SHA-256 identifies a batch's content (registration is
// idempotent on it), and pipeline versions are named by the hash of their text.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/io.h"
#include "core/status.h"

namespace sluice {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  // Lower-case hex digest; the hasher cannot be updated afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
// Hashes a stream to its end.
Result<std::string> Sha256Stream(InputStream& in);
// An OutputStream that hashes what passes through it to `inner`; after a
// successful Close, *hex_digest holds the SHA-256 of every byte written (the
// checksum a lake file's commit records, so `sluice check` can verify it).
std::unique_ptr<OutputStream> NewHashingOutput(std::unique_ptr<OutputStream> inner,
                                               std::string* hex_digest);

}  // namespace sluice
