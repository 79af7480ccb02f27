// CSV decoder: chunked, parallel decoding with a vectorised fast path and the
// exact scalar reader (CsvReader) as its reference.
//
// Per chunk, the fast path indexes structural characters with SIMD
// (csv_index.h), slices records and fields from the index and converts each
// field straight into column buffers (BatchBuilder). Anything the fast path
// does not interpret exactly like CsvReader (a quote inside an unquoted field,
// junk after a closing quote, a lone quote inside a quoted field, a quote left
// open) makes it hand the whole chunk to CsvReader, so both paths accept and
// reject exactly the same records with the same reasons. Records become rows
// and bad records in csv_records.h.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/value_text.h"
#include "format/chunked_decoder.h"
#include "format/csv_header.h"
#include "format/csv_index.h"
#include "format/csv_reader.h"
#include "format/csv_records.h"
#include "format/decoders_internal.h"
#include "format/format.h"
#include "format/line_ends.h"

namespace sluice {

namespace {

Status ValidateCsvOptions(const CsvOptions& o, const std::string& name) {
  auto bad = [](char c) { return c == '\n' || c == '\r'; };
  if (bad(o.delimiter) || o.delimiter == '\0') {
    return Status::InvalidArgument("csv delimiter must be a printable character (file '" + name +
                                   "')");
  }
  if (bad(o.quote) || o.quote == o.delimiter) {
    return Status::InvalidArgument(
        "csv quote must differ from the delimiter and from line breaks (file '" + name + "')");
  }
  return Status::OK();
}

// After an unclean chunk: the rest of the input, read exactly.
class CsvSequentialDecoder final : public Decoder {
 public:
  CsvSequentialDecoder(std::unique_ptr<InputStream> in, std::shared_ptr<const CsvPlan> plan,
                       int64_t first_line)
      : in_(std::move(in)),
        plan_(std::move(plan)),
        reader_(in_.get(), plan_->csv.delimiter, plan_->csv.quote),
        sink_(*plan_, &pending_, plan_->batch_rows),
        line_offset_(first_line - 1) {
    reader_.set_skip_bom(false);
  }

  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    std::vector<FieldText> fields;
    while (pending_.batches.empty() && pending_.bad.empty() && !eof_) {
      ASSIGN_OR_RETURN(bool more, reader_.Next());
      if (!more) {
        eof_ = true;
        sink_.Flush();
        break;
      }
      fields.resize(reader_.num_fields());
      for (size_t i = 0; i < fields.size(); ++i) fields[i] = {reader_.field(i), reader_.quoted(i)};
      sink_.Add(fields.data(), fields.size(), reader_.line() + line_offset_, reader_.raw(),
                reader_.error(), false);
    }
    const bool had_bad = !pending_.bad.empty();
    for (BadRecord& b : pending_.bad) bad->push_back(std::move(b));
    pending_.bad.clear();
    if (!pending_.batches.empty()) {
      *out = std::move(pending_.batches.front());
      pending_.batches.erase(pending_.batches.begin());
      return true;
    }
    if (had_bad) {
      *out = RecordBatch::Empty(plan_->schema);
      return true;
    }
    return false;
  }
  int64_t records_read() const override { return pending_.records; }

 private:
  std::unique_ptr<InputStream> in_;
  std::shared_ptr<const CsvPlan> plan_;
  CsvReader reader_;
  ChunkResult pending_;
  CsvRecordSink sink_;
  int64_t line_offset_;
  bool eof_ = false;
};

class CsvChunkFormat final : public ChunkFormat {
 public:
  CsvChunkFormat(const DecoderOptions& options, std::string file, bool fast_path)
      : plan_(std::make_shared<CsvPlan>()) {
    CsvPlan& p = *plan_;
    p.fast_path = fast_path;
    p.schema = options.schema;
    p.csv = options.csv;
    p.file = std::move(file);
    p.batch_rows = std::max<int64_t>(options.batch_rows, 1);
    ignore_unknown_ = options.ignore_unknown_fields;
    for (const std::string& n : p.csv.null_values) {
      if (n.empty()) {
        p.empty_is_null = true;
      } else {
        p.other_nulls.push_back(n);
      }
    }
    for (int i = 0; i < p.schema.num_fields(); ++i) {
      if (p.schema.field(i).type.id == TypeId::kString) p.string_fields.push_back(i);
      if (!p.schema.field(i).nullable) p.required.push_back(i);
    }
  }

