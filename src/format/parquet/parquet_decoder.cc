// The Parquet Decoder: projection, row-group pruning, batch assembly and the
// conversion of each column into the declared type (see parquet_reader.h).
#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "core/value_text.h"
#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/parquet_convert.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet/row_group_filter.h"
#include "format/parquet_reader.h"
#include "format/staged_row.h"

namespace sluice {

namespace {

using parquet::ColumnChunkReader;
using parquet::ParquetFile;
using parquet::RawColumn;
using parquet::RowIssue;

// A run of rows of one row group that goes into the current batch.
struct Segment {
  int rg = 0;
  bool starts_chunk = false;
  int64_t rows = 0;
};

// The text of one value for BadRecord::raw.
nlohmann::json CellJson(const Column& c, int64_t i) {
  if (c.IsNull(i)) return nullptr;
  switch (c.type().id) {
    case TypeId::kBool:
      return c.Value<uint8_t>(i) != 0;
    case TypeId::kInt32:
      return c.Value<int32_t>(i);
    case TypeId::kInt64:
      return c.Value<int64_t>(i);
    case TypeId::kFloat64:
      return c.Value<double>(i);
    case TypeId::kDecimal:
      return FormatDecimal(c.Value<int64_t>(i), c.type().scale);
    case TypeId::kString: {
      std::string_view s = c.GetString(i);
      return std::string(s.substr(0, 1024));
    }
    case TypeId::kDate:
      return FormatDate(c.Value<int32_t>(i));
    case TypeId::kTimestamp:
      return FormatTimestamp(c.Value<int64_t>(i));
  }
  return nullptr;
}

class ParquetDecoder final : public Decoder {
 public:
  ParquetDecoder(std::unique_ptr<InputStream> in, const DecoderOptions& options)
      : in_(std::move(in)), options_(options) {}

  Status Open(const ParquetReadOptions& parquet) {
    ASSIGN_OR_RETURN(auto file, MakeRandomAccess(*in_));
    ASSIGN_OR_RETURN(pf_, parquet::OpenParquetFile(std::move(file)));
    if (options_.schema.num_fields() == 0) {
      ASSIGN_OR_RETURN(schema_, parquet::NaturalSchema(*pf_));
    } else {
      schema_ = options_.schema;
    }
    const std::string& name = pf_->name();
    std::vector<bool> used(pf_->leaves.size(), false);
    for (int f = 0; f < schema_.num_fields(); ++f) {
      const Field& field = schema_.field(f);
      int leaf = pf_->FindLeaf(field.name);
      if (leaf >= 0 && used[leaf]) leaf = -1;
      if (leaf < 0) {
        if (!field.nullable) {
          return Status::InvalidArgument("parquet file '" + name + "' has no column for field '" +
                                         EscapeName(field.name) + "', which is not nullable");
        }
        leaf_of_field_.push_back(-1);
        reader_of_field_.push_back(-1);
        continue;
      }
      used[leaf] = true;
      const parquet::LeafType& lt = pf_->leaf_types[leaf];
      if (lt.kind == parquet::LeafKind::kUnsupported) {
        return Status::InvalidArgument("parquet file '" + name + "', column '" +
                                       EscapeName(pf_->leaves[leaf].name) + "': " + lt.unsupported +
                                       " is not supported");
      }
      if (!parquet::CanConvert(lt, field.type)) {
        return Status::InvalidArgument("parquet file '" + name + "', column '" +
                                       EscapeName(pf_->leaves[leaf].name) + "' (" +
                                       parquet::DescribeLeaf(lt) + ") cannot be read as " +
                                       field.type.ToString() + "; declare it as string");
      }
      leaf_of_field_.push_back(leaf);
      readers_.push_back(std::make_unique<ColumnChunkReader>(pf_->file.get(), pf_->leaves[leaf]));
      reader_of_field_.push_back(static_cast<int>(readers_.size()) - 1);
    }
    if (!options_.ignore_unknown_fields) {
      for (size_t l = 0; l < used.size(); ++l) {
        if (!used[l]) {
          return Status::InvalidArgument("column '" + EscapeName(pf_->leaves[l].name) +
                                         "' of parquet file '" + name + "' is not in the schema");
        }
      }
    }
    ASSIGN_OR_RETURN(auto filter, parquet::RowGroupFilter::Make(*pf_, parquet.row_group_filters));
    int64_t first_row = 0;
    for (int g = 0; g < static_cast<int>(pf_->meta.row_groups.size()); ++g) {
      const int64_t rows = pf_->meta.row_groups[g].num_rows;
      if (rows > 0 && filter.MayMatch(*pf_, g)) groups_.push_back({g, first_row});
      first_row += rows;
    }
    raws_.resize(readers_.size());
    return Status::OK();
  }

