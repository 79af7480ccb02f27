#include "transform/reference.h"

#include <sys/stat.h>

#include "core/cell_text.h"
#include "core/hash.h"
#include "core/io.h"
#include "format/compression.h"
#include "transform/key_encoding.h"

namespace sluice {
namespace {

// The latest loaded copy of each source stays loaded (batches come and go;
// reloading per batch would defeat the cache); a newer file or snapshot
// replaces it, and batches still using the old copy keep their reference.
struct CacheEntry {
  std::string identity;  // size + mtime of a file, the snapshot of a lake table
  std::shared_ptr<const ReferenceTable> table;
};

std::mutex& CacheMutex() {
  static std::mutex mu;
  return mu;
}

std::unordered_map<std::string, CacheEntry>& Cache() {
  static std::unordered_map<std::string, CacheEntry> cache;
  return cache;
}

std::shared_ptr<LakeTableProvider>& Provider() {
  static std::shared_ptr<LakeTableProvider> provider;
  return provider;
}

std::shared_ptr<LakeTableProvider> CurrentProvider() {
  std::lock_guard lock(CacheMutex());
  return Provider();
}

// Appends every row of `decoder` to *all; a bad record fails with its place.
Status DecodeAll(Decoder& decoder, const std::string& what, RecordBatch* all) {
  RecordBatch b;
  std::vector<BadRecord> bad;
  while (true) {
    ASSIGN_OR_RETURN(bool more, decoder.Next(&b, &bad));
    if (!bad.empty()) {
      const BadRecord& r = bad.front();
      return Status::InvalidArgument(what + ":" + std::to_string(r.line) +
                                     (r.field.empty() ? "" : ": " + r.field) + ": " + r.reason);
    }
    if (!more) break;
    for (size_t c = 0; c < all->columns.size(); ++c) {
      all->columns[c].AppendRange(b.columns[c], 0, b.num_rows());
    }
    all->source_lines.insert(all->source_lines.end(), b.source_lines.begin(), b.source_lines.end());
  }
  all->num_rows_no_columns = all->columns.empty() ? 0 : all->columns[0].size();
  return Status::OK();
}

Result<std::unique_ptr<InputStream>> OpenSource(const ReferenceSource& s) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> raw, OpenFileInput(s.path));
  if (s.format == FileFormat::kParquet) return raw;
  return OpenDecompressed(std::move(raw));
}

}  // namespace

void SetLakeTableProvider(std::shared_ptr<LakeTableProvider> provider) {
  std::lock_guard lock(CacheMutex());
  Provider() = std::move(provider);
}

nlohmann::json ReferenceSource::ToJson() const {
  nlohmann::json j = {{"name", name},
                      {"file", path},
                      {"table", table},
                      {"format", std::string(FileFormatName(format))},
                      {"delimiter", std::string(1, csv.delimiter)},
                      {"quote", std::string(1, csv.quote)},
                      {"header", csv.header},
                      {"null_values", csv.null_values}};
  if (schema.num_fields() > 0) j["schema"] = nlohmann::json::parse(schema.ToJson());
  return j;
}

