// Fuzzes the Parquet decoder: footer and page header parsing, decompression,
// every value encoding and the conversion to sluice types. The first input
// byte picks the schema (the file's own, or a fixed mixed one whose columns
// are matched by name), the batch size and whether the stream is seekable;
// the rest is the file. A second pass reads the page index of every chunk
// (OffsetIndex, ColumnIndex), prunes pages by a range on the first column
// and seeks each column chunk to a row through its index, as the table
// reader does.
#include <algorithm>
#include <optional>
#include <string>

#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/page_index.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet/row_group_filter.h"
#include "format/parquet_reader.h"
#include "fuzz_input.h"

namespace {

// Every failure of the page index path is a Status (kDataLoss for a
// malformed index); the rows it returns obey the chunk reader's contract.
void FuzzPageIndex(const uint8_t* data, size_t size, uint8_t flags) {
  using namespace sluice;
  auto in = NewStringInput(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  auto ra = MakeRandomAccess(*in);
  if (!ra.ok()) return;
  auto pf = parquet::OpenParquetFile(std::move(ra).value());
  if (!pf.ok()) return;
  const parquet::ParquetFile& f = **pf;
  std::optional<parquet::RowGroupFilter> filter;
  if (!f.leaves.empty()) {
    ParquetRangeFilter range;
    range.column = f.leaves[0].name;
    range.min = std::to_string(flags % 7);
    range.max = std::to_string(100 + flags);
    auto made = parquet::RowGroupFilter::Make(f, {range});
    if (made.ok()) filter = std::move(made).value();
  }
  const size_t groups = std::min<size_t>(f.meta.row_groups.size(), 8);
  for (size_t rg = 0; rg < groups; ++rg) {
    const int64_t rows = f.meta.row_groups[rg].num_rows;
    // A footer may claim billions of rows that cost nothing to store (RLE
    // runs of NULL); the decoder pass already bounds what it drains.
    if (rows > (int64_t{1} << 22)) continue;
    if (filter) {
      auto matching = filter->MatchingRows(f, static_cast<int>(rg));
      if (matching.ok()) {
        int64_t last = 0;
        for (const parquet::RowRange& r : *matching) {
          fuzz::Check(r.begin >= last && r.begin < r.end && r.end <= rows);
          last = r.end;
        }
      }
    }
    const size_t leaves = std::min<size_t>(f.leaves.size(), 8);
    for (size_t leaf = 0; leaf < leaves; ++leaf) {
      auto oi = parquet::ReadOffsetIndex(f, static_cast<int>(rg), static_cast<int>(leaf));
      if (!oi.ok() || !*oi) continue;
      auto ci = parquet::ReadColumnIndex(f, static_cast<int>(rg), static_cast<int>(leaf),
                                         (**oi).pages.size());
      if (ci.ok() && *ci) fuzz::Check((**ci).null_pages.size() == (**oi).pages.size());
      auto range = parquet::GetChunkRange(f, static_cast<int>(rg), static_cast<int>(leaf));
      if (!range.ok()) continue;
      parquet::ColumnChunkReader reader(f.file.get(), f.leaves[leaf]);
      if (!reader
               .StartChunk(f.meta.row_groups[rg].columns[leaf], static_cast<int>(rg), range->begin,
                           range->length)
               .ok()) {
        continue;
      }
      reader.SetOffsetIndex(std::move(**oi), rows);
      // Seek to a row the input picks; read a few rows from there.
      const int64_t target = rows <= 0 ? 0 : static_cast<int64_t>(flags) * 7919 % rows;
      if (!reader.SkipRows(target).ok()) continue;
      fuzz::Check(reader.row() == target);
      parquet::RawColumn raw;
      raw.Reset(parquet::PhysicalWidth(f.leaves[leaf].physical, f.leaves[leaf].type_length),
                f.leaves[leaf].optional);
      const int64_t n = std::min<int64_t>(rows - target, 64);
      if (reader.Read(n, &raw).ok()) fuzz::Check(raw.size == n);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  DecoderOptions o;
  if (flags & 1) o.schema = fuzz::MixedSchema();
  o.batch_rows = 1 + (flags >> 4) * 37;
  std::unique_ptr<InputStream> in;
  if (flags & 2) {
    in = NewStringInput(std::string(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz");
  } else {
    in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, 1 + (flags & 0x0c) * 100);
  }
  FuzzPageIndex(data + 1, size - 1, flags);
  auto dec = NewParquetDecoder(std::move(in), o);
  if (!dec.ok()) return 0;
  // A tiny file may claim billions of all-NULL rows (RLE runs cost nothing);
  // stop after a bounded number of rows instead of draining those.
  int64_t rows = 0;
  for (int guard = 0; guard < 100000 && rows < 2000000; ++guard) {
    RecordBatch batch;
    std::vector<BadRecord> bad;
    auto more = (*dec)->Next(&batch, &bad);
    if (!more.ok()) return 0;
    if (!*more) {
      fuzz::Check(batch.num_rows() == 0 && bad.empty());
      return 0;
    }
    fuzz::CheckBatch(batch);
    fuzz::Check(batch.num_rows() <= o.batch_rows);
    for (const BadRecord& r : bad) fuzz::Check(r.line >= 1 && !r.reason.empty());
    rows += batch.num_rows() + static_cast<int64_t>(bad.size());
  }
  return 0;
}
