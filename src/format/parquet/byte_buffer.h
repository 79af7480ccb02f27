// ByteBuffer: a growable byte array that leaves the bytes it grows into
// uninitialised, unlike std::string::resize, which zero-fills them. The
// Parquet writer sizes buffers for values or compressed pages first and fills
// them right after; zeroing first would touch every byte twice.
//
// Threading: a plain value type, not thread-safe.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sluice::parquet {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  char* data() { return buf_.get(); }
  const char* data() const { return buf_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {buf_.get(), size_}; }

  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n > cap_) Reallocate(n);
  }
  // Sets the size to n; bytes past the old size are uninitialised.
  void resize(size_t n) {
    if (n > cap_) Reallocate(n > 2 * cap_ ? n : 2 * cap_);
    size_ = n;
  }
  void append(const void* p, size_t n) {
    if (n == 0) return;  // p may be null
    size_t pos = size_;
    resize(size_ + n);
    std::memcpy(buf_.get() + pos, p, n);
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    resize(size_ + 1);
    buf_[size_ - 1] = c;
  }
  // Frees the memory when more than `max_capacity` is held, so that one huge
  // page does not pin memory for the writer's life.
  void ShrinkIfAbove(size_t max_capacity) {
    if (cap_ > max_capacity) {
      buf_.reset();
      cap_ = 0;
      size_ = 0;
    }
  }

 private:
  void Reallocate(size_t cap) {
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (size_ > 0) std::memcpy(fresh.get(), buf_.get(), size_);
    buf_ = std::move(fresh);
    cap_ = cap;
  }

  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;
  size_t cap_ = 0;
};

}  // namespace sluice::parquet