  Result<std::optional<size_t>> ConsumePrefix(std::string_view head, bool eof,
                                              int64_t* lines) override {
    CsvPlan& p = *plan_;
    const int nf = p.schema.num_fields();
    if (!p.csv.header) {
      if (head.size() < 3 && !eof) return std::optional<size_t>();
      p.column_to_field.resize(nf);
      for (int i = 0; i < nf; ++i) p.column_to_field[i] = i;
      p.PlanColumns();
      *lines = 0;
      return std::optional<size_t>(head.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0);
    }
    ViewInput in(head, p.file);
    CsvReader reader(&in, p.csv.delimiter, p.csv.quote);
    ASSIGN_OR_RETURN(bool has_header, reader.Next());
    if (!has_header) {
      if (!eof) return std::optional<size_t>();
      p.no_records = true;  // empty file: no header, no records
      *lines = 0;
      return std::optional<size_t>(head.size());
    }
    if (reader.ended_at_eof() && !eof) return std::optional<size_t>();
    if (!reader.error().empty()) {
      return Status::InvalidArgument("cannot read the header of '" + p.file + "' (line " +
                                     std::to_string(reader.line()) +
                                     "): " + std::string(reader.error()));
    }
    RETURN_IF_ERROR(MapHeader(reader));
    p.PlanColumns();
    *lines = reader.next_line() - 1;
    return std::optional<size_t>(static_cast<size_t>(reader.end_offset()));
  }

  size_t FindCut(std::string_view block) const override {
    if (plan_->no_records) return block.size();
    const char q = plan_->csv.quote;
    if (q == '\0') {
      const void* nl = memrchr(block.data(), '\n', block.size());
      return nl == nullptr ? 0
                           : static_cast<size_t>(static_cast<const char*>(nl) - block.data()) + 1;
    }
    // A line feed ends a record when an even number of quotes precede it.
    size_t parity = CountByte(block.data(), block.size(), q) & 1;
    for (size_t i = block.size(); i-- > 0;) {
      const char c = block[i];
      if (c == q) {
        parity ^= 1;
      } else if (c == '\n' && parity == 0) {
        return i + 1;
      }
    }
    return 0;
  }

  ChunkResult Parse(const Chunk& chunk) const override {
    ChunkResult r;
    if (plan_->no_records) return r;
    if (plan_->fast_path && ParseFast(chunk, &r)) return r;
    r = ChunkResult();
    ParseExact(chunk, &r);
    return r;
  }

  Result<std::unique_ptr<Decoder>> Sequential(std::unique_ptr<InputStream> rest,
                                              int64_t first_line) const override {
    return std::unique_ptr<Decoder>(
        std::make_unique<CsvSequentialDecoder>(std::move(rest), plan_, first_line));
  }

