// TableReader (see table_reader.h): plan (columns, where, pruning ranges,
// cursor), then a scan over the snapshot's files that decodes only the
// projected columns of the row groups, and within them of the pages, that
// may match, evaluates `where` and hands out the matching rows. Cursor
// encoding is in table_cursor.cc, the where -> ranges planning in
// table_where.cc.
#include "engine/table_reader.h"

#include <algorithm>
#include <future>
#include <limits>
#include <optional>

#include "core/thread_pool.h"
#include "core/value_text.h"
#include "engine/table_cursor.h"
#include "engine/table_where.h"
#include "expr/expr.h"
#include "expr/source_text.h"
#include "format/format.h"
#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/page_index.h"
#include "format/parquet/parquet_convert.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet/parquet_types.h"
#include "format/parquet/row_group_filter.h"
#include "format/parquet_reader.h"
#include "format/staged_row.h"
#include "format/text_encoder.h"
#include "sink/partition.h"

namespace sluice {
namespace {

using table_internal::TrBoundText;
using table_internal::TrCollectColumns;
using table_internal::TrCursor;
using table_internal::TrDecodeCursor;
using table_internal::TrEncodeCursor;
using table_internal::TrInside;
using table_internal::TrQueryFingerprint;
using table_internal::TrRange;
using table_internal::TrRangeBuilder;

std::string TrColumnList(const Schema& s) {
  std::string out;
  for (int i = 0; i < s.num_fields(); ++i) {
    if (i > 0) out += ", ";
    out += EscapeName(s.field(i).name);
  }
  return out;
}

// ---- the reader --------------------------------------------------------------------

// A row group to read, and where in it to start (a cursor's row).
struct TrGroup {
  int rg = 0;
  int64_t first_row = 0;  // of the group, in the file
  int64_t skip = 0;       // rows at its start to pass over
};

class TableReaderImpl final : public TableReader {
 public:
  TableReaderImpl(Catalog& catalog, ObjectStore& store, TableReaderOptions options)
      : catalog_(catalog), store_(store), options_(options) {}

  Status Plan(const TableReadRequest& req);

  const Schema& schema() const override { return out_schema_; }
  const std::string& table() const override { return table_; }
  int64_t snapshot() const override { return snapshot_; }
  const std::string& next_cursor() const override { return next_cursor_; }
  const TableReadStats& stats() const override { return stats_; }

  Result<bool> Next(RecordBatch* out) override;

 private:
  // The rows of one decoded batch: consecutive rows of file `file` from
  // file row `first_row`, of which `sel` match (every row when `all`).
  struct Scanned {
    RecordBatch batch;  // read schema
    bool all = true;
    expr::Sel sel;
    size_t file = 0;
    int64_t first_row = 0;

    size_t matches() const { return all ? static_cast<size_t>(batch.num_rows()) : sel.size(); }
    // The batch row of the k-th match.
    int64_t Match(size_t k) const { return all ? static_cast<int64_t>(k) : sel[k]; }
  };

  Result<bool> Scan(Scanned* s);
  // Opens files_[file_] (or decides to skip it): *opened false = skipped.
  Status OpenFile(bool* opened);
  void CloseFile();
  bool PartitionExcludes(const DataFile& f) const;
  // Starts the chunks of group g and plans its row ranges (the cursor's row
  // on, intersected with the pages the where's ranges may match);
  // *any false: no page of the group can match.
  Status StartGroup(const TrGroup& g, bool* any);
  // Moves every column reader to row `row` of the current group.
  Status SkipTo(int64_t row);
  // Page counters: those of closed files plus the open readers'.
  void SyncPageStats();
  void FoldPageStats();
  Status DecodeColumns(int64_t rows, std::vector<Column>* cols);
  Status FileError(const Status& st) const;
  // The output columns of the first `take` matches.
  RecordBatch Project(Scanned&& s, size_t take) const;
  std::string CursorAt(size_t file, int64_t row) const;

  Catalog& catalog_;
  ObjectStore& store_;
  TableReaderOptions options_;

