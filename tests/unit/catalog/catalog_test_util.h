// Helpers for the catalog tests: a temporary directory and a manual clock.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

namespace sluice::testing {

class CatalogTempDir {
 public:
  CatalogTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_cat_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~CatalogTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  CatalogTempDir(const CatalogTempDir&) = delete;
  CatalogTempDir& operator=(const CatalogTempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that moves one microsecond per reading, so every timestamp is
// distinct and ordered; Set() jumps.
class ManualClock {
 public:
  int64_t Now() { return now_.fetch_add(1); }
  void Set(int64_t t) { now_.store(t); }
  void Advance(int64_t d) { now_.fetch_add(d); }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

}  // namespace sluice::testing
