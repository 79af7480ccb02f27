#include "format/parquet/page_index.h"

#include <algorithm>

#include "core/value_text.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet/thrift_reader.h"

namespace sluice::parquet {

namespace {

using R = CompactReader;

// An index larger than this is not a real one (a page index costs a few
// bytes per page); refuse it before allocating.
constexpr int64_t kMaxIndexBytes = int64_t{64} << 20;

Status Malformed(const std::string& what, const R& r) {
  return Status::DataLoss(what + " (" + r.error() + " at byte " + std::to_string(r.pos()) + ")");
}

Status ChunkError(const ParquetFile& pf, int rg, int leaf, const std::string& what) {
  return Status::DataLoss("parquet file '" + pf.name() + "', column '" +
                          EscapeName(pf.leaves[leaf].name) + "', row group " + std::to_string(rg) +
                          ": " + what);
}

// The bytes [offset, offset + length) of the file, checked to lie in the
// data (after the leading magic, before the footer).
Result<std::string> ReadIndexBytes(const ParquetFile& pf, int rg, int leaf, const char* what,
                                   int64_t offset, int64_t length) {
  if (offset < 4 || length <= 0 || length > kMaxIndexBytes || offset > pf.footer_start ||
      length > pf.footer_start - offset) {
    return ChunkError(pf, rg, leaf,
                      std::string(what) + " range [" + std::to_string(offset) + ", +" +
                          std::to_string(length) + ") is outside the data");
  }
  std::string bytes(static_cast<size_t>(length), '\0');
  RETURN_IF_ERROR(pf.file->ReadAt(offset, static_cast<size_t>(length), bytes.data()));
  return bytes;
}

}  // namespace

size_t OffsetIndexMeta::PageOf(int64_t row) const {
  // The last page whose first row is at most `row`.
  auto it = std::upper_bound(pages.begin(), pages.end(), row,
                             [](int64_t r, const PageLoc& p) { return r < p.first_row; });
  return it == pages.begin() ? 0 : static_cast<size_t>(it - pages.begin()) - 1;
}

Result<OffsetIndexMeta> ParseOffsetIndex(std::string_view bytes) {
  R r(bytes);
  OffsetIndexMeta m;
  bool have_pages = false;
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    CompactType et;
    uint32_t n = 0;
    if (id != 1) {
      r.Skip(t);
      continue;
    }
    if (!r.ReadListHeader(t, &et, &n)) break;
    if (et != CompactType::kStruct) {
      r.Fail("page locations are not structs");
      break;
    }
    have_pages = true;
    m.pages.reserve(n);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      PageLoc p;
      bool got[3] = {false, false, false};
      r.BeginStruct();
      int16_t fid;
      CompactType ft;
      while (r.NextField(&fid, &ft)) {
        int64_t l = 0;
        int32_t v = 0;
        if (fid == 1 && r.ReadInt(ft, &l)) {
          p.offset = l;
          got[0] = true;
        } else if (fid == 2 && r.ReadI32(ft, &v)) {
          p.size = v;
          got[1] = true;
        } else if (fid == 3 && r.ReadInt(ft, &l)) {
          p.first_row = l;
          got[2] = true;
        } else if (fid < 1 || fid > 3) {
          r.Skip(ft);
        }
      }
      if (r.ok() && !(got[0] && got[1] && got[2])) r.Fail("page location misses a field");
      m.pages.push_back(p);
    }
  }
  if (r.ok() && !have_pages) r.Fail("no page locations");
  if (!r.ok()) return Malformed("corrupt offset index", r);
  return m;
}

Result<ColumnIndexMeta> ParseColumnIndex(std::string_view bytes) {
  R r(bytes);
  ColumnIndexMeta m;
  bool got[4] = {false, false, false, false};
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    CompactType et;
    uint32_t n = 0;
    int32_t v = 0;
    switch (id) {
      case 1:
        if (!r.ReadListHeader(t, &et, &n)) break;
        got[0] = true;
        m.null_pages.reserve(n);
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
          bool b = false;
          if (!r.ReadBoolElem(et, &b) && r.ok()) r.Fail("null_pages are not bools");
          m.null_pages.push_back(b);
        }
        break;
      case 2:
      case 3: {
        if (!r.ReadListHeader(t, &et, &n)) break;
        got[id - 1] = true;
        std::vector<std::string>& out = id == 2 ? m.min_values : m.max_values;
        out.reserve(n);
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
          std::string_view s;
          if (!r.ReadBinary(et, &s) && r.ok()) r.Fail("min/max values are not binary");
          out.emplace_back(s);
        }
        break;
      }
      case 4:
        if (r.ReadI32(t, &v)) {
          m.boundary_order = v;
          got[3] = true;
        }
        break;
      case 5:
        if (!r.ReadListHeader(t, &et, &n)) break;
        m.null_counts.reserve(n);
        for (uint32_t i = 0; i < n && r.ok(); ++i) {
          int64_t c = 0;
          if (!r.ReadInt(et, &c) && r.ok()) r.Fail("null counts are not integers");
          m.null_counts.push_back(c);
        }
        break;
      default:
        r.Skip(t);
    }
  }
  if (r.ok() && !(got[0] && got[1] && got[2] && got[3])) r.Fail("a required field is missing");
  if (!r.ok()) return Malformed("corrupt column index", r);
  return m;
}

