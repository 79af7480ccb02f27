// TableReader (see table_reader.h): plan (columns, where, pruning ranges,
// cursor), then a scan over the snapshot's files that decodes only the
// projected columns of the row groups that may match, evaluates `where`
// and hands out the matching rows.
#include "engine/table_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <optional>

#include "core/hash.h"
#include "core/thread_pool.h"
#include "core/value_text.h"
#include "expr/expr.h"
#include "expr/source_text.h"
#include "format/format.h"
#include "format/parquet/column_chunk_reader.h"
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

// ---- cursor ------------------------------------------------------------------
//
// base64url (no padding) of:
//   u8 version (1) | i64 snapshot | u32 file index | i64 row in file |
//   8 bytes query fingerprint | u16 table length | table bytes |
//   8 bytes check (SHA-256 of the bytes before it, truncated)
// all little-endian. The check catches a cursor that was cut, altered or
// made up by hand; it is not a secret (whoever can read a table may page
// through it anyway), so it needs no key.

constexpr uint8_t kTrCursorVersion = 1;
constexpr char kTrBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string TrBase64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTrBase64Url[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kTrBase64Url[(v >> 18) & 63]);
    out.push_back(kTrBase64Url[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kTrBase64Url[(v >> 18) & 63]);
    out.push_back(kTrBase64Url[(v >> 12) & 63]);
    out.push_back(kTrBase64Url[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> TrBase64UrlDecode(std::string_view in) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int d = digit(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so that every cursor has one spelling.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// The first 8 bytes of SHA-256(domain + data).
std::string TrDigest8(std::string_view domain, std::string_view data) {
  std::string text(domain);
  text.append(data);
  const std::string hex = Sha256Hex(text);
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

// Identifies the query a cursor belongs to: the columns as requested and
// the where text (not the limit, which may change from page to page).
std::string TrQueryFingerprint(const TableReadRequest& r) {
  std::string q;
  for (const std::string& c : r.columns) {
    q += c;
    q.push_back('\0');
  }
  q.push_back('\1');
  q += r.where;
  return TrDigest8("sluice.rows.query\n", q);
}

struct TrCursor {
  std::string table;
  int64_t snapshot = 0;
  uint32_t file = 0;
  int64_t row = 0;
  std::string query;  // 8 bytes
};

template <typename T>
void TrPut(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

template <typename T>
bool TrGet(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

constexpr std::string_view kTrCursorDomain = "sluice.rows.cursor\n";

std::string TrEncodeCursor(const TrCursor& c) {
  std::string b;
  TrPut<uint8_t>(&b, kTrCursorVersion);
  TrPut<int64_t>(&b, c.snapshot);
  TrPut<uint32_t>(&b, c.file);
  TrPut<int64_t>(&b, c.row);
  b += c.query;
  TrPut<uint16_t>(&b, static_cast<uint16_t>(c.table.size()));
  b += c.table;
  b += TrDigest8(kTrCursorDomain, b);
  return TrBase64UrlEncode(b);
}

Result<TrCursor> TrDecodeCursor(const std::string& text) {
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("invalid cursor: " + why);
  };
  if (text.size() > 4096) return bad("too long");
  std::optional<std::string> bytes = TrBase64UrlDecode(text);
  if (!bytes) return bad("not base64url");
  if (bytes->size() < 8) return bad("too short");
  std::string_view body(bytes->data(), bytes->size() - 8);
  std::string_view check(bytes->data() + body.size(), 8);
  if (TrDigest8(kTrCursorDomain, body) != check) {
    return bad("its check does not match (altered or cut?)");
  }
  TrCursor c;
  uint8_t version = 0;
  uint16_t table_len = 0;
  std::string_view in = body;
  if (!TrGet(&in, &version) || version != kTrCursorVersion) return bad("unknown version");
  if (!TrGet(&in, &c.snapshot) || !TrGet(&in, &c.file) || !TrGet(&in, &c.row) || in.size() < 8) {
    return bad("truncated");
  }
  c.query.assign(in.data(), 8);
  in.remove_prefix(8);
  if (!TrGet(&in, &table_len) || in.size() != table_len) return bad("truncated");
  c.table.assign(in.data(), in.size());
  if (c.snapshot <= 0 || c.row < 0) return bad("out of range");
  return c;
}

// ---- where -> ranges -----------------------------------------------------------

enum class TrDomain { kInt, kFloat, kString, kNone };

TrDomain TrDomainOf(TypeId id) {
  switch (id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return TrDomain::kInt;
    case TypeId::kFloat64:
      return TrDomain::kFloat;
    case TypeId::kString:
      return TrDomain::kString;
    case TypeId::kBool:
      return TrDomain::kNone;  // two values: nothing worth pruning
  }
  return TrDomain::kNone;
}

// A conservative range of one read column's values, in the column's own type
// (ints: int32/int64/date/timestamp values, decimals unscaled). Pruning
// keeps whatever may hold a value inside it.
struct TrRange {
  int field = -1;  // in the read schema
  DataType type;
  bool has_lo = false, has_hi = false;
  int64_t ilo = 0, ihi = 0;
  double flo = 0, fhi = 0;
  std::string slo, shi;
};

struct TrBound {
  int64_t i = 0;
  double f = 0;
  std::string s;
};

enum class TrFit { kValue, kUnbounded, kImpossible };

__int128 TrPow10(int n) {
  __int128 p = 1;
  for (int k = 0; k < n; ++k) p *= 10;
  return p;
}

__int128 TrDivRound(__int128 x, __int128 d, bool up) {
  __int128 q = x / d;
  const __int128 r = x % d;
  if (r != 0 && ((r > 0) == up)) q += up ? 1 : -1;
  return q;
}

// The constant `v` (of type `t`, the type the comparison is made in)
// as a bound on a column of type `col`, rounded outwards (down for a lower
// bound, up for an upper one) where the column cannot hold it exactly.
// kUnbounded: the bound says nothing about the column; kImpossible: no
// value of the column satisfies it.
TrFit TrToColumn(const expr::Scalar& v, const DataType& t, const DataType& col, bool lower,
                 TrBound* out) {
  if (v.null) return TrFit::kImpossible;  // a comparison with NULL is never true
  switch (TrDomainOf(col.id)) {
    case TrDomain::kNone:
      return TrFit::kUnbounded;
    case TrDomain::kString:
      if (t.id != TypeId::kString) return TrFit::kUnbounded;
      out->s = v.s;
      return TrFit::kValue;
    case TrDomain::kFloat:
      if (t.id != TypeId::kFloat64 || std::isnan(v.f)) return TrFit::kUnbounded;
      out->f = v.f;
      return TrFit::kValue;
    case TrDomain::kInt:
      break;
  }
  const bool col_int = col.id == TypeId::kInt32 || col.id == TypeId::kInt64;
  const int col_scale = col.id == TypeId::kDecimal ? col.scale : 0;
  __int128 x = 0;
  if (col_int || col.id == TypeId::kDecimal) {
    if (t.id == TypeId::kInt32 || t.id == TypeId::kInt64) {
      x = static_cast<__int128>(v.i) * TrPow10(col_scale);
    } else if (t.id == TypeId::kDecimal) {
      const int ts = t.scale;
      x = ts >= col_scale ? TrDivRound(v.i, TrPow10(ts - col_scale), !lower)
                          : static_cast<__int128>(v.i) * TrPow10(col_scale - ts);
    } else if (t.id == TypeId::kFloat64) {
      const double scaled = v.f * static_cast<double>(TrPow10(col_scale));
      // Beyond 2^52 doubles skip integers; such a bound prunes nothing useful.
      if (!std::isfinite(scaled) || std::fabs(scaled) >= 4503599627370496.0) {
        return TrFit::kUnbounded;
      }
      x = static_cast<__int128>(lower ? std::floor(scaled) : std::ceil(scaled));
    } else {
      return TrFit::kUnbounded;
    }
  } else if (col.id == TypeId::kDate) {
    if (t.id == TypeId::kDate) {
      x = v.i;
    } else if (t.id == TypeId::kTimestamp) {
      // date <= ts  <=>  date <= floor(ts / day); for a lower bound the floor
      // is one day too early at most.
      x = TrDivRound(v.i, int64_t{86400} * 1000000, false);
    } else {
      return TrFit::kUnbounded;
    }
  } else if (col.id == TypeId::kTimestamp) {
    if (t.id != TypeId::kTimestamp) return TrFit::kUnbounded;
    x = v.i;
  } else {
    return TrFit::kUnbounded;
  }
  __int128 lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  if (col.id == TypeId::kInt32 || col.id == TypeId::kDate) {
    lo = std::numeric_limits<int32_t>::min();
    hi = std::numeric_limits<int32_t>::max();
  } else if (col.id == TypeId::kDecimal) {
    hi = TrPow10(col.precision) - 1;
    lo = -hi;
  }
  if (x < lo) return lower ? TrFit::kUnbounded : TrFit::kImpossible;
  if (x > hi) return lower ? TrFit::kImpossible : TrFit::kUnbounded;
  out->i = static_cast<int64_t>(x);
  return TrFit::kValue;
}

// The column a comparison side reads, when it is a column or an
// order-preserving widening of one (the binder's implicit casts), else null.
const expr::Expr* TrColumnSide(const expr::Expr& e) {
  if (e.op == expr::Op::kColumn) return &e;
  if (e.op != expr::Op::kCast || e.args.size() != 1 || e.args[0]->op != expr::Op::kColumn) {
    return nullptr;
  }
  const DataType& from = e.args[0]->type;
  const DataType& to = e.type;
  const bool from_int = from.id == TypeId::kInt32 || from.id == TypeId::kInt64;
  if (from_int &&
      (to.id == TypeId::kInt64 || to.id == TypeId::kDecimal || to.id == TypeId::kFloat64)) {
    return e.args[0].get();
  }
  if (from.id == TypeId::kDecimal && to.id == TypeId::kDecimal && to.scale >= from.scale) {
    return e.args[0].get();
  }
  if (from.id == TypeId::kDate && to.id == TypeId::kTimestamp) return e.args[0].get();
  return nullptr;
}

// The ranges the conjuncts of `where` (bound against the read schema) put
// on read columns. *impossible: some conjunct can never be true.
class TrRangeBuilder {
 public:
  explicit TrRangeBuilder(const Schema& read) : read_(read) {}

  void Add(const expr::Expr& e) {
    using expr::Op;
    if (impossible_) return;
    if (e.op == Op::kAnd) {
      for (const auto& a : e.args) Add(*a);
      return;
    }
    if (e.IsConst()) {
      if (e.value.null || (e.type.id == TypeId::kBool && e.value.i == 0)) impossible_ = true;
      return;
    }
    if (e.op == Op::kIn) {
      AddIn(e);
      return;
    }
    if (e.op < Op::kEq || e.op > Op::kGe || e.op == Op::kNe || e.args.size() != 2) return;
    const expr::Expr* col = TrColumnSide(*e.args[0]);
    const expr::Expr* cst = e.args[1].get();
    Op op = e.op;
    if (col == nullptr || !cst->IsConst()) {
      // constant op column: flip the comparison.
      col = TrColumnSide(*e.args[1]);
      cst = e.args[0].get();
      if (col == nullptr || !cst->IsConst()) return;
      if (op == Op::kLt)
        op = Op::kGt;
      else if (op == Op::kLe)
        op = Op::kGe;
      else if (op == Op::kGt)
        op = Op::kLt;
      else if (op == Op::kGe)
        op = Op::kLe;
    }
    const DataType& t = cst->type;
    const bool lo = op == Op::kEq || op == Op::kGt || op == Op::kGe;
    const bool hi = op == Op::kEq || op == Op::kLt || op == Op::kLe;
    if (lo) Bound(col->column, cst->value, t, true);
    if (hi) Bound(col->column, cst->value, t, false);
  }

  bool impossible() const { return impossible_; }
  std::vector<TrRange> Take() {
    std::vector<TrRange> out;
    for (TrRange& r : ranges_) {
      if (r.has_lo || r.has_hi) out.push_back(std::move(r));
    }
    return out;
  }

 private:
  void AddIn(const expr::Expr& e) {
    if (e.negated || e.state == nullptr || e.args.empty()) return;
    const expr::Expr* col = TrColumnSide(*e.args[0]);
    if (col == nullptr) return;
    const auto* set = static_cast<const expr::InSet*>(e.state.get());
    const DataType& t = e.args[0]->type;
    expr::Scalar mn, mx;
    mn.type = mx.type = t;
    switch (expr::PhysOf(t.id)) {
      case expr::Phys::kBool:
        return;
      case expr::Phys::kInt:
        if (set->ints.empty()) break;
        mn.i = *std::min_element(set->ints.begin(), set->ints.end());
        mx.i = *std::max_element(set->ints.begin(), set->ints.end());
        mn.null = mx.null = false;
        break;
      case expr::Phys::kFloat:
        if (set->floats.empty()) break;
        for (double f : set->floats) {
          if (std::isnan(f)) return;
        }
        mn.f = *std::min_element(set->floats.begin(), set->floats.end());
        mx.f = *std::max_element(set->floats.begin(), set->floats.end());
        mn.null = mx.null = false;
        break;
      case expr::Phys::kString:
        if (set->string_list.empty()) break;
        mn.s = *std::min_element(set->string_list.begin(), set->string_list.end());
        mx.s = *std::max_element(set->string_list.begin(), set->string_list.end());
        mn.null = mx.null = false;
        break;
    }
    // `x IN (NULL)` (no value besides NULL) is never true: mn stays null.
    Bound(col->column, mn, t, true);
    Bound(col->column, mx, t, false);
  }

  void Bound(int field, const expr::Scalar& v, const DataType& t, bool lower) {
    if (field < 0 || field >= read_.num_fields()) return;
    const DataType& ct = read_.field(field).type;
    TrBound b;
    switch (TrToColumn(v, t, ct, lower, &b)) {
      case TrFit::kUnbounded:
        return;
      case TrFit::kImpossible:
        impossible_ = true;
        return;
      case TrFit::kValue:
        break;
    }
    TrRange& r = RangeOf(field);
    const TrDomain d = TrDomainOf(ct.id);
    if (lower) {
      if (!r.has_lo || (d == TrDomain::kInt && b.i > r.ilo) ||
          (d == TrDomain::kFloat && b.f > r.flo) || (d == TrDomain::kString && b.s > r.slo)) {
        r.ilo = b.i;
        r.flo = b.f;
        r.slo = std::move(b.s);
      }
      r.has_lo = true;
    } else {
      if (!r.has_hi || (d == TrDomain::kInt && b.i < r.ihi) ||
          (d == TrDomain::kFloat && b.f < r.fhi) || (d == TrDomain::kString && b.s < r.shi)) {
        r.ihi = b.i;
        r.fhi = b.f;
        r.shi = std::move(b.s);
      }
      r.has_hi = true;
    }
    if (r.has_lo && r.has_hi &&
        ((d == TrDomain::kInt && r.ilo > r.ihi) || (d == TrDomain::kFloat && r.flo > r.fhi) ||
         (d == TrDomain::kString && r.slo > r.shi))) {
      impossible_ = true;
    }
  }

  TrRange& RangeOf(int field) {
    for (TrRange& r : ranges_) {
      if (r.field == field) return r;
    }
    TrRange r;
    r.field = field;
    r.type = read_.field(field).type;
    ranges_.push_back(std::move(r));
    return ranges_.back();
  }

  const Schema& read_;
  std::vector<TrRange> ranges_;
  bool impossible_ = false;
};

// A bound as the text ParquetRangeFilter takes (the column's own spelling).
std::string TrBoundText(const TrRange& r, bool lower) {
  const int64_t i = lower ? r.ilo : r.ihi;
  switch (r.type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      return std::to_string(i);
    case TypeId::kDecimal:
      return FormatDecimal(i, r.type.scale);
    case TypeId::kDate:
      return FormatDate(static_cast<int32_t>(i));
    case TypeId::kTimestamp:
      return FormatTimestamp(i);
    case TypeId::kFloat64: {
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof(buf), lower ? r.flo : r.fhi);
      return std::string(buf, res.ptr);
    }
    case TypeId::kString:
      return lower ? r.slo : r.shi;
    case TypeId::kBool:
      break;
  }
  return "";
}

// Whether a value parsed in the range's type lies inside it.
bool TrInside(const TrRange& r, const StagedValue& v, std::string_view text) {
  switch (TrDomainOf(r.type.id)) {
    case TrDomain::kInt:
      return !((r.has_lo && v.i < r.ilo) || (r.has_hi && v.i > r.ihi));
    case TrDomain::kFloat:
      return !((r.has_lo && v.f < r.flo) || (r.has_hi && v.f > r.fhi));
    case TrDomain::kString:
      return !((r.has_lo && text < std::string_view(r.slo)) ||
               (r.has_hi && text > std::string_view(r.shi)));
    case TrDomain::kNone:
      break;
  }
  return true;
}

void TrCollectColumns(const expr::Expr& e, std::vector<bool>* used) {
  if (e.op == expr::Op::kColumn && e.column >= 0 && e.column < static_cast<int>(used->size())) {
    (*used)[e.column] = true;
  }
  for (const auto& a : e.args) TrCollectColumns(*a, used);
}

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
  Status StartGroup(const TrGroup& g);
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
  std::vector<TrGroup> groups_;
  size_t group_ = 0;            // next or current group
  bool group_started_ = false;  // its chunks are started
  int64_t group_offset_ = 0;    // rows of the current group consumed

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

  groups_.clear();
  int64_t first = 0;
  for (int g = 0; g < static_cast<int>(pf_->meta.row_groups.size()); ++g) {
    const int64_t rows = pf_->meta.row_groups[g].num_rows;
    const int64_t begin = first;
    first += rows;
    if (rows <= 0 || first <= start_row_) continue;  // before the cursor's row
    if (!filter->MayMatch(*pf_, g)) {
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

void TableReaderImpl::CloseFile() {
  readers_.clear();
  pf_.reset();
  groups_.clear();
  group_ = 0;
  group_started_ = false;
}

Status TableReaderImpl::StartGroup(const TrGroup& g) {
  for (size_t f = 0; f < readers_.size(); ++f) {
    if (readers_[f] == nullptr) continue;
    const int leaf = leaf_of_[f];
    auto range = parquet::GetChunkRange(*pf_, g.rg, leaf);
    if (!range.ok()) return FileError(range.status());
    Status st = readers_[f]->StartChunk(pf_->meta.row_groups[g.rg].columns[leaf], g.rg,
                                        range->begin, range->length);
    if (!st.ok()) return FileError(st);
  }
  ++stats_.row_groups_read;
  group_started_ = true;
  group_offset_ = 0;
  // A cursor's row inside the group: pages cannot be skipped by row, so the
  // rows before it are decoded and dropped, a batch at a time.
  int64_t left = g.skip;
  while (left > 0) {
    const int64_t n = std::min(left, options_.batch_rows);
    for (size_t f = 0; f < readers_.size(); ++f) {
      if (readers_[f] == nullptr) continue;
      const parquet::LeafColumn& leaf = readers_[f]->leaf();
      raws_[f].Reset(parquet::PhysicalWidth(leaf.physical, leaf.type_length), leaf.optional);
      Status st = readers_[f]->Read(n, &raws_[f]);
      if (!st.ok()) return FileError(st);
    }
    left -= n;
    group_offset_ += n;
    stats_.rows_scanned += n;
  }
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
    if (!group_started_) RETURN_IF_ERROR(StartGroup(g));
    const int64_t group_rows = pf_->meta.row_groups[g.rg].num_rows;
    const int64_t n = std::min(batch_rows_, group_rows - group_offset_);
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
    if (group_offset_ >= group_rows) {
      ++group_;
      group_started_ = false;
    }
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
