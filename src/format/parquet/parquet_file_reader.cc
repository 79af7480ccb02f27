#include "format/parquet/parquet_file_reader.h"

#include <cstring>

#include "core/value_text.h"

namespace sluice::parquet {

namespace {

// A footer larger than this is not a flat table's; refuse it before
// allocating (hostile files could claim gigabytes).
constexpr int64_t kMaxFooterBytes = int64_t{256} << 20;

}  // namespace

int ParquetFile::FindLeaf(const std::string& name) const {
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].name == name) return static_cast<int>(i);
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (EqualsIgnoreCase(leaves[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

Result<std::unique_ptr<ParquetFile>> OpenParquetFile(std::unique_ptr<RandomAccessFile> file) {
  const std::string name = file->name();
  auto bad = [&](const std::string& what) {
    return Status::DataLoss("'" + name + "' is not a valid parquet file: " + what);
  };
  auto unsupported = [&](const std::string& what) {
    return Status::InvalidArgument("parquet file '" + name + "': " + what + " is not supported");
  };
  const int64_t size = file->size();
  if (size < 12) return bad("too short (" + std::to_string(size) + " bytes)");
  char head[4], tail[8];
  RETURN_IF_ERROR(file->ReadAt(0, 4, head));
  RETURN_IF_ERROR(file->ReadAt(size - 8, 8, tail));
  if (std::memcmp(tail + 4, "PARE", 4) == 0) {
    return unsupported("encryption (encrypted footer, magic PARE)");
  }
  if (std::memcmp(head, "PAR1", 4) != 0 && std::memcmp(head, "PARE", 4) != 0) {
    return bad("missing PAR1 magic at the start");
  }
  if (std::memcmp(tail + 4, "PAR1", 4) != 0) return bad("missing PAR1 magic at the end");
  uint32_t footer_len;
  std::memcpy(&footer_len, tail, 4);
  if (footer_len > size - 12 || footer_len > kMaxFooterBytes) {
    return bad("footer length " + std::to_string(footer_len) + " does not fit the file");
  }
  auto pf = std::make_unique<ParquetFile>();
  pf->footer_start = size - 8 - footer_len;
  std::string footer(footer_len, '\0');
  RETURN_IF_ERROR(file->ReadAt(pf->footer_start, footer_len, footer.data()));
  auto meta = ParseFileMeta(footer);
  if (!meta.ok()) return bad(meta.status().message());
  pf->meta = std::move(*meta);
  pf->file = std::move(file);
  const FileMeta& m = pf->meta;
  if (m.encrypted) return unsupported("encryption (encrypted columns)");
  if (m.schema.empty()) return bad("empty schema");
  const SchemaNode& root = m.schema[0];
  if (root.num_children < 0 || static_cast<size_t>(root.num_children) != m.schema.size() - 1) {
    // Groups inside the root: some column is nested. Name the first one.
    for (size_t i = 1; i < m.schema.size(); ++i) {
      if (m.schema[i].num_children > 0 || !m.schema[i].type) {
        return unsupported("nested column '" + EscapeName(m.schema[i].name) + "' (group type)");
      }
    }
    return bad("schema has " + std::to_string(m.schema.size() - 1) +
               " elements but the root claims " + std::to_string(root.num_children));
  }
  for (size_t i = 1; i < m.schema.size(); ++i) {
    const SchemaNode& n = m.schema[i];
    if (n.num_children > 0 || !n.type) {
      return unsupported("nested column '" + EscapeName(n.name) + "' (group type)");
    }
    if (n.repetition.value_or(0) == 2) {
      return unsupported("repeated column '" + EscapeName(n.name) + "' (nested data)");
    }
    LeafColumn leaf;
    leaf.name = n.name;
    leaf.physical = *n.type;
    leaf.type_length = n.type_length;
    leaf.optional = n.repetition.value_or(0) == 1;
    leaf.index = static_cast<int>(i - 1);
    if (leaf.physical < ptype::kBoolean || leaf.physical > ptype::kFixedLenByteArray) {
      return bad("column '" + EscapeName(n.name) + "' has unknown physical type " +
                 std::to_string(leaf.physical));
    }
    pf->leaves.push_back(std::move(leaf));
    pf->leaf_types.push_back(ClassifyLeaf(n));
  }
  for (size_t g = 0; g < m.row_groups.size(); ++g) {
    if (m.row_groups[g].num_rows < 0)
      return bad("row group " + std::to_string(g) + " has negative rows");
    if (m.row_groups[g].columns.size() != pf->leaves.size()) {
      return bad("row group " + std::to_string(g) + " has " +
                 std::to_string(m.row_groups[g].columns.size()) + " columns, the schema " +
                 std::to_string(pf->leaves.size()));
    }
  }
  return pf;
}

Result<ChunkRange> GetChunkRange(const ParquetFile& pf, int rg, int leaf) {
  const ChunkMeta& c = pf.meta.row_groups[rg].columns[leaf];
  const std::string& col = pf.leaves[leaf].name;
  auto bad = [&](const std::string& what) {
    return Status::DataLoss("parquet file '" + pf.name() + "', column '" + col + "', row group " +
                            std::to_string(rg) + ": " + what);
  };
  if (c.encrypted) {
    return Status::InvalidArgument("parquet file '" + pf.name() + "', column '" + col +
                                   "': encryption (encrypted column) is not supported");
  }
  if (!c.file_path.empty()) {
    return Status::InvalidArgument("parquet file '" + pf.name() + "', column '" + col +
                                   "': column data in another file ('" + c.file_path +
                                   "') is not supported");
  }
  if (!c.has_meta) return bad("column chunk without metadata");
  if (c.type != pf.leaves[leaf].physical) return bad("chunk type differs from the schema's");
  int64_t begin = c.data_page_offset;
  if (c.dictionary_page_offset && *c.dictionary_page_offset >= 4 &&
      *c.dictionary_page_offset < begin) {
    begin = *c.dictionary_page_offset;
  }
  if (begin < 4 || c.total_compressed_size < 0 || begin > pf.footer_start ||
      c.total_compressed_size > pf.footer_start - begin) {
    return bad("column chunk range [" + std::to_string(begin) + ", +" +
               std::to_string(c.total_compressed_size) + ") is outside the data");
  }
  return ChunkRange{begin, c.total_compressed_size};
}

Result<Schema> NaturalSchema(const ParquetFile& pf) {
  Schema s;
  for (size_t i = 0; i < pf.leaves.size(); ++i) {
    ASSIGN_OR_RETURN(DataType t, NaturalType(pf.leaf_types[i], pf.leaves[i].name, pf.name()));
    s.AddField(Field{pf.leaves[i].name, t, pf.leaves[i].optional});
  }
  return s;
}

}  // namespace sluice::parquet
