#include "transform/reference.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/cell_text.h"
#include "core/hash.h"
#include "core/io.h"
#include "format/compression.h"
#include "transform/key_encoding.h"

namespace sluice {
namespace {

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

// A file's identity for the cache: a replaced or rewritten file differs in
// at least one of these (the change time moves on every write, even one
// that restores the modification time).
Result<std::string> FileIdentity(const ReferenceSource& s) {
  struct stat st {};
  if (::stat(s.path.c_str(), &st) != 0) {
    return Status::NotFound("reference " + s.name + ": cannot read '" + s.path +
                            "': " + std::strerror(errno));
  }
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec) + ":" + std::to_string(st.st_ino);
}

// A file that changes while it is loaded is loaded again, this many times
// at most, so that its rows and its hash are of one content.
constexpr int kMaxLoadTries = 3;

}  // namespace

// Loads tables into the cache (the friend that fills ReferenceTable).
class ReferenceLoader {
 public:
  static Result<std::shared_ptr<const ReferenceTable>> File(const ReferenceSource& s,
                                                            ReferenceCache& cache);
  static Result<std::shared_ptr<const ReferenceTable>> Lake(const ReferenceSource& s,
                                                            ReferenceCache& cache,
                                                            LakeTableProvider* lake);

 private:
  static Result<std::shared_ptr<ReferenceTable>> ReadFile(const ReferenceSource& s);
};

Result<std::shared_ptr<ReferenceTable>> ReferenceLoader::ReadFile(const ReferenceSource& s) {
  const std::string what = "reference " + s.name + ": " + s.path;
  auto named = [&](const Status& st) {
    // Messages of the file layer name the path already; add the reference.
    return st.message().find(s.path) != std::string::npos ? st.WithContext("reference " + s.name)
                                                          : st.WithContext(what);
  };
  Schema schema = s.schema;
  if (schema.num_fields() == 0) {
    auto in = OpenSource(s);
    if (!in.ok()) return named(in.status());
    InferOptions io;
    io.csv = s.csv;
    auto inferred = InferSchema(s.format, **in, io);
    if (!inferred.ok()) return named(inferred.status());
    schema = *inferred;
  }
  auto table = std::make_shared<ReferenceTable>();
  table->use_.name = s.name;
  table->use_.kind = ReferenceKind::kFile;
  table->use_.file = s.path;
  {
    auto raw = OpenFileInput(s.path);
    if (!raw.ok()) return named(raw.status());
    auto sha = Sha256Stream(**raw);
    if (!sha.ok()) return named(sha.status());
    table->use_.content_sha256 = *sha;
  }
  auto in = OpenSource(s);
  if (!in.ok()) return named(in.status());
  DecoderOptions dopt;
  dopt.schema = schema;
  dopt.csv = s.csv;
  auto decoder = NewDecoder(s.format, std::move(*in), dopt);
  if (!decoder.ok()) return named(decoder.status());
  RecordBatch all = RecordBatch::Empty(schema);
  RETURN_IF_ERROR(DecodeAll(**decoder, what, &all));
  table->batch_ = std::move(all);
  return table;
}

Result<std::shared_ptr<const ReferenceTable>> ReferenceLoader::File(const ReferenceSource& s,
                                                                    ReferenceCache& cache) {
  const std::string key = s.ToJson().dump();
  ASSIGN_OR_RETURN(std::string identity, FileIdentity(s));
  if (auto hit = cache.Find(key, identity)) return hit;
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<ReferenceTable> table, ReadFile(s));
    // The hash and the rows were read separately: only when the file did not
    // change meanwhile are they of one content.
    ASSIGN_OR_RETURN(std::string after, FileIdentity(s));
    if (after == identity) {
      cache.Put(key, identity, table);
      return std::shared_ptr<const ReferenceTable>(std::move(table));
    }
    if (attempt == kMaxLoadTries) {
      return Status::Unavailable("reference " + s.name + ": '" + s.path +
                                 "' kept changing while it was read (" +
                                 std::to_string(kMaxLoadTries) + " tries)");
    }
    identity = std::move(after);
  }
}