 private:
  // Columns are matched by the names CsvColumnNames gives them (the names
  // inference proposes): exactly first, so that "id" and "ID" can both exist
  // in a schema, then ignoring case.
  Status MapHeader(const CsvReader& reader) {
    CsvPlan& p = *plan_;
    const int nf = p.schema.num_fields();
    const size_t nc = reader.num_fields();
    // A CR outside quotes in the header: the lines end in CR only, and the
    // start of the file held no line break to tell (a header past 1 MiB).
    // Reading on would give one header line and no rows, reported as success.
    for (size_t c = 0; c < nc; ++c) {
      if (!reader.quoted(c) && reader.field(c).find('\r') != std::string_view::npos) {
        return Status::InvalidArgument(
            "the header of '" + p.file + "' holds a carriage return in column " +
            std::to_string(c + 1) +
            ": its lines seem to end in CR only, which is recognised when the first line "
            "ends within 1 MiB; convert the line ends to LF (tr '\\r' '\\n')");
      }
    }
    const std::vector<CsvColumnName> names = CsvColumnNames(reader);
    p.column_to_field.assign(nc, -1);
    std::vector<int> field_to_column(nf, -1);
    std::unordered_map<std::string_view, int> by_name;
    for (int i = 0; i < nf; ++i) by_name.emplace(p.schema.field(i).name, i);
    for (size_t c = 0; c < nc; ++c) {
      auto it = by_name.find(names[c].name);
      if (it == by_name.end()) continue;
      field_to_column[it->second] = static_cast<int>(c);
      p.column_to_field[c] = it->second;
    }
    // Fields by lower-cased name, in schema order: linear in columns + fields
    // even for tens of thousands of columns.
    std::unordered_map<std::string, std::vector<int>> by_lower;
    for (int f = 0; f < nf; ++f) by_lower[AsciiLower(p.schema.field(f).name)].push_back(f);
    for (size_t c = 0; c < nc; ++c) {
      if (p.column_to_field[c] >= 0) continue;
      auto it = by_lower.find(AsciiLower(names[c].name));
      if (it == by_lower.end()) continue;
      for (int f : it->second) {
        if (field_to_column[f] < 0) {
          field_to_column[f] = static_cast<int>(c);
          p.column_to_field[c] = f;
          break;
        }
      }
    }
    for (size_t c = 0; c < nc; ++c) {
      if (p.column_to_field[c] >= 0) continue;
      const std::string_view own = TrimBlanks(reader.field(c));
      if (names[c].repeated && by_lower.count(AsciiLower(own)) > 0) {
        // A second 'amount' that the schema does not name as amount_2: which
        // one the schema means is not for sluice to guess.
        return Status::InvalidArgument(
            "column '" + EscapeName(own) + "' appears twice in the header of '" + p.file +
            "' (column " + std::to_string(c + 1) + " reads as '" + EscapeName(names[c].name) +
            "'); name it '" + EscapeName(names[c].name) +
            "' in the schema to read it, or rename it in the file");
      }
      if (!ignore_unknown_) {
        return Status::InvalidArgument("column '" + EscapeName(names[c].name) +
                                       "' in the header of '" + p.file + "' is not in the schema");
      }
    }
    for (int f = 0; f < nf; ++f) {
      if (field_to_column[f] >= 0) continue;
      if (!p.schema.field(f).nullable) {
        return Status::InvalidArgument("file '" + p.file + "' has no column for field '" +
                                       EscapeName(p.schema.field(f).name) +
                                       "', which is not nullable");
      }
      p.absent.push_back(f);
    }
    return Status::OK();
  }