  // The plan.
  std::string table_;
  int64_t snapshot_ = 0;
  std::string query_;  // fingerprint for cursors
  Schema read_schema_;
  Schema out_schema_;
  std::vector<int> out_from_read_;  // output field -> read field
  bool out_is_read_ = false;        // the output is the read schema as it is
  expr::SourceText where_src_;
  expr::ExprPtr where_;  // bound against read_schema_; null = none
  std::vector<TrRange> ranges_;
  bool impossible_ = false;
  std::vector<DataFile> files_;
  int64_t limit_ = -1;
  int64_t batch_rows_ = 0;  // rows per decoded batch now (grows to options_.batch_rows)

  // The scan position: files_[file_], starting at row start_row_ (a cursor's).
  size_t file_ = 0;
  int64_t start_row_ = 0;
  std::unique_ptr<parquet::ParquetFile> pf_;
  std::vector<int> leaf_of_;  // read field -> leaf, -1 when the file lacks it (NULL)
  std::vector<std::unique_ptr<parquet::ColumnChunkReader>> readers_;  // per read field
  std::vector<parquet::RawColumn> raws_;                              // per read field
  std::optional<parquet::RowGroupFilter> filter_;
  std::vector<TrGroup> groups_;
  size_t group_ = 0;                 // next or current group
  bool group_started_ = false;       // its chunks are started
  int64_t group_offset_ = 0;         // row of the current group the readers are at
  parquet::RowRanges group_ranges_;  // rows of the current group to read
  size_t range_ = 0;                 // the current one
  parquet::PageReadStats closed_pages_;

