// LineReader: newline framing for line-oriented formats (NDJSON).
//
// Reads the stream in large blocks (starting at 64 KiB, doubling up to the
// block size) into one buffer and hands out each line as
// a view (without "\n" or "\r\n"), carrying a partial last line over to the
// next block. The search for '\n' resumes where it stopped, so a line of many
// blocks costs linear time. The buffer always has `padding` readable bytes
// after the data, which lets simdjson parse a line in place. A UTF-8 BOM at
// the start of the stream is skipped.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/status.h"

namespace sluice {

class LineReader {
 public:
  static constexpr size_t kDefaultBlockSize = 1 << 20;
  static constexpr size_t kInitialBufferSize = 64 << 10;
  static constexpr size_t kMaxLineBytes = 256u << 20;

  // `in` must outlive the reader.
  LineReader(InputStream* in, size_t padding, size_t block_size = kDefaultBlockSize,
             size_t max_line_bytes = kMaxLineBytes);

  // Advances to the next line (empty lines included). Returns false at end of
  // input. line() stays valid until the next call.
  Result<bool> Next();
  std::string_view line() const { return line_; }
  // 1-based physical line number of line().
  int64_t line_number() const { return line_number_; }
  // Bytes that may be read from line().data(): at least line().size() + padding.
  size_t readable_from_line() const {
    return buf_.size() - static_cast<size_t>(line_.data() - buf_.data());
  }

 private:
  Status Refill();

  InputStream* in_;
  const size_t padding_;
  const size_t max_line_;
  const size_t block_size_;
  std::vector<char> buf_;  // capacity() + padding_ bytes
  size_t cap_;             // usable data capacity
  size_t start_ = 0;       // start of the current (partial) line
  size_t scan_ = 0;        // where the search for '\n' resumes
  size_t end_ = 0;
  bool eof_ = false;
  bool bom_checked_ = false;
  std::string_view line_;
  int64_t line_number_ = 0;
};

}  // namespace sluice
