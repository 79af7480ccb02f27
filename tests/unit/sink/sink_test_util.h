// Shared helpers for the sink tests: a temporary directory and column builders.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/column.h"
#include "core/io.h"
#include "store/object_store.h"

namespace sluice::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_sink_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

template <typename T>
Column FixedColumn(DataType type, const std::vector<std::optional<T>>& values) {
  Column c(type);
  for (const auto& v : values) {
    if (v) {
      c.Append<T>(*v);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

inline Column StringColumn(const std::vector<std::optional<std::string>>& values) {
  Column c(DataType::String());
  for (const auto& v : values) {
    if (v) {
      c.AppendString(*v);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

inline RecordBatch MakeBatch(const Schema& schema, std::vector<Column> columns) {
  RecordBatch b;
  b.schema = schema;
  b.columns = std::move(columns);
  return b;
}

// The whole object, or the error text (tests compare bytes).
inline std::string ReadObject(ObjectStore& store, const std::string& key) {
  auto in = store.OpenRead(key);
  if (!in.ok()) return "<" + in.status().ToString() + ">";
  auto data = ReadAll(**in);
  return data.ok() ? *data : "<" + data.status().ToString() + ">";
}

}  // namespace sluice::testing