Result<std::shared_ptr<const ReferenceTable>> ReferenceLoader::Lake(const ReferenceSource& s,
                                                                    ReferenceCache& cache,
                                                                    LakeTableProvider* lake) {
  const std::string what = "reference " + s.name + " (lake table " + s.table + ")";
  if (lake == nullptr) {
    return Status::FailedPrecondition(what + ": lake tables are readable only inside a project");
  }
  const std::string key = s.ToJson().dump();
  for (int attempt = 1;; ++attempt) {
    // One snapshot, noted now: its files are exactly that snapshot's, and
    // the use records its id.
    auto snap = lake->Current(s.table);
    if (!snap.ok() && snap.status().code() != StatusCode::kNotFound) {
      return snap.status().WithContext(what);
    }
    LakeTableSnapshot current = snap.ok() ? *snap : LakeTableSnapshot{};
    if (current.snapshot == 0 && s.schema.num_fields() == 0) {
      return Status::FailedPrecondition(
          what + " has no data yet; declare its schema: under references to use it before then");
    }
    const std::string identity = std::to_string(current.snapshot);
    if (auto hit = cache.Find(key, identity)) return hit;
    // The declared schema picks (and checks) columns; else the table's own.
    Schema schema = s.schema.num_fields() > 0 ? s.schema : current.schema;
    auto table = std::make_shared<ReferenceTable>();
    table->use_.name = s.name;
    table->use_.kind = ReferenceKind::kLakeTable;
    table->use_.table = s.table;
    table->use_.snapshot_id = current.snapshot;
    RecordBatch all = RecordBatch::Empty(schema);
    bool moved = false;
    for (const std::string& file : current.files) {
      auto in = lake->Open(file);
      if (!in.ok() && in.status().code() == StatusCode::kNotFound && attempt < kMaxLoadTries) {
        // A replay retired the file after the snapshot was read (its entry
        // now names the retired key): read the table again.
        moved = true;
        break;
      }
      if (!in.ok()) return in.status().WithContext(what + ": " + file);
      DecoderOptions dopt;
      dopt.schema = schema;
      ASSIGN_OR_RETURN(auto decoder, NewDecoder(FileFormat::kParquet, std::move(*in), dopt));
      RETURN_IF_ERROR(DecodeAll(*decoder, what + ": " + file, &all));
    }
    if (moved) continue;
    all.source_lines.clear();  // rows of several files: no single line numbering
    table->batch_ = std::move(all);
    cache.Put(key, identity, table);
    return std::shared_ptr<const ReferenceTable>(std::move(table));
  }
}

std::string_view ReferenceKindName(ReferenceKind kind) {
  return kind == ReferenceKind::kFile ? "file" : "table";
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

std::shared_ptr<const ReferenceTable> ReferenceCache::Find(const std::string& key,
                                                           const std::string& identity) const {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.identity != identity) return nullptr;
  return it->second.table;
}

void ReferenceCache::Put(const std::string& key, std::string identity,
                         std::shared_ptr<const ReferenceTable> table) {
  MutexLock lock(&mu_);
  entries_[key] = Entry{std::move(identity), std::move(table)};
}

size_t ReferenceCache::size() const {
  MutexLock lock(&mu_);
  return entries_.size();
}

std::shared_ptr<const ReferenceTable> ResolvedReferences::Find(const std::string& name) const {
  for (const auto& [n, table] : tables_) {
    if (n == name) return table;
  }
  return nullptr;
}

std::vector<ReferenceUse> ResolvedReferences::Uses() const {
  std::vector<ReferenceUse> out;
  out.reserve(tables_.size());
  for (const auto& entry : tables_) out.push_back(entry.second->use());
  return out;
}

Result<ResolvedReferences> OpenReferences(const std::vector<ReferenceSource>& sources,
                                          const ReferenceEnv& env) {
  ReferenceCache own;
  ReferenceCache& cache = env.cache != nullptr ? *env.cache : own;
  ResolvedReferences out;
  for (const ReferenceSource& s : sources) {
    if (out.Find(s.name) != nullptr) continue;
    ASSIGN_OR_RETURN(std::shared_ptr<const ReferenceTable> table,
                     s.table.empty() ? ReferenceLoader::File(s, cache)
                                     : ReferenceLoader::Lake(s, cache, env.lake));
    out.tables_.emplace_back(s.name, std::move(table));
  }
  return out;
}

int64_t ReferenceTable::MemoryUsage() const { return batch_.MemoryUsage(); }

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
      return Status::InvalidArgument("reference " + use_.name + " has more than one row for key (" +
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
