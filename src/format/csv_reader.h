// CsvReader: the framing half of CSV decoding. Splits a byte stream into
// records and fields (RFC 4180 quoting) without interpreting values; the CSV
// decoder and schema inference both sit on top of it.
//
// The stream is read in large blocks (the buffer starts at 64 KiB and doubles
// up to the block size while input keeps coming) into one buffer; a record that spans a
// block boundary is carried over to the front of the buffer (which grows when a
// single record is larger than a block). Scanning resumes where it stopped, so
// a multi-megabyte record costs linear time however it arrives. Fields are
// views into the buffer; only fields with doubled quotes are unescaped, into a
// scratch buffer. Nothing is allocated per field once the buffers are warm.
//
// Dialect: configurable delimiter and quote ('\0' disables quoting), "" inside
// a quoted field is one quote, quoted fields may hold delimiters and newlines,
// records end with LF or CRLF (the trailing CR is dropped), a UTF-8 BOM at the
// start is skipped, empty lines are skipped, the last record may lack a newline.
// A quote inside an unquoted field is literal. Text between a closing quote and
// the next delimiter, and a quoted field left open at end of input, make the
// record malformed (error() says why) but do not stop the reader.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/status.h"

namespace sluice {

class CsvReader {
 public:
  static constexpr size_t kDefaultBlockSize = 1 << 20;
  static constexpr size_t kInitialBufferSize = 64 << 10;
  // A record larger than this (usually an unbalanced quote swallowing the
  // file) is a file-level error rather than unbounded memory growth.
  static constexpr size_t kMaxRecordBytes = 256u << 20;
  // Fields beyond this many in one record are not kept (the record is marked
  // malformed), so a pathological line cannot cost gigabytes of field spans.
  static constexpr size_t kMaxFields = 1u << 20;

  // `in` must outlive the reader.
  CsvReader(InputStream* in, char delimiter, char quote, size_t block_size = kDefaultBlockSize,
            size_t max_record_bytes = kMaxRecordBytes);

  // Advances to the next non-empty record. Returns false at end of input.
  // Everything below refers to the current record and stays valid until the
  // next call.
  Result<bool> Next();

  size_t num_fields() const { return views_.size(); }
  std::string_view field(size_t i) const { return views_[i]; }
  // True when the field was enclosed in quotes (so it is never NULL).
  bool quoted(size_t i) const { return spans_[i].quoted; }
  // 1-based physical line on which the record starts.
  int64_t line() const { return line_; }
  // The record's text without its line terminator.
  std::string_view raw() const { return raw_; }
  // Empty for a well-formed record, else why it is malformed.
  std::string_view error() const { return error_; }
  // True when the current record ended at end of input rather than at a newline.
  bool ended_at_eof() const { return ended_at_eof_; }
  // Stream offset just past the current record (and its line terminator).
  int64_t end_offset() const { return dropped_ + static_cast<int64_t>(pos_); }
  // 1-based line on which the next record would start.
  int64_t next_line() const { return next_line_; }
  // A reader that starts mid-stream (at a record boundary) must not treat
  // leading bytes EF BB BF as a byte order mark. Call before the first Next().
  void set_skip_bom(bool skip) { bom_checked_ = !skip; }
  const std::string& name() const { return in_->name(); }

 private:
  enum class State : uint8_t { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kClosed };
  struct Span {
    uint32_t begin;  // offsets from the record start
    uint32_t end;
    bool quoted;
    bool escaped;  // holds doubled quotes to collapse
  };

  // Scans from pos_ towards end_. Returns true when the record ended at a
  // newline (pos_ is then just past it).
  bool Scan();
  void EndField(size_t end_abs);
  // Makes room and reads more input. Sets eof_ at end of input.
  Status Refill();
  Status SkipBom();
  void Materialize(size_t record_end_abs);

  InputStream* in_;
  const char delim_;
  const char quote_;
  const bool quoting_;
  const size_t max_record_;
  const size_t block_size_;

  std::vector<char> buf_;
  size_t rec_start_ = 0;  // start of the current record in buf_
  size_t pos_ = 0;        // scan position
  size_t end_ = 0;        // end of valid data
  bool eof_ = false;
  bool bom_checked_ = false;
  bool ended_at_eof_ = false;
  int64_t dropped_ = 0;  // stream bytes shifted out of the front of buf_

  State state_ = State::kFieldStart;
  size_t field_begin_ = 0;  // absolute
  size_t field_end_ = 0;    // absolute; the closing quote of a quoted field
  bool field_escaped_ = false;
  int64_t newlines_in_record_ = 0;
  int64_t next_line_ = 1;

  std::vector<Span> spans_;
  std::vector<std::string_view> views_;
  std::string scratch_;
  int64_t line_ = 0;
  std::string_view raw_;
  std::string error_;
};

}  // namespace sluice
