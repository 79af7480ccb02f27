// Opening a Parquet file for reading: magic bytes, footer, and the checks
// that make it a flat file sluice can read.
//
// OpenParquetFile reads only the footer. Leaves are the schema's columns in
// file order; nested (group) or repeated columns, encrypted files and
// encrypted columns fail here with kInvalidArgument naming the feature.
// ChunkRange validates one column chunk's byte range against the file before
// any of its pages is read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/status.h"
#include "core/types.h"
#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/parquet_footer.h"
#include "format/parquet/parquet_types.h"

namespace sluice::parquet {

struct ParquetFile {
  std::unique_ptr<RandomAccessFile> file;
  FileMeta meta;
  std::vector<LeafColumn> leaves;
  std::vector<LeafType> leaf_types;
  int64_t footer_start = 0;  // first byte of the footer (end of the data)

  const std::string& name() const { return file->name(); }
  // Index of the leaf named `name` (exact match first, then ignoring ASCII
  // case), or -1.
  int FindLeaf(const std::string& name) const;
};

Result<std::unique_ptr<ParquetFile>> OpenParquetFile(std::unique_ptr<RandomAccessFile> file);

// The byte range of the chunk of `leaf` in row group `rg`, checked.
struct ChunkRange {
  int64_t begin = 0;
  int64_t length = 0;
};
Result<ChunkRange> GetChunkRange(const ParquetFile& pf, int rg, int leaf);

// Every leaf with its natural type (see parquet_types.h).
Result<Schema> NaturalSchema(const ParquetFile& pf);

}  // namespace sluice::parquet