  expr::EvalContext eval_;
  int64_t delivered_ = 0;
  bool done_ = false;
  std::string next_cursor_;
  TableReadStats stats_;
};

Status TableReaderImpl::Plan(const TableReadRequest& req) {
  table_ = req.table;
  ASSIGN_OR_RETURN(TableInfo info, catalog_.GetTable(req.table));
  if (req.snapshot != 0) {
    // Checked before anything else about the request, as the catalog words it.
    ASSIGN_OR_RETURN(files_, catalog_.ListFiles(req.table, req.snapshot));
    snapshot_ = req.snapshot;
  }
  const Schema& ts = info.schema;

  // Output columns.
  std::vector<int> out_fields;
  if (req.columns.empty()) {
    for (int i = 0; i < ts.num_fields(); ++i) out_fields.push_back(i);
  } else {
    for (const std::string& name : req.columns) {
      int idx = ts.FieldIndex(name);
      if (idx < 0) {
        for (int i = 0; i < ts.num_fields(); ++i) {
          if (EqualsIgnoreCase(ts.field(i).name, name)) {
            if (idx >= 0) {
              return Status::InvalidArgument(
                  "column '" + EscapeName(name) + "' of table '" + table_ + "' is ambiguous: '" +
                  EscapeName(ts.field(idx).name) + "' or '" + EscapeName(ts.field(i).name) + "'");
            }
            idx = i;
          }
        }
      }
      if (idx < 0) {
        return Status::InvalidArgument("unknown column '" + EscapeName(name) + "' in table '" +
                                       table_ + "' (columns: " + TrColumnList(ts) + ")");
      }
      if (std::find(out_fields.begin(), out_fields.end(), idx) != out_fields.end()) {
        return Status::InvalidArgument("column '" + EscapeName(ts.field(idx).name) +
                                       "' is requested twice");
      }
      out_fields.push_back(idx);
    }
  }

  // where: bound once against the table for its errors and its columns,
  // then again against the columns read.
  std::vector<bool> used(ts.num_fields(), false);
  for (int f : out_fields) used[f] = true;
  if (!req.where.empty()) {
    where_src_.text = req.where;
    where_src_.file = "where";
    where_src_.line = 1;
    where_src_.column = 1;
    ASSIGN_OR_RETURN(expr::ExprPtr bound, expr::CompileExpression(where_src_, ts));
    if (bound->type.id != TypeId::kBool && !(bound->IsConst() && bound->value.null)) {
      return expr::ExprError(where_src_, bound->pos,
                             "the condition must be boolean, got " + bound->type.ToString());
    }
    TrCollectColumns(*bound, &used);
  }
  std::vector<int> read_of_table(ts.num_fields(), -1);
  for (int i = 0; i < ts.num_fields(); ++i) {
    if (!used[i]) continue;
    read_of_table[i] = read_schema_.num_fields();
    read_schema_.AddField(ts.field(i));
  }
  for (int f : out_fields) {
    out_schema_.AddField(ts.field(f));
    out_from_read_.push_back(read_of_table[f]);
  }
  out_is_read_ = out_schema_.num_fields() == read_schema_.num_fields();
  for (size_t i = 0; out_is_read_ && i < out_from_read_.size(); ++i) {
    out_is_read_ = out_from_read_[i] == static_cast<int>(i);
  }
  if (!req.where.empty()) {
    ASSIGN_OR_RETURN(where_, expr::CompileExpression(where_src_, read_schema_));
    TrRangeBuilder rb(read_schema_);
    rb.Add(*where_);
    impossible_ = rb.impossible();
    ranges_ = rb.Take();
  }

  if (req.limit < -1) {
    return Status::InvalidArgument("limit must be -1 (none) or at least 0, got " +
                                   std::to_string(req.limit));
  }
  limit_ = req.limit;
  query_ = TrQueryFingerprint(req);

  if (!req.cursor.empty()) {
    ASSIGN_OR_RETURN(TrCursor c, TrDecodeCursor(req.cursor));
    if (c.table != req.table) {
      return Status::InvalidArgument("invalid cursor: it was made for table '" + c.table +
                                     "', not '" + req.table + "'");
    }
    if (req.snapshot != 0 && c.snapshot != req.snapshot) {
      return Status::InvalidArgument("invalid cursor: it was made for snapshot " +
                                     std::to_string(c.snapshot) + ", not " +
                                     std::to_string(req.snapshot));
    }
    if (c.query != query_) {
      return Status::InvalidArgument(
          "invalid cursor: it was made for another query (its columns or where differ)");
    }
    if (req.snapshot == 0) {
      ASSIGN_OR_RETURN(files_, catalog_.ListFiles(req.table, c.snapshot));
      snapshot_ = c.snapshot;
    }
    if (c.file >= files_.size()) {
      return Status::InvalidArgument("invalid cursor: snapshot " + std::to_string(snapshot_) +
                                     " of table '" + table_ + "' has no file " +
                                     std::to_string(c.file));
    }
    file_ = c.file;
    start_row_ = c.row;
  } else if (req.snapshot == 0 && info.current_snapshot != 0) {
    // The files of exactly this snapshot: asking for "current" again could
    // see a commit made since.
    ASSIGN_OR_RETURN(files_, catalog_.ListFiles(req.table, info.current_snapshot));
    snapshot_ = info.current_snapshot;
  }
  stats_.files = static_cast<int64_t>(files_.size());

  // Selection vectors hold 32-bit row numbers.
  options_.batch_rows = std::clamp<int64_t>(options_.batch_rows, 1, int64_t{1} << 20);
  const int64_t max_rows = options_.batch_rows;
  batch_rows_ = max_rows;
  if (limit_ >= 0 && limit_ < max_rows) {
    batch_rows_ = std::min(max_rows, std::max<int64_t>(limit_ + 1, 1024));
  }
  if (limit_ == 0 || impossible_) done_ = true;
  return Status::OK();
}

bool TableReaderImpl::PartitionExcludes(const DataFile& f) const {
  if (ranges_.empty() || f.partition.empty()) return false;
  std::string_view rest = f.partition;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    const size_t eq = seg.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = UnescapePartitionValue(seg.substr(0, eq));
    const std::string value = UnescapePartitionValue(seg.substr(eq + 1));
    for (const TrRange& r : ranges_) {
      if (read_schema_.field(r.field).name != name) continue;
      // A string may hold the marker's text itself; only other types know it
      // for NULL, which no range holds.
      if (value == kHiveNullPartition && r.type.id != TypeId::kString) return true;
      StagedValue v;
      if (r.type.id != TypeId::kString && !ParseTextAs(value, r.type, &v)) continue;
      if (!TrInside(r, v, value)) return true;
    }
  }
  return false;
}

Status TableReaderImpl::FileError(const Status& st) const {
  const DataFile& f = files_[file_];
  return st.WithContext("table '" + table_ + "' snapshot " + std::to_string(snapshot_) +
                        ", file '" + f.key + "'");
}

Status TableReaderImpl::OpenFile(bool* opened) {
  *opened = false;
  const DataFile& f = files_[file_];
  if (PartitionExcludes(f)) {
    ++stats_.files_skipped;
    return Status::OK();
  }
  // A committed file waits under its staging key until it is published
  // (section 6); a reader may meet it on either side of that rename.
  Result<std::unique_ptr<InputStream>> in = store_.OpenRead(f.key);
  if (!in.ok() && in.status().code() == StatusCode::kNotFound && !f.staging_key.empty() &&
      f.staging_key != f.key) {
    in = store_.OpenRead(f.staging_key);
    if (!in.ok() && in.status().code() == StatusCode::kNotFound) in = store_.OpenRead(f.key);
  }
  if (!in.ok()) {
    if (in.status().code() == StatusCode::kNotFound) {
      return FileError(Status::DataLoss("the file is missing from the store"));
    }
    return FileError(in.status());
  }
  auto file = MakeRandomAccess(**in);
  if (!file.ok()) return FileError(file.status());
  auto pf = parquet::OpenParquetFile(std::move(file).value());
  if (!pf.ok()) return FileError(pf.status());
  pf_ = std::move(pf).value();

  // Leaves of the read columns; a column the file lacks (added to the table
  // after it was written) reads as NULL.
  const int nf = read_schema_.num_fields();
  leaf_of_.assign(nf, -1);
  FoldPageStats();
  readers_.clear();
  readers_.resize(nf);
  raws_.resize(nf);
  for (int f_i = 0; f_i < nf; ++f_i) {
    const Field& field = read_schema_.field(f_i);
    const int leaf = pf_->FindLeaf(field.name);
    if (leaf < 0) {
      if (!field.nullable) {
        return FileError(Status::DataLoss("it has no column '" + EscapeName(field.name) +
                                          "', which is not nullable"));
      }
      continue;
    }
    const parquet::LeafType& lt = pf_->leaf_types[leaf];
    if (lt.kind == parquet::LeafKind::kUnsupported || !parquet::CanConvert(lt, field.type)) {
      return FileError(Status::DataLoss("its column '" + EscapeName(field.name) + "' (" +
                                        parquet::DescribeLeaf(lt) + ") cannot be read as " +
                                        field.type.ToString()));
    }
    leaf_of_[f_i] = leaf;
    readers_[f_i] =
        std::make_unique<parquet::ColumnChunkReader>(pf_->file.get(), pf_->leaves[leaf]);
  }

  // Row-group pruning, on the columns whose file type is the table's (an
  // older file of a widened column keeps all its groups).
  std::vector<ParquetRangeFilter> filters;
  for (const TrRange& r : ranges_) {
    const int leaf = leaf_of_[r.field];
    if (leaf < 0) {
      // The column is NULL throughout the file: no row is in the range.
      CloseFile();
      ++stats_.files_skipped;
      return Status::OK();
    }
    auto natural = parquet::NaturalType(pf_->leaf_types[leaf], pf_->leaves[leaf].name, f.key);
    if (!natural.ok()) continue;
    const bool both_int = (natural->id == TypeId::kInt32 || natural->id == TypeId::kInt64) &&
                          (r.type.id == TypeId::kInt32 || r.type.id == TypeId::kInt64);
    if (*natural != r.type && !both_int) continue;
    ParquetRangeFilter pr;
    pr.column = pf_->leaves[leaf].name;
    if (r.has_lo) pr.min = TrBoundText(r, true);
    if (r.has_hi) pr.max = TrBoundText(r, false);
    filters.push_back(std::move(pr));
  }
  auto filter = parquet::RowGroupFilter::Make(*pf_, filters);
  if (!filter.ok()) return FileError(filter.status());
  filter_ = std::move(filter).value();

  groups_.clear();
  int64_t first = 0;
  for (int g = 0; g < static_cast<int>(pf_->meta.row_groups.size()); ++g) {
    const int64_t rows = pf_->meta.row_groups[g].num_rows;
    const int64_t begin = first;
    first += rows;
    if (rows <= 0 || first <= start_row_) continue;  // before the cursor's row
    if (!filter_->MayMatch(*pf_, g)) {
      ++stats_.row_groups_skipped;
      continue;
    }
    groups_.push_back({g, begin, std::max<int64_t>(0, start_row_ - begin)});
  }
  group_ = 0;
  group_started_ = false;
  group_offset_ = 0;
  ++stats_.files_read;
  *opened = true;
  return Status::OK();
}

void TableReaderImpl::FoldPageStats() {
  for (const auto& r : readers_) {
    if (r == nullptr) continue;
    closed_pages_.pages_read += r->page_stats().pages_read;
    closed_pages_.pages_skipped += r->page_stats().pages_skipped;
  }
  readers_.clear();
  SyncPageStats();
}

void TableReaderImpl::SyncPageStats() {
  stats_.pages_read = closed_pages_.pages_read;
  stats_.pages_skipped = closed_pages_.pages_skipped;
  for (const auto& r : readers_) {
    if (r == nullptr) continue;
    stats_.pages_read += r->page_stats().pages_read;
    stats_.pages_skipped += r->page_stats().pages_skipped;
  }
}

void TableReaderImpl::CloseFile() {
  FoldPageStats();
  filter_.reset();
  pf_.reset();
  groups_.clear();
  group_ = 0;
  group_started_ = false;
}

Status TableReaderImpl::StartGroup(const TrGroup& g, bool* any) {
  *any = false;
  const int64_t rows = pf_->meta.row_groups[g.rg].num_rows;
  group_ranges_.assign(1, {g.skip, rows});
  if (filter_ && !filter_->empty()) {
    // Pages whose min/max (ColumnIndex) cannot match are never read, in
    // any column: their rows leave the ranges.
    auto matching = filter_->MatchingRows(*pf_, g.rg);
    if (!matching.ok()) return FileError(matching.status());
    group_ranges_ = parquet::IntersectRanges(group_ranges_, *matching);
  }
  if (group_ranges_.empty()) {
    ++stats_.row_groups_skipped;
    return Status::OK();
  }
  // Jumping to a row needs each column's OffsetIndex (its pages start at
  // rows of their own); a group read from its first row needs none.
  const bool seek = group_ranges_.front().begin > 0 || group_ranges_.size() > 1;
  for (size_t f = 0; f < readers_.size(); ++f) {
    if (readers_[f] == nullptr) continue;
    const int leaf = leaf_of_[f];
    auto range = parquet::GetChunkRange(*pf_, g.rg, leaf);
    if (!range.ok()) return FileError(range.status());
    Status st = readers_[f]->StartChunk(pf_->meta.row_groups[g.rg].columns[leaf], g.rg,
                                        range->begin, range->length);
    if (!st.ok()) return FileError(st);
    if (!seek) continue;
    auto index = parquet::ReadOffsetIndex(*pf_, g.rg, leaf);
    if (!index.ok()) return FileError(index.status());
    if (*index) readers_[f]->SetOffsetIndex(std::move(**index), rows);
  }
  ++stats_.row_groups_read;
  group_started_ = true;
  group_offset_ = 0;
  range_ = 0;
  *any = true;
  return Status::OK();
}

Status TableReaderImpl::SkipTo(int64_t row) {
  // With an offset index the pages before `row` are not read at all;
  // without one (older files) their rows are decoded and dropped.
  for (auto& r : readers_) {
    if (r == nullptr) continue;
    Status st = r->SkipRows(row - group_offset_);
    if (!st.ok()) return FileError(st);
  }
  group_offset_ = row;
  return Status::OK();
}

Status TableReaderImpl::DecodeColumns(int64_t rows, std::vector<Column>* cols) {
  const int nf = read_schema_.num_fields();
  cols->assign(nf, Column());
  std::vector<std::vector<parquet::RowIssue>> issues(nf);
  auto work = [&](int f) -> Status {
    const DataType& type = read_schema_.field(f).type;
    if (readers_[f] == nullptr) {
      Column c(type);
      c.Reserve(rows);
      for (int64_t i = 0; i < rows; ++i) c.AppendNull();
      (*cols)[f] = std::move(c);
      return Status::OK();
    }
    parquet::ColumnChunkReader& r = *readers_[f];
    parquet::RawColumn& raw = raws_[f];
    raw.Reset(parquet::PhysicalWidth(r.leaf().physical, r.leaf().type_length), r.leaf().optional);
    RETURN_IF_ERROR(r.Read(rows, &raw));
    (*cols)[f] = parquet::ConvertColumn(raw, pf_->leaf_types[leaf_of_[f]], type, f, &issues[f]);
    return Status::OK();
  };
  if (options_.pool != nullptr && options_.pool->size() > 0 && nf > 1) {
    std::vector<std::future<Status>> futures;
    futures.reserve(nf);
    for (int f = 0; f < nf; ++f)
      futures.push_back(options_.pool->Submit([&work, f] { return work(f); }));
    Status first;
    for (auto& fu : futures) {
      Status st = fu.get();
      if (!st.ok() && first.ok()) first = st;
    }
    if (!first.ok()) return FileError(first);
  } else {
    for (int f = 0; f < nf; ++f) {
      Status st = work(f);
      if (!st.ok()) return FileError(st);
    }
  }
  for (int f = 0; f < nf; ++f) {
    if (issues[f].empty()) continue;
    // The lake holds what sluice wrote in the table's types: a value that
    // does not fit means the file is not what the catalog says.
    const parquet::RowIssue& is = issues[f].front();
    return FileError(Status::DataLoss(
        "row " + std::to_string(groups_[group_].first_row + group_offset_ + is.row + 1) +
        ", column '" + EscapeName(read_schema_.field(f).name) + "': " + is.reason));
  }
  return Status::OK();
}

Result<bool> TableReaderImpl::Scan(Scanned* s) {
  while (true) {
    if (pf_ == nullptr) {
      if (file_ >= files_.size()) return false;
      bool opened = false;
      RETURN_IF_ERROR(OpenFile(&opened));
      if (!opened) {
        ++file_;
        start_row_ = 0;
        continue;
      }
    }
    if (group_ >= groups_.size()) {
      CloseFile();
      ++file_;
      start_row_ = 0;
      continue;
    }
    const TrGroup& g = groups_[group_];
    if (!group_started_) {
      bool any = false;
      RETURN_IF_ERROR(StartGroup(g, &any));
      if (!any) {
        ++group_;
        continue;
      }
    }
    const parquet::RowRange range = group_ranges_[range_];
    if (group_offset_ < range.begin) RETURN_IF_ERROR(SkipTo(range.begin));
    const int64_t n = std::min(batch_rows_, range.end - group_offset_);
    std::vector<Column> cols;
    RETURN_IF_ERROR(DecodeColumns(n, &cols));
    s->batch = RecordBatch();
    s->batch.schema = read_schema_;
    s->batch.columns = std::move(cols);
    s->batch.num_rows_no_columns = n;
    s->file = file_;
    s->first_row = g.first_row + group_offset_;
    stats_.rows_scanned += n;
    group_offset_ += n;
    if (group_offset_ >= range.end && ++range_ >= group_ranges_.size()) {
      ++group_;
      group_started_ = false;
    }
    SyncPageStats();
    batch_rows_ = std::min(batch_rows_ * 2, options_.batch_rows);
    s->all = where_ == nullptr;
    if (!s->all) {
      eval_.Reset(n);
      expr::Vec keep = expr::Evaluate(*where_, s->batch, nullptr, &eval_);
      s->sel = expr::SelectTrue(keep, nullptr);
      if (eval_.HasErrors()) {
        // A failed row is NULL, so `sel` leaves it out already.
        stats_.where_errors += static_cast<int64_t>(eval_.errors().size());
      }
    }
    return true;
  }
}

RecordBatch TableReaderImpl::Project(Scanned&& s, size_t take) const {
  RecordBatch& read = s.batch;
  const int64_t n = read.num_rows();
  RecordBatch out;
  out.schema = out_schema_;
  if (out_is_read_) {
    out.columns = std::move(read.columns);
  } else {
    out.columns.reserve(out_from_read_.size());
    for (int r : out_from_read_) out.columns.push_back(std::move(read.columns[r]));
  }
  out.num_rows_no_columns = n;
  if (take == static_cast<size_t>(n)) return out;  // every row matched
  if (s.all) return out.Slice(0, static_cast<int64_t>(take));
  s.sel.resize(take);
  return out.Select(s.sel);
}

std::string TableReaderImpl::CursorAt(size_t file, int64_t row) const {
  TrCursor c;
  c.table = table_;
  c.snapshot = snapshot_;
  c.file = static_cast<uint32_t>(file);
  c.row = row;
  c.query = query_;
  return TrEncodeCursor(c);
}

Result<bool> TableReaderImpl::Next(RecordBatch* out) {
  while (!done_) {
    Scanned s;
    if (limit_ >= 0 && delivered_ >= limit_) {
      // The page is full: read on to the next matching row, if any, which is
      // where the next page starts.
      while (true) {
        ASSIGN_OR_RETURN(bool more, Scan(&s));
        if (!more) break;
        if (s.matches() > 0) {
          next_cursor_ = CursorAt(s.file, s.first_row + s.Match(0));
          break;
        }
      }
      done_ = true;
      break;
    }
    ASSIGN_OR_RETURN(bool more, Scan(&s));
    if (!more) {
      done_ = true;
      break;
    }
    const size_t matches = s.matches();
    if (matches == 0) continue;
    size_t take = matches;
    if (limit_ >= 0) take = static_cast<size_t>(std::min<int64_t>(limit_ - delivered_, take));
    if (take < matches) {
      next_cursor_ = CursorAt(s.file, s.first_row + s.Match(take));
      done_ = true;
    }
    delivered_ += static_cast<int64_t>(take);
    stats_.rows_returned += static_cast<int64_t>(take);
    *out = Project(std::move(s), take);
    return true;
  }
  CloseFile();
  *out = RecordBatch::Empty(out_schema_);
  return false;
}

// An OutputStream that writes through to one the caller owns and leaves
// closing it to the caller.
class TrBorrowedOutput final : public OutputStream {
 public:
  explicit TrBorrowedOutput(OutputStream& out) : out_(out), start_(out.Tell()) {}
  Status Write(const void* data, size_t n) override { return out_.Write(data, n); }
  int64_t Tell() const override { return out_.Tell() - start_; }
  Status Close() override { return Status::OK(); }
  void Abort() override {}

