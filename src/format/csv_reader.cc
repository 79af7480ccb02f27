#include "format/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sluice {

CsvReader::CsvReader(InputStream* in, char delimiter, char quote, size_t block_size,
                     size_t max_record_bytes)
    : in_(in),
      delim_(delimiter),
      quote_(quote),
      quoting_(quote != '\0'),
      max_record_(max_record_bytes),
      block_size_(std::max<size_t>(block_size, 16)),
      buf_(std::min(block_size_, kInitialBufferSize)) {}

Status CsvReader::Refill() {
  // Start small (cheap for small inputs) and double up to the block size
  // while the stream keeps delivering.
  if (end_ == buf_.size() && buf_.size() < block_size_) {
    buf_.resize(std::min(buf_.size() * 2, block_size_));
  }
  if (end_ == buf_.size()) {
    // Carry the partial record over to the front of the buffer.
    if (rec_start_ > 0) {
      size_t shift = rec_start_;
      dropped_ += static_cast<int64_t>(shift);
      std::memmove(buf_.data(), buf_.data() + shift, end_ - shift);
      end_ -= shift;
      pos_ -= shift;
      field_begin_ -= std::min(field_begin_, shift);
      field_end_ -= std::min(field_end_, shift);
      rec_start_ = 0;
    }
    // Grow when one record fills most of the buffer, so that the carry-over
    // stays amortised linear even for a record of many blocks.
    if (buf_.size() - end_ < buf_.size() / 2) {
      if (end_ >= max_record_) {
        return Status::InvalidArgument("record starting at line " + std::to_string(next_line_) +
                                       " of '" + in_->name() + "' is larger than " +
                                       std::to_string(max_record_ >> 20) +
                                       " MiB (is a quote left open?)");
      }
      buf_.resize(buf_.size() * 2);
    }
  }
  ASSIGN_OR_RETURN(size_t n, in_->Read(buf_.data() + end_, buf_.size() - end_));
  if (n == 0) eof_ = true;
  end_ += n;
  return Status::OK();
}

Status CsvReader::SkipBom() {
  while (end_ < 3 && !eof_) RETURN_IF_ERROR(Refill());
  if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  bom_checked_ = true;
  return Status::OK();
}

void CsvReader::EndField(size_t end_abs) {
  if (spans_.size() >= kMaxFields) {
    if (error_.empty()) error_ = "more than " + std::to_string(kMaxFields) + " fields";
    return;
  }
  Span s;
  if (state_ == State::kUnquoted || state_ == State::kFieldStart) {
    s = {static_cast<uint32_t>(field_begin_ - rec_start_),
         static_cast<uint32_t>(end_abs - rec_start_), false, false};
  } else {
    s = {static_cast<uint32_t>(field_begin_ + 1 - rec_start_),
         static_cast<uint32_t>(field_end_ - rec_start_), true, field_escaped_};
  }
  spans_.push_back(s);
}