  // With a pool, the next batch is decoded (on a thread of its own, which
  // spreads the columns over the pool) while the caller works on this one.
  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    if (options_.pool == nullptr || options_.pool->size() == 0) {
      Result<bool> more = Decode(out, bad);
      records_read_ = decoded_;
      return more;
    }
    if (!ahead_.valid()) ahead_ = DecodeAhead();
    Decoded d = ahead_.get();
    records_read_ = d.records_read;
    for (BadRecord& b : d.bad) bad->push_back(std::move(b));
    if (!d.more.ok()) return d.more.status();
    if (*d.more) ahead_ = DecodeAhead();
    *out = std::move(d.batch);
    return *d.more;
  }

  int64_t records_read() const override { return records_read_; }

 private:
  struct Decoded {
    Result<bool> more = false;
    RecordBatch batch;
    std::vector<BadRecord> bad;
    int64_t records_read = 0;
  };

  std::future<Decoded> DecodeAhead() {
    return std::async(std::launch::async, [this] {
      Decoded d;
      d.more = Decode(&d.batch, &d.bad);
      d.records_read = decoded_;
      return d;
    });
  }

  Result<bool> Decode(RecordBatch* out, std::vector<BadRecord>* bad) {
    const int64_t limit = std::max<int64_t>(options_.batch_rows, 1);
    // Plan the batch: rows from the current row group onwards.
    std::vector<Segment> segments;
    int64_t rows = 0;
    const int64_t batch_first_row = next_row_;
    while (rows < limit && next_group_ < groups_.size()) {
      const auto& [g, first] = groups_[next_group_];
      const int64_t group_rows = pf_->meta.row_groups[g].num_rows;
      if (group_offset_ == 0 && rows > 0 && first != next_row_)
        break;  // keep row numbers contiguous
      if (group_offset_ == 0) next_row_ = first;
      const int64_t k = std::min(limit - rows, group_rows - group_offset_);
      segments.push_back({g, group_offset_ == 0, k});
      rows += k;
      group_offset_ += k;
      next_row_ += k;
      if (group_offset_ == group_rows) {
        ++next_group_;
        group_offset_ = 0;
      }
    }
    const int64_t first_row = segments.empty() ? batch_first_row : next_row_ - rows;
    if (rows == 0) {
      *out = RecordBatch::Empty(schema_);
      return false;
    }

    // Decode and convert each column, in parallel when there is a pool.
    std::vector<Column> columns(schema_.num_fields());
    std::vector<std::vector<RowIssue>> issues(schema_.num_fields());
    auto work = [&](int f) -> Status {
      const int leaf = leaf_of_field_[f];
      if (leaf < 0) return Status::OK();
      ColumnChunkReader& r = *readers_[reader_of_field_[f]];
      RawColumn& raw = raws_[reader_of_field_[f]];
      raw.Reset(parquet::PhysicalWidth(r.leaf().physical, r.leaf().type_length), r.leaf().optional);
      for (const Segment& s : segments) {
        if (s.starts_chunk) {
          ASSIGN_OR_RETURN(auto range, parquet::GetChunkRange(*pf_, s.rg, leaf));
          RETURN_IF_ERROR(r.StartChunk(pf_->meta.row_groups[s.rg].columns[leaf], s.rg, range.begin,
                                       range.length));
        }
        RETURN_IF_ERROR(r.Read(s.rows, &raw));
      }
      columns[f] =
          parquet::ConvertColumn(raw, pf_->leaf_types[leaf], schema_.field(f).type, f, &issues[f]);
      return Status::OK();
    };
    if (options_.pool != nullptr && options_.pool->size() > 0 && readers_.size() > 1) {
      std::vector<std::future<Status>> futures;
      futures.reserve(schema_.num_fields());
      for (int f = 0; f < schema_.num_fields(); ++f) {
        futures.push_back(options_.pool->Submit([&work, f] { return work(f); }));
      }
      Status first_error;
      for (auto& fu : futures) {
        Status st = fu.get();
        if (!st.ok() && first_error.ok()) first_error = st;
      }
      RETURN_IF_ERROR(first_error);
    } else {
      for (int f = 0; f < schema_.num_fields(); ++f) RETURN_IF_ERROR(work(f));
    }

    RecordBatch batch;
    batch.schema = schema_;
    batch.columns.reserve(schema_.num_fields());
    std::vector<RowIssue> all;
    for (int f = 0; f < schema_.num_fields(); ++f) {
      if (leaf_of_field_[f] < 0) {
        Column c(schema_.field(f).type);
        c.Reserve(rows);
        for (int64_t i = 0; i < rows; ++i) c.AppendNull();
        columns[f] = std::move(c);
      }
      if (!schema_.field(f).nullable && columns[f].has_nulls()) {
        for (int64_t i = 0; i < rows; ++i) {
          if (columns[f].IsNull(i)) all.push_back({i, f, "null in not-null field"});
        }
      }
      all.insert(all.end(), issues[f].begin(), issues[f].end());
      batch.columns.push_back(std::move(columns[f]));
    }
    batch.num_rows_no_columns = rows;
    decoded_ += rows;

    if (all.empty()) {
      batch.source_lines.resize(static_cast<size_t>(rows));
      for (int64_t i = 0; i < rows; ++i) batch.source_lines[i] = first_row + i + 1;
      *out = std::move(batch);
      return true;
    }
    // A value that does not fit makes its whole row bad; report the first
    // reason per row (a conversion problem before a resulting NULL).
    std::stable_sort(all.begin(), all.end(),
                     [](const RowIssue& a, const RowIssue& b) { return a.row < b.row; });
    std::vector<uint32_t> keep;
    keep.reserve(static_cast<size_t>(rows));
    size_t k = 0;
    for (int64_t i = 0; i < rows; ++i) {
      if (k < all.size() && all[k].row == i) {
        const RowIssue* pick = &all[k];
        for (size_t j = k; j < all.size() && all[j].row == i; ++j) {
          if (all[j].reason != "null in not-null field") {
            pick = &all[j];
            break;
          }
        }
        nlohmann::json row = nlohmann::json::object();
        for (int f = 0; f < schema_.num_fields(); ++f) {
          row[schema_.field(f).name] = CellJson(batch.columns[f], i);
        }
        bad->push_back(
            BadRecord{first_row + i + 1, schema_.field(pick->field).name, pick->reason,
                      CapRaw(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))});
        while (k < all.size() && all[k].row == i) ++k;
        continue;
      }
      keep.push_back(static_cast<uint32_t>(i));
    }
    RecordBatch good = batch.Select(keep);
    good.source_lines.resize(keep.size());
    for (size_t i = 0; i < keep.size(); ++i) good.source_lines[i] = first_row + keep[i] + 1;
    *out = std::move(good);
    return true;
  }