Result<std::optional<OffsetIndexMeta>> ReadOffsetIndex(const ParquetFile& pf, int rg, int leaf) {
  const ChunkMeta& c = pf.meta.row_groups[rg].columns[leaf];
  if (!c.offset_index_offset || !c.offset_index_length) return std::optional<OffsetIndexMeta>();
  ASSIGN_OR_RETURN(ChunkRange chunk, GetChunkRange(pf, rg, leaf));
  ASSIGN_OR_RETURN(
      std::string bytes,
      ReadIndexBytes(pf, rg, leaf, "offset index", *c.offset_index_offset, *c.offset_index_length));
  auto parsed = ParseOffsetIndex(bytes);
  if (!parsed.ok()) return ChunkError(pf, rg, leaf, parsed.status().message());
  OffsetIndexMeta m = std::move(parsed).value();
  const int64_t rows = pf.meta.row_groups[rg].num_rows;
  const int64_t chunk_end = chunk.begin + chunk.length;
  auto bad = [&](size_t i, const std::string& what) {
    return ChunkError(pf, rg, leaf, "offset index page " + std::to_string(i) + ": " + what);
  };
  if (m.pages.empty()) {
    if (rows == 0) return std::optional<OffsetIndexMeta>(std::move(m));
    return ChunkError(pf, rg, leaf,
                      "offset index lists no pages for " + std::to_string(rows) + " rows");
  }
  int64_t prev_end = chunk.begin;
  for (size_t i = 0; i < m.pages.size(); ++i) {
    const PageLoc& p = m.pages[i];
    if (p.size <= 0 || p.offset < prev_end || p.offset > chunk_end ||
        p.size > chunk_end - p.offset) {
      return bad(i, "bytes [" + std::to_string(p.offset) + ", +" + std::to_string(p.size) +
                        ") are outside the column chunk or overlap the page before");
    }
    prev_end = p.offset + p.size;
    if (i == 0 ? p.first_row != 0 : p.first_row <= m.pages[i - 1].first_row) {
      return bad(i, "first row " + std::to_string(p.first_row) +
                        (i == 0 ? " is not 0" : " does not follow the page before's"));
    }
    if (p.first_row >= rows) {
      return bad(i, "first row " + std::to_string(p.first_row) + " is past the row group's " +
                        std::to_string(rows) + " rows");
    }
  }
  return std::optional<OffsetIndexMeta>(std::move(m));
}

Result<std::optional<ColumnIndexMeta>> ReadColumnIndex(const ParquetFile& pf, int rg, int leaf,
                                                       size_t pages) {
  const ChunkMeta& c = pf.meta.row_groups[rg].columns[leaf];
  if (!c.column_index_offset || !c.column_index_length) return std::optional<ColumnIndexMeta>();
  ASSIGN_OR_RETURN(
      std::string bytes,
      ReadIndexBytes(pf, rg, leaf, "column index", *c.column_index_offset, *c.column_index_length));
  auto parsed = ParseColumnIndex(bytes);
  if (!parsed.ok()) return ChunkError(pf, rg, leaf, parsed.status().message());
  ColumnIndexMeta m = std::move(parsed).value();
  if (m.null_pages.size() != pages || m.min_values.size() != pages ||
      m.max_values.size() != pages || (!m.null_counts.empty() && m.null_counts.size() != pages)) {
    return ChunkError(pf, rg, leaf,
                      "column index describes " + std::to_string(m.null_pages.size()) +
                          " pages (min " + std::to_string(m.min_values.size()) + ", max " +
                          std::to_string(m.max_values.size()) + "), the offset index " +
                          std::to_string(pages));
  }
  return std::optional<ColumnIndexMeta>(std::move(m));
}

RowRanges IntersectRanges(const RowRanges& a, const RowRanges& b) {
  RowRanges out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const int64_t lo = std::max(a[i].begin, b[j].begin);
    const int64_t hi = std::min(a[i].end, b[j].end);
    if (lo < hi) out.push_back({lo, hi});
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

void AppendRange(RowRanges* r, int64_t begin, int64_t end) {
  if (begin >= end) return;
  if (!r->empty() && r->back().end >= begin) {
    r->back().end = std::max(r->back().end, end);
    return;
  }
  r->push_back({begin, end});
}

}  // namespace sluice::parquet
