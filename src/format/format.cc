// Format names, suffix sniffing and the decoder dispatch table.
#include "format/format.h"

#include "core/value_text.h"
#include "format/parquet_reader.h"

#include <string>

namespace sluice {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view FileFormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kNdjson:
      return "ndjson";
    case FileFormat::kParquet:
      return "parquet";
  }
  return "unknown";
}

Result<FileFormat> ParseFileFormat(std::string_view name) {
  std::string n = AsciiLower(name);
  if (n == "csv" || n == "tsv") return FileFormat::kCsv;
  if (n == "ndjson" || n == "jsonl" || n == "json") return FileFormat::kNdjson;
  if (n == "parquet") return FileFormat::kParquet;
  return Status::InvalidArgument("unknown file format '" + std::string(name) +
                                 "' (expected csv, ndjson, jsonl or parquet)");
}

Result<FileFormat> FileFormatFromName(std::string_view path) {
  std::string n = AsciiLower(path);
  // Only the last path component carries the suffixes.
  if (size_t slash = n.find_last_of('/'); slash != std::string::npos) n.erase(0, slash + 1);
  for (std::string_view c : {".gz", ".gzip", ".zst", ".zstd"}) {
    if (EndsWith(n, c)) {
      n.resize(n.size() - c.size());
      break;
    }
  }
  if (EndsWith(n, ".csv") || EndsWith(n, ".tsv")) return FileFormat::kCsv;
  if (EndsWith(n, ".ndjson") || EndsWith(n, ".jsonl") || EndsWith(n, ".json")) {
    return FileFormat::kNdjson;
  }
  if (EndsWith(n, ".parquet")) return FileFormat::kParquet;
  return Status::InvalidArgument("cannot tell the format of '" + std::string(path) +
                                 "' from its name (expected .csv, .tsv, .ndjson, .jsonl, .json "
                                 "or .parquet, optionally with .gz or .zst); set the format "
                                 "explicitly");
}

Result<Compression> ParseCompression(std::string_view name) {
  std::string n = AsciiLower(name);
  if (n == "none" || n == "uncompressed") return Compression::kUncompressed;
  if (n == "snappy") return Compression::kSnappy;
  if (n == "gzip" || n == "gz") return Compression::kGzip;
  if (n == "zstd" || n == "zst") return Compression::kZstd;
  return Status::InvalidArgument("unknown compression '" + std::string(name) +
                                 "' (expected none, snappy, gzip or zstd)");
}

Result<std::unique_ptr<Decoder>> NewDecoder(FileFormat format, std::unique_ptr<InputStream> in,
                                            const DecoderOptions& options) {
  switch (format) {
    case FileFormat::kCsv:
      return NewCsvDecoder(std::move(in), options);
    case FileFormat::kNdjson:
      return NewNdjsonDecoder(std::move(in), options);
    case FileFormat::kParquet:
      return NewParquetDecoder(std::move(in), options);
  }
  return Status::Internal("unknown file format");
}

}  // namespace sluice