Result<ReferenceSource> ReferenceSource::FromJson(const nlohmann::json& j) {
  ReferenceSource s;
  try {
    s.name = j.at("name").get<std::string>();
    s.path = j.at("file").get<std::string>();
    s.table = j.value("table", std::string());
    ASSIGN_OR_RETURN(s.format, FileFormatFromName("x." + j.at("format").get<std::string>()));
    s.csv.delimiter = j.at("delimiter").get<std::string>().at(0);
    s.csv.quote = j.at("quote").get<std::string>().at(0);
    s.csv.header = j.at("header").get<bool>();
    s.csv.null_values = j.at("null_values").get<std::vector<std::string>>();
    if (j.contains("schema")) {
      ASSIGN_OR_RETURN(s.schema, Schema::FromJson(j.at("schema").dump()));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed reference source: ") + e.what());
  }
  return s;
}

int64_t ReferenceTable::MemoryUsage() const { return batch_.MemoryUsage(); }

Result<std::shared_ptr<const ReferenceTable>> ReferenceTable::Load(const ReferenceSource& source) {
  if (!source.table.empty()) return LoadLakeTable(source);
  struct stat st {};
  if (::stat(source.path.c_str(), &st) != 0) {
    return Status::NotFound("reference " + source.name + ": cannot read '" + source.path + "'");
  }
  std::string key = source.ToJson().dump();
  std::string identity = std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
                         "." + std::to_string(st.st_mtim.tv_nsec);
  {
    std::lock_guard lock(CacheMutex());
    auto it = Cache().find(key);
    if (it != Cache().end() && it->second.identity == identity) return it->second.table;
  }

  Schema schema = source.schema;
  if (schema.num_fields() == 0) {
    ASSIGN_OR_RETURN(auto in, OpenSource(source));
    InferOptions io;
    io.csv = source.csv;
    auto inferred = InferSchema(source.format, *in, io);
    if (!inferred.ok()) return inferred.status().WithContext("reference " + source.name);
    schema = *inferred;
  }
  auto table = std::make_shared<ReferenceTable>();
  table->name_ = source.name;
  {
    ASSIGN_OR_RETURN(auto raw, OpenFileInput(source.path));
    ASSIGN_OR_RETURN(table->sha256_, Sha256Stream(*raw));
  }
  ASSIGN_OR_RETURN(auto in, OpenSource(source));
  DecoderOptions dopt;
  dopt.schema = schema;
  dopt.csv = source.csv;
  ASSIGN_OR_RETURN(auto decoder, NewDecoder(source.format, std::move(in), dopt));
  RecordBatch all = RecordBatch::Empty(schema);
  RETURN_IF_ERROR(DecodeAll(*decoder, "reference " + source.name + ": " + source.path, &all));
  table->batch_ = std::move(all);

  std::lock_guard lock(CacheMutex());
  Cache()[key] = CacheEntry{identity, table};
  return std::shared_ptr<const ReferenceTable>(table);
}

Result<std::shared_ptr<const ReferenceTable>> ReferenceTable::LoadLakeTable(
    const ReferenceSource& source) {
  const std::string what = "reference " + source.name + " (lake table " + source.table + ")";
  std::shared_ptr<LakeTableProvider> provider = CurrentProvider();
  if (provider == nullptr) {
    return Status::FailedPrecondition(what + ": lake tables are readable only inside a project");
  }
  auto snap = provider->Current(source.table);
  if (!snap.ok() && snap.status().code() != StatusCode::kNotFound) return snap.status();
  LakeTableSnapshot current = snap.ok() ? *snap : LakeTableSnapshot{};
  if (current.snapshot == 0 && source.schema.num_fields() == 0) {
    return Status::FailedPrecondition(
        what + " has no data yet; declare its schema: under references to use it before then");
  }
  // The declared schema picks (and checks) columns; else the table's own.
  Schema schema = source.schema.num_fields() > 0 ? source.schema : current.schema;
  std::string key = source.ToJson().dump();
  std::string identity = std::to_string(current.snapshot);
  {
    std::lock_guard lock(CacheMutex());
    auto it = Cache().find(key);
    if (it != Cache().end() && it->second.identity == identity) return it->second.table;
  }
  auto table = std::make_shared<ReferenceTable>();
  table->name_ = source.name;
  table->sha256_ = "snapshot:" + std::to_string(current.snapshot);
  RecordBatch all = RecordBatch::Empty(schema);
  for (const std::string& file : current.files) {
    ASSIGN_OR_RETURN(auto in, provider->Open(file));
    DecoderOptions dopt;
    dopt.schema = schema;
    ASSIGN_OR_RETURN(auto decoder, NewDecoder(FileFormat::kParquet, std::move(in), dopt));
    RETURN_IF_ERROR(DecodeAll(*decoder, what + ": " + file, &all));
  }
  all.source_lines.clear();  // rows of several files: no single line numbering
  table->batch_ = std::move(all);
  std::lock_guard lock(CacheMutex());
  Cache()[key] = CacheEntry{identity, table};
  return std::shared_ptr<const ReferenceTable>(table);
}

Result<std::shared_ptr<const ReferenceIndex>> ReferenceTable::Index(
    const std::vector<int>& columns) const {
  std::string id;
  for (int c : columns) id += std::to_string(c) + ",";
  MutexLock lock(&mu_);
  if (auto it = indexes_.find(id); it != indexes_.end()) return it->second;
  auto index = std::make_shared<ReferenceIndex>();
  std::vector<expr::Vec> keys;
  for (int c : columns) keys.push_back(expr::Vec::FromColumn(batch_.columns[c]));
  std::string key;
  const int64_t n = batch_.num_rows();
  for (int64_t r = 0; r < n; ++r) {
    bool has_null = false;
    key.clear();
    for (const auto& k : keys) {
      has_null = has_null || !k.IsValid(r);
      EncodeKeyValue(k, r, &key);
    }
    if (has_null) continue;  // NULL never matches
    auto [kid, inserted] = index->keys.Insert(key);
    if (!inserted) {
      int64_t first = index->row_of_key[kid];
      std::string shown;
      for (int c : columns) {
        shown += (shown.empty() ? "" : ", ") + batch_.schema.field(c).name + "=" +
                 CellText(batch_.columns[c], r);
      }
      auto line = [&](int64_t row) {
        return batch_.source_lines.empty() ? row + 1 : batch_.source_lines[row];
      };
      return Status::InvalidArgument("reference " + name_ + " has more than one row for key (" +
                                     shown + "): lines " + std::to_string(line(first)) + " and " +
                                     std::to_string(line(r)) +
                                     "; a lookup must find at most one row per key");
    }
    index->row_of_key.push_back(r);
  }
  indexes_[id] = index;
  return std::shared_ptr<const ReferenceIndex>(index);
}

}  // namespace sluice