 private:
  OutputStream& out_;
  int64_t start_;
};

}  // namespace

Result<std::unique_ptr<TableReader>> OpenTableReader(Catalog& catalog, ObjectStore& store,
                                                     const TableReadRequest& request,
                                                     const TableReaderOptions& options) {
  auto reader = std::make_unique<TableReaderImpl>(catalog, store, options);
  RETURN_IF_ERROR(reader->Plan(request));
  return std::unique_ptr<TableReader>(std::move(reader));
}

Result<RowsFormat> ParseRowsFormat(std::string_view name) {
  if (name == "json") return RowsFormat::kJson;
  if (name == "ndjson") return RowsFormat::kNdjson;
  if (name == "csv") return RowsFormat::kCsv;
  if (name == "parquet") return RowsFormat::kParquet;
  return Status::InvalidArgument("unknown format '" + std::string(name) +
                                 "' (formats: json, ndjson, csv, parquet)");
}

std::string_view RowsFormatContentType(RowsFormat format) {
  switch (format) {
    case RowsFormat::kJson:
      return "application/json";
    case RowsFormat::kNdjson:
      return "application/x-ndjson";
    case RowsFormat::kCsv:
      return "text/csv; charset=utf-8";
    case RowsFormat::kParquet:
      return "application/vnd.apache.parquet";
  }
  return "application/octet-stream";
}