  // The vectorised path. Returns false (leaving *r unspecified) when the chunk
  // holds something only the exact reader interprets correctly.
  //
  // Runs of regular records (the expected number of fields) are converted a
  // block at a time, column by column (CsvRecordSink::AddBlock); a block that
  // meets anything unusual, and every irregular record, goes record by record.
  bool ParseFast(const Chunk& chunk, ChunkResult* r) const {
    const CsvPlan& p = *plan_;
    const char* buf = chunk.bytes.data();
    const size_t n = chunk.size;
    const char q = p.csv.quote;
    const char d = p.csv.delimiter;
    const bool utf8 = simdjson::validate_utf8(buf, n);
    CsvRecordSink sink(p, r, static_cast<int64_t>(n / 64));
    CsvIndexState st;
    constexpr size_t kSegment = 64 * 1024;
    std::vector<uint32_t> seps(std::min(kSegment, n) + 64);
    std::vector<FieldText> fields;
    std::vector<CsvRecordSpan> block;
    std::string scratch;
    size_t pending = 0;    // separators of the record in progress
    size_t rec_start = 0;  // where that record starts
    int64_t line = 0;      // its 0-based line in the chunk

    // One record, on its own: fast if it can, else through FieldTexts.
    auto one = [&](const CsvRecordSpan& rec) -> bool {
      const uint32_t* ends = seps.data() + rec.first_sep;
      const size_t m = rec.fields;
      if (utf8 && sink.FastAdd(buf, rec.start, ends, m, rec.raw_end, rec.line)) return true;
      if (m > CsvReader::kMaxFields) return false;
      fields.resize(m);
      scratch.clear();
      for (size_t i = 0; i < m; ++i) {
        const size_t fs = i == 0 ? rec.start : ends[i - 1] + 1;
        const size_t fe = i == m - 1 ? rec.raw_end : ends[i];
        if (q == '\0' || fe == fs || buf[fs] != q) {
          fields[i] = {std::string_view(buf + fs, fe - fs), false};
          continue;
        }
        if (fe - fs < 2 || buf[fe - 1] != q) return false;  // junk after the closing quote
        std::string_view inner(buf + fs + 1, fe - fs - 2);
        if (std::memchr(inner.data(), q, inner.size()) == nullptr) {
          fields[i] = {inner, true};
          continue;
        }
        if (scratch.capacity() < rec.raw_end - rec.start) scratch.reserve(rec.raw_end - rec.start);
        const size_t at = scratch.size();
        for (size_t k = 0; k < inner.size(); ++k) {
          scratch.push_back(inner[k]);
          if (inner[k] == q) {
            if (k + 1 >= inner.size() || inner[k + 1] != q) return false;  // a lone quote
            ++k;
          }
        }
        fields[i] = {std::string_view(scratch.data() + at, scratch.size() - at), true};
      }
      sink.Add(fields.data(), m, rec.line,
               std::string_view(buf + rec.start, rec.raw_end - rec.start), {}, utf8);
      return true;
    };
    auto flush_block = [&]() -> bool {
      if (block.empty()) return true;
      const size_t done = utf8 ? sink.AddBlock(buf, seps.data(), block) : 0;
      for (size_t i = done; i < block.size(); ++i) {
        if (!one(block[i])) return false;
      }
      block.clear();
      return true;
    };
    // The record ending at separator j (a line feed, or n for the tail).
    auto record = [&](size_t k, size_t j, size_t rec_end) -> bool {
      CsvRecordSpan rec{static_cast<uint32_t>(rec_start), static_cast<uint32_t>(k),
                        static_cast<uint32_t>(rec_end), static_cast<uint32_t>(j - k + 1), line};
      if (rec.raw_end > rec_start && buf[rec.raw_end - 1] == '\r') --rec.raw_end;
      line += 1;
      if (st.quoted_lf) line += std::count(buf + rec_start, buf + rec_end, '\n');
      if (rec.fields == 1 && rec.raw_end == rec_start) return true;  // an empty line
      if (rec.fields == p.columns.size()) {
        block.push_back(rec);
        return true;
      }
      return flush_block() && one(rec);
    };

    for (size_t seg = 0; seg < n; seg += kSegment) {
      const size_t seg_end = std::min(n, seg + kSegment);
      if (seps.size() < pending + (seg_end - seg) + 64) seps.resize(pending + (seg_end - seg) + 64);
      const size_t total = pending + IndexCsv(buf, seg, seg_end, d, q, &st, seps.data() + pending);
      if (st.stray_quote) return false;
      size_t k = 0;
      for (size_t j = pending; j < total; ++j) {
        if (buf[seps[j]] != '\n') continue;
        if (!record(k, j, seps[j])) return false;
        rec_start = seps[j] + 1;
        k = j + 1;
      }
      // Blocks refer to separators by index: convert them before compacting.
      if (!flush_block()) return false;
      std::copy(seps.begin() + static_cast<std::ptrdiff_t>(k),
                seps.begin() + static_cast<std::ptrdiff_t>(total), seps.begin());
      pending = total - k;
    }
    if (st.inside != 0) return false;  // a quote left open: exact reader decides
    if (rec_start < n) {
      if (!chunk.final) return false;
      seps[pending] = static_cast<uint32_t>(n);
      if (!record(0, pending, n) || !flush_block()) return false;
    }
    sink.Flush();
    r->lines = line;
    return true;
  }

  void ParseExact(const Chunk& chunk, ChunkResult* r) const {
    const CsvPlan& p = *plan_;
    ViewInput in(chunk.data(), p.file);
    CsvReader reader(&in, p.csv.delimiter, p.csv.quote);
    reader.set_skip_bom(false);
    CsvRecordSink sink(p, r, 1024);
    std::vector<FieldText> fields;
    for (;;) {
      auto more = reader.Next();
      if (!more.ok()) {
        r->status = more.status();
        return;
      }
      if (!*more) break;
      if (reader.ended_at_eof() && !chunk.final) {
        r->clean = false;  // the chunk was cut inside a quoted field
        return;
      }
      fields.resize(reader.num_fields());
      for (size_t i = 0; i < fields.size(); ++i) fields[i] = {reader.field(i), reader.quoted(i)};
      sink.Add(fields.data(), fields.size(), reader.line() - 1, reader.raw(), reader.error(),
               false);
    }
    sink.Flush();
    r->lines = reader.next_line() - 1;
  }

  std::shared_ptr<CsvPlan> plan_;
  bool ignore_unknown_ = true;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options,
                                               const ChunkedOptions& chunking) {
  if (in == nullptr) return Status::InvalidArgument("csv decoder needs an input stream");
  RETURN_IF_ERROR(ValidateCsvOptions(options.csv, in->name()));
  auto format = std::make_unique<CsvChunkFormat>(options, in->name(), chunking.fast_paths);
  return NewChunkedDecoder(WithLfLineEnds(std::move(in), options.csv.quote), std::move(format),
                           options, chunking);
}

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options) {
  return NewCsvDecoder(std::move(in), options, ChunkedOptions{});
}

}  // namespace sluice