bool CsvReader::Scan() {
  const char* b = buf_.data();
  size_t p = pos_;
  while (p < end_) {
    switch (state_) {
      case State::kFieldStart:
        field_begin_ = p;
        field_escaped_ = false;
        if (quoting_ && b[p] == quote_) {
          state_ = State::kQuoted;
          ++p;
        } else {
          state_ = State::kUnquoted;
        }
        break;
      case State::kUnquoted: {
        // The hot loop: find the next delimiter or newline. Quotes are literal here.
        size_t q = p;
        const char d = delim_;
        while (q < end_ && b[q] != d && b[q] != '\n') ++q;
        if (q == end_) {
          p = q;
          break;
        }
        EndField(q);
        if (b[q] == d) {
          state_ = State::kFieldStart;
          p = q + 1;
          break;
        }
        pos_ = q + 1;
        Materialize(q);
        return true;
      }
      case State::kQuoted: {
        const void* q = std::memchr(b + p, quote_, end_ - p);
        size_t qe = q != nullptr ? static_cast<size_t>(static_cast<const char*>(q) - b) : end_;
        newlines_in_record_ += std::count(b + p, b + qe, '\n');
        if (q == nullptr) {
          p = end_;
          break;
        }
        p = qe + 1;
        state_ = State::kQuoteInQuoted;
        break;
      }
      case State::kQuoteInQuoted:
        if (b[p] == quote_) {  // doubled quote: a literal quote
          field_escaped_ = true;
          state_ = State::kQuoted;
          ++p;
          break;
        }
        field_end_ = p - 1;  // the closing quote
        state_ = State::kClosed;
        break;
      case State::kClosed: {
        char c = b[p];
        if (c == delim_) {
          EndField(p);
          state_ = State::kFieldStart;
          ++p;
        } else if (c == '\n') {
          EndField(p);
          pos_ = p + 1;
          Materialize(p);
          return true;
        } else {
          // A CR before the newline is the CRLF terminator; anything else is junk.
          if (c != '\r' && error_.empty()) error_ = "unexpected character after closing quote";
          ++p;
        }
        break;
      }
    }
  }
  pos_ = p;
  return false;
}

void CsvReader::Materialize(size_t record_end_abs) {
  const char* base = buf_.data() + rec_start_;
  size_t len = record_end_abs - rec_start_;
  if (len > 0 && base[len - 1] == '\r') {
    --len;
    // Only an unquoted last field still holds the CR (kClosed skipped it).
    Span& last = spans_.back();
    if (!last.quoted && last.end > last.begin && base[last.end - 1] == '\r') --last.end;
  }
  raw_ = std::string_view(base, len);

  size_t escaped_bytes = 0;
  for (const Span& s : spans_) {
    if (s.escaped) escaped_bytes += s.end - s.begin;
  }
  scratch_.clear();
  // Reserved up front so that views into scratch_ stay valid while it fills.
  if (escaped_bytes > scratch_.capacity()) scratch_.reserve(escaped_bytes);
  views_.resize(spans_.size());
  for (size_t i = 0; i < spans_.size(); ++i) {
    const Span& s = spans_[i];
    if (!s.escaped) {
      views_[i] = std::string_view(base + s.begin, s.end - s.begin);
      continue;
    }
    size_t start = scratch_.size();
    for (uint32_t k = s.begin; k < s.end; ++k) {
      scratch_.push_back(base[k]);
      if (base[k] == quote_ && k + 1 < s.end && base[k + 1] == quote_) ++k;
    }
    views_[i] = std::string_view(scratch_.data() + start, scratch_.size() - start);
  }
}

Result<bool> CsvReader::Next() {
  if (!bom_checked_) RETURN_IF_ERROR(SkipBom());
  while (true) {
    rec_start_ = pos_;
    spans_.clear();
    error_.clear();
    state_ = State::kFieldStart;
    newlines_in_record_ = 0;
    line_ = next_line_;
    bool ended = false;
    while (!(ended = Scan()) && !eof_) RETURN_IF_ERROR(Refill());
    ended_at_eof_ = !ended;
    if (ended) {
      next_line_ = line_ + newlines_in_record_ + 1;
    } else {
      // End of input inside a record: the last line had no newline.
      if (end_ == rec_start_) return false;
      switch (state_) {
        case State::kQuoted:
          if (error_.empty()) error_ = "unterminated quoted field";
          field_end_ = end_;
          break;
        case State::kQuoteInQuoted:
          field_end_ = end_ - 1;
          break;
        case State::kFieldStart:  // input ends right after a delimiter
          field_begin_ = end_;
          break;
        default:
          break;
      }
      EndField(end_);
      pos_ = end_;
      Materialize(end_);
    }
    // A line that is empty (or only a CR) is skipped, not read as one empty field.
    if (raw_.empty() && spans_.size() == 1 && !spans_[0].quoted) {
      if (!ended) return false;
      continue;
    }
    return true;
  }
}

}  // namespace sluice