Status WriteTableRows(TableReader& reader, const std::string& format, OutputStream& out,
                      ThreadPool* pool) {
  ASSIGN_OR_RETURN(RowsFormat f, ParseRowsFormat(format));
  auto borrowed = std::make_unique<TrBorrowedOutput>(out);
  std::unique_ptr<Encoder> enc;
  switch (f) {
    case RowsFormat::kJson: {
      ASSIGN_OR_RETURN(enc, NewJsonEncoder(std::move(borrowed), reader.schema(), pool));
      break;
    }
    case RowsFormat::kNdjson: {
      ASSIGN_OR_RETURN(enc, NewNdjsonEncoder(std::move(borrowed), reader.schema(), pool));
      break;
    }
    case RowsFormat::kCsv: {
      ASSIGN_OR_RETURN(enc,
                       NewCsvEncoder(std::move(borrowed), reader.schema(), CsvOptions{}, pool));
      break;
    }
    case RowsFormat::kParquet: {
      ParquetWriterOptions po;
      // Snappy, as DuckDB's COPY TO writes by default: cheap to make, and the
      // response is read once.
      po.compression = Compression::kSnappy;
      po.pool = pool;
      ASSIGN_OR_RETURN(enc, NewParquetEncoder(std::move(borrowed), reader.schema(), po));
      break;
    }
  }
  RecordBatch batch;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&batch));
    if (!more) break;
    RETURN_IF_ERROR(enc->Write(batch));
  }
  return enc->Finish();
}

}  // namespace sluice
