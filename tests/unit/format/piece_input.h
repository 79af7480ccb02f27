// Test helper: an InputStream that hands out its data in pieces of a fixed
// size, so decoders see every possible split of their input across reads.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "core/io.h"

namespace sluice::testing {

class PieceInput final : public InputStream {
 public:
  PieceInput(std::string data, size_t piece, std::string name = "piece.txt")
      : data_(std::move(data)), piece_(piece), name_(std::move(name)) {}

  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string data_;
  size_t piece_;
  std::string name_;
  size_t pos_ = 0;
};

// An InputStream that fails with an I/O error after `ok_bytes` bytes.
class FailingInput final : public InputStream {
 public:
  FailingInput(std::string data, size_t ok_bytes) : data_(std::move(data)), ok_(ok_bytes) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= ok_) return Status::IOError("read 'failing.txt': disk on fire");
    size_t k = std::min({n, ok_ - pos_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string data_;
  size_t ok_;
  std::string name_ = "failing.txt";
  size_t pos_ = 0;
};

}  // namespace sluice::testing