  std::unique_ptr<InputStream> in_;
  DecoderOptions options_;
  Schema schema_;
  std::unique_ptr<ParquetFile> pf_;
  std::vector<int> leaf_of_field_;    // schema field -> leaf, -1 when absent (NULL)
  std::vector<int> reader_of_field_;  // schema field -> readers_ index (fields with a leaf)
  std::vector<std::unique_ptr<ColumnChunkReader>> readers_;
  std::vector<RawColumn> raws_;
  // Row groups to read (after pruning) and the file row number of their first row.
  std::vector<std::pair<int, int64_t>> groups_;
  size_t next_group_ = 0;
  int64_t group_offset_ = 0;
  int64_t next_row_ = 0;
  int64_t decoded_ = 0;       // rows decoded (by Decode, on whichever thread)
  int64_t records_read_ = 0;  // rows of the batches handed out
  // Last member: destroyed first, so a decode still running finishes while
  // everything it uses is alive.
  std::future<Decoded> ahead_;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewParquetDecoder(std::unique_ptr<InputStream> in,
                                                   const DecoderOptions& options,
                                                   const ParquetReadOptions& parquet) {
  if (in == nullptr) return Status::InvalidArgument("parquet decoder needs an input stream");
  auto dec = std::make_unique<ParquetDecoder>(std::move(in), options);
  RETURN_IF_ERROR(dec->Open(parquet));
  return std::unique_ptr<Decoder>(std::move(dec));
}

Result<Schema> InferParquetSchema(InputStream& in) {
  ASSIGN_OR_RETURN(auto file, MakeRandomAccess(in));
  ASSIGN_OR_RETURN(auto pf, parquet::OpenParquetFile(std::move(file)));
  return parquet::NaturalSchema(*pf);
}

}  // namespace sluice
