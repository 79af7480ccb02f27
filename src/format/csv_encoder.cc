// CSV encoder: RFC 4180 text that the CSV decoder reads back as the same
// values (quoting and NULL rules in text_encoder.h).
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format/text_buffer.h"
#include "format/text_encoder.h"
#include "format/text_encoder_base.h"

namespace sluice {

namespace {

// Every character a formatted non-string value can contain (digits, signs,
// '.', date and time separators, exponents, nan/inf, true/false).
constexpr std::string_view kPlainValueChars = "0123456789+-.:TZeinaftrusl";

class CsvEncoder final : public TextEncoderBase {
 public:
  CsvEncoder(std::unique_ptr<OutputStream> out, const Schema& schema, const CsvOptions& options,
             ThreadPool* pool)
      : TextEncoderBase(std::move(out), schema, pool, "csv"),
        delimiter_(options.delimiter),
        quote_(options.quote) {
    null_text_ = options.null_values.empty() ? "" : options.null_values.front();
    for (const std::string& n : options.null_values) {
      if (!n.empty()) markers_.push_back(n);
    }
    special_.fill(false);
    for (char c : {delimiter_, quote_, '\n', '\r'}) special_[static_cast<unsigned char>(c)] = true;
    // In the default dialect no number, date or boolean needs quotes; an odd
    // delimiter ('.', '-', ':') or a null marker such as "0" makes them
    // candidates too, checked after formatting.
    check_plain_ = !markers_.empty() ||
                   kPlainValueChars.find(delimiter_) != std::string_view::npos ||
                   kPlainValueChars.find(quote_) != std::string_view::npos;
    if (options.header) WriteHeader();
  }

 protected:
  void FormatRows(const RecordBatch& batch, int64_t begin, int64_t end,
                  TextBuffer* buf) const override {
    const size_t nc = batch.columns.size();
    for (int64_t r = begin; r < end; ++r) {
      for (size_t c = 0; c < nc; ++c) {
        if (c != 0) buf->Push(delimiter_);
        FormatCell(batch.columns[c], r, buf);
      }
      buf->Push('\n');
    }
  }

 private:
  void WriteHeader() {
    TextBuffer& buf = buffer();
    for (int c = 0; c < schema().num_fields(); ++c) {
      if (c != 0) buf.Push(delimiter_);
      WriteString(schema().field(c).name, &buf);
    }
    buf.Push('\n');
  }

  void FormatCell(const Column& col, int64_t r, TextBuffer* buf) const {
    if (!col.IsValid(r)) {
      buf->Append(null_text_);
      return;
    }
    if (col.type().id == TypeId::kString) {
      WriteString(col.GetString(r), buf);
      return;
    }
    char* start = buf->Ensure(kMaxValueChars);
    char* p = start;
    switch (col.type().id) {
      case TypeId::kBool:
        if (col.data<uint8_t>()[r] != 0) {
          std::memcpy(p, "true", 4);
          p += 4;
        } else {
          std::memcpy(p, "false", 5);
          p += 5;
        }
        break;
      case TypeId::kInt32:
        p = WriteInt64(p, col.data<int32_t>()[r]);
        break;
      case TypeId::kInt64:
        p = WriteInt64(p, col.data<int64_t>()[r]);
        break;
      case TypeId::kFloat64:
        p = WriteFloat64(p, col.data<double>()[r]);
        break;
      case TypeId::kDecimal:
        p = WriteDecimal(p, col.data<int64_t>()[r], col.type().scale);
        break;
      case TypeId::kDate:
        p = WriteDate(p, col.data<int32_t>()[r]);
        break;
      case TypeId::kTimestamp:
        p = WriteTimestamp(p, col.data<int64_t>()[r]);
        break;
      case TypeId::kString:
        break;
    }
    buf->set_end(p);
    if (check_plain_) {
      std::string_view text(start, static_cast<size_t>(p - start));
      if (NeedsQuotes(text)) {
        // Rare dialects only: copy out, then write again quoted.
        std::string copy(text);
        buf->set_end(start);
        WriteQuoted(copy, buf);
      }
    }
  }

  bool HasSpecial(std::string_view s) const {
    const char* p = s.data();
    size_t n = s.size(), i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v = SwarLoad(p + i);
      if (SwarHasByte(v, static_cast<unsigned char>(delimiter_)) |
          SwarHasByte(v, static_cast<unsigned char>(quote_)) | SwarHasByte(v, '\n') |
          SwarHasByte(v, '\r')) {
        break;  // look at this word byte by byte below
      }
    }
    for (; i < n; ++i) {
      if (special_[static_cast<unsigned char>(p[i])]) return true;
    }
    return false;
  }

  bool NeedsQuotes(std::string_view s) const {
    if (s.empty()) return true;  // an empty unquoted field would read as NULL
    const char first = s.front(), last = s.back();
    if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return true;
    if (HasSpecial(s)) return true;
    for (const std::string& m : markers_) {
      if (s == m) return true;
    }
    return false;
  }

  void WriteString(std::string_view s, TextBuffer* buf) const {
    if (NeedsQuotes(s)) {
      WriteQuoted(s, buf);
    } else {
      buf->Append(s);
    }
  }

  void WriteQuoted(std::string_view s, TextBuffer* buf) const {
    // Worst case every character is a quote and doubles.
    char* p = buf->Ensure(2 * s.size() + 2);
    *p++ = quote_;
    const char* in = s.data();
    const char* in_end = in + s.size();
    while (in < in_end) {
      const void* q = std::memchr(in, quote_, static_cast<size_t>(in_end - in));
      const char* stop = q == nullptr ? in_end : static_cast<const char*>(q) + 1;
      std::memcpy(p, in, static_cast<size_t>(stop - in));
      p += stop - in;
      if (q != nullptr) *p++ = quote_;
      in = stop;
    }
    *p++ = quote_;
    buf->set_end(p);
  }

  char delimiter_;
  char quote_;
  std::string null_text_;
  std::vector<std::string> markers_;  // non-empty null markers: such strings are quoted
  std::array<bool, 256> special_{};
  bool check_plain_ = false;
};

}  // namespace

Result<std::unique_ptr<Encoder>> NewCsvEncoder(std::unique_ptr<OutputStream> out,
                                               const Schema& schema, const CsvOptions& options,
                                               ThreadPool* pool) {
  if (out == nullptr) return Status::InvalidArgument("csv encoder needs an output stream");
  auto line_break = [](char c) { return c == '\n' || c == '\r' || c == '\0'; };
  if (line_break(options.delimiter)) {
    return Status::InvalidArgument("csv delimiter must be a printable character");
  }
  if (line_break(options.quote) || options.quote == options.delimiter) {
    return Status::InvalidArgument("csv quote must differ from the delimiter and from line breaks");
  }
  for (const std::string& n : options.null_values) {
    for (char c : n) {
      if (c == options.delimiter || c == options.quote || c == '\n' || c == '\r') {
        return Status::InvalidArgument("csv null marker '" + n +
                                       "' cannot hold the delimiter, the quote or a line break");
      }
    }
  }
  return std::unique_ptr<Encoder>(
      std::make_unique<CsvEncoder>(std::move(out), schema, options, pool));
}

}  // namespace sluice
