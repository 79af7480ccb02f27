#include "format/parquet/parquet_footer.h"

#include "format/parquet/thrift_reader.h"

namespace sluice::parquet {

namespace {

using R = CompactReader;

std::string Str(std::string_view v) { return std::string(v); }

void ParseLogical(R& r, LogicalAnnotation* out) {
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    if (t != CompactType::kStruct) {
      r.Skip(t);
      continue;
    }
    out->id = id;
    r.BeginStruct();
    int16_t fid;
    CompactType ft;
    while (r.NextField(&fid, &ft)) {
      int32_t v = 0;
      bool b = false;
      if (id == logical::kDecimal && fid == 1 && r.ReadI32(ft, &v)) {
        out->scale = v;
      } else if (id == logical::kDecimal && fid == 2 && r.ReadI32(ft, &v)) {
        out->precision = v;
      } else if ((id == logical::kTime || id == logical::kTimestamp) && fid == 1 &&
                 r.ReadBool(ft, &b)) {
        out->adjusted_to_utc = b;
      } else if ((id == logical::kTime || id == logical::kTimestamp) && fid == 2 &&
                 ft == CompactType::kStruct) {
        // TimeUnit union: the member's id is the unit (empty struct).
        r.BeginStruct();
        int16_t uid;
        CompactType ut;
        while (r.NextField(&uid, &ut)) {
          out->unit = uid;
          r.Skip(ut);
        }
      } else if (id == logical::kInteger && fid == 1 && r.ReadI32(ft, &v)) {
        out->bit_width = v;
      } else if (id == logical::kInteger && fid == 2 && r.ReadBool(ft, &b)) {
        out->is_signed = b;
      } else if (r.ok()) {
        // Read* already skipped a mismatched value; everything else is unknown.
        if (!(id == logical::kDecimal && (fid == 1 || fid == 2)) &&
            !((id == logical::kTime || id == logical::kTimestamp) && (fid == 1 || fid == 2)) &&
            !(id == logical::kInteger && (fid == 1 || fid == 2))) {
          r.Skip(ft);
        }
      }
    }
  }
}

void ParseSchemaNode(R& r, SchemaNode* n) {
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    int32_t v = 0;
    std::string_view s;
    switch (id) {
      case 1:
        if (r.ReadI32(t, &v)) n->type = v;
        break;
      case 2:
        if (r.ReadI32(t, &v)) n->type_length = v;
        break;
      case 3:
        if (r.ReadI32(t, &v)) n->repetition = v;
        break;
      case 4:
        if (r.ReadBinary(t, &s)) n->name = Str(s);
        break;
      case 5:
        if (r.ReadI32(t, &v)) n->num_children = v;
        break;
      case 6:
        if (r.ReadI32(t, &v)) n->converted = v;
        break;
      case 7:
        if (r.ReadI32(t, &v)) n->scale = v;
        break;
      case 8:
        if (r.ReadI32(t, &v)) n->precision = v;
        break;
      case 10:
        if (t == CompactType::kStruct) {
          LogicalAnnotation la;
          ParseLogical(r, &la);
          if (la.id != 0) n->logical = la;
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  }
}

void ParseStatistics(R& r, ChunkStatistics* st) {
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    std::string_view s;
    int64_t v = 0;
    switch (id) {
      case 1:
        if (r.ReadBinary(t, &s)) st->max = Str(s);
        break;
      case 2:
        if (r.ReadBinary(t, &s)) st->min = Str(s);
        break;
      case 3:
        if (r.ReadInt(t, &v)) st->null_count = v;
        break;
      case 5:
        if (r.ReadBinary(t, &s)) st->max_value = Str(s);
        break;
      case 6:
        if (r.ReadBinary(t, &s)) st->min_value = Str(s);
        break;
      default:
        r.Skip(t);
    }
  }
}

void ParseColumnMeta(R& r, ChunkMeta* c) {
  c->has_meta = true;
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    int32_t v = 0;
    int64_t l = 0;
    CompactType et;
    uint32_t n = 0;
    switch (id) {
      case 1:
        if (r.ReadI32(t, &v)) c->type = v;
        break;
      case 2:
        if (r.ReadListHeader(t, &et, &n)) {
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            if (r.ReadI32(et, &v)) c->encodings.push_back(v);
          }
        }
        break;
      case 3:
        if (r.ReadListHeader(t, &et, &n)) {
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            std::string_view s;
            if (r.ReadBinary(et, &s)) c->path.push_back(Str(s));
          }
        }
        break;
      case 4:
        if (r.ReadI32(t, &v)) c->codec = v;
        break;
      case 5:
        if (r.ReadInt(t, &l)) c->num_values = l;
        break;
      case 6:
        if (r.ReadInt(t, &l)) c->total_uncompressed_size = l;
        break;
      case 7:
        if (r.ReadInt(t, &l)) c->total_compressed_size = l;
        break;
      case 9:
        if (r.ReadInt(t, &l)) c->data_page_offset = l;
        break;
      case 11:
        if (r.ReadInt(t, &l)) c->dictionary_page_offset = l;
        break;
      case 12:
        if (t == CompactType::kStruct) {
          ChunkStatistics st;
          ParseStatistics(r, &st);
          c->statistics = std::move(st);
        } else {
          r.Skip(t);
        }
        break;
      default:
        r.Skip(t);
    }
  }
}

void ParseColumnChunk(R& r, ChunkMeta* c) {
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    std::string_view s;
    int64_t l = 0;
    int32_t v = 0;
    switch (id) {
      case 4:
        if (r.ReadInt(t, &l)) c->offset_index_offset = l;
        break;
      case 5:
        if (r.ReadI32(t, &v)) c->offset_index_length = v;
        break;
      case 6:
        if (r.ReadInt(t, &l)) c->column_index_offset = l;
        break;
      case 7:
        if (r.ReadI32(t, &v)) c->column_index_length = v;
        break;
      case 1:
        if (r.ReadBinary(t, &s)) c->file_path = Str(s);
        break;
      case 3:
        if (t == CompactType::kStruct) {
          ParseColumnMeta(r, c);
        } else {
          r.Skip(t);
        }
        break;
      case 8:
      case 9:
        c->encrypted = true;
        r.Skip(t);
        break;
      default:
        r.Skip(t);
    }
  }
}

void ParseRowGroup(R& r, RowGroupMeta* g) {
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    CompactType et;
    uint32_t n = 0;
    int64_t l = 0;
    switch (id) {
      case 1:
        if (r.ReadListHeader(t, &et, &n)) {
          if (et != CompactType::kStruct) {
            r.Fail("row group columns are not structs");
            break;
          }
          g->columns.reserve(n);
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            g->columns.emplace_back();
            ParseColumnChunk(r, &g->columns.back());
          }
        }
        break;
      case 3:
        if (r.ReadInt(t, &l)) g->num_rows = l;
        break;
      default:
        r.Skip(t);
    }
  }
}

}  // namespace

std::string_view PhysicalTypeName(int32_t t) {
  switch (t) {
    case ptype::kBoolean:
      return "BOOLEAN";
    case ptype::kInt32:
      return "INT32";
    case ptype::kInt64:
      return "INT64";
    case ptype::kInt96:
      return "INT96";
    case ptype::kFloat:
      return "FLOAT";
    case ptype::kDouble:
      return "DOUBLE";
    case ptype::kByteArray:
      return "BYTE_ARRAY";
    case ptype::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "unknown physical type";
}

std::string_view EncodingName(int32_t e) {
  switch (e) {
    case encoding::kPlain:
      return "PLAIN";
    case encoding::kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case encoding::kRle:
      return "RLE";
    case encoding::kBitPacked:
      return "BIT_PACKED";
    case encoding::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case encoding::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case encoding::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case encoding::kRleDictionary:
      return "RLE_DICTIONARY";
    case encoding::kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "unknown encoding";
}

std::string_view CodecName(int32_t c) {
  switch (c) {
    case codec::kUncompressed:
      return "UNCOMPRESSED";
    case codec::kSnappy:
      return "SNAPPY";
    case codec::kGzip:
      return "GZIP";
    case codec::kLzo:
      return "LZO";
    case codec::kBrotli:
      return "BROTLI";
    case codec::kLz4:
      return "LZ4";
    case codec::kZstd:
      return "ZSTD";
    case codec::kLz4Raw:
      return "LZ4_RAW";
  }
  return "unknown codec";
}

Result<FileMeta> ParseFileMeta(std::string_view bytes) {
  R r(bytes);
  FileMeta m;
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    CompactType et;
    uint32_t n = 0;
    int32_t v = 0;
    int64_t l = 0;
    std::string_view s;
    switch (id) {
      case 1:
        if (r.ReadI32(t, &v)) m.version = v;
        break;
      case 2:
        if (r.ReadListHeader(t, &et, &n)) {
          if (et != CompactType::kStruct) {
            r.Fail("schema elements are not structs");
            break;
          }
          m.schema.reserve(n);
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            m.schema.emplace_back();
            ParseSchemaNode(r, &m.schema.back());
          }
        }
        break;
      case 3:
        if (r.ReadInt(t, &l)) m.num_rows = l;
        break;
      case 4:
        if (r.ReadListHeader(t, &et, &n)) {
          if (et != CompactType::kStruct) {
            r.Fail("row groups are not structs");
            break;
          }
          m.row_groups.reserve(n);
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            m.row_groups.emplace_back();
            ParseRowGroup(r, &m.row_groups.back());
          }
        }
        break;
      case 5:
        if (r.ReadListHeader(t, &et, &n)) {
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            if (et != CompactType::kStruct) {
              r.Skip(et);
              continue;
            }
            std::pair<std::string, std::string> kv;
            r.BeginStruct();
            int16_t fid;
            CompactType ft;
            while (r.NextField(&fid, &ft)) {
              std::string_view x;
              if (fid == 1 && r.ReadBinary(ft, &x)) {
                kv.first = Str(x);
              } else if (fid == 2 && r.ReadBinary(ft, &x)) {
                kv.second = Str(x);
              } else if (fid != 1 && fid != 2) {
                r.Skip(ft);
              }
            }
            m.key_value.push_back(std::move(kv));
          }
        }
        break;
      case 6:
        if (r.ReadBinary(t, &s)) m.created_by = Str(s);
        break;
      case 7:
        if (r.ReadListHeader(t, &et, &n)) {
          for (uint32_t i = 0; i < n && r.ok(); ++i) {
            bool type_order = false;
            if (et == CompactType::kStruct) {
              r.BeginStruct();
              int16_t fid;
              CompactType ft;
              while (r.NextField(&fid, &ft)) {
                if (fid == 1) type_order = true;
                r.Skip(ft);
              }
            } else {
              r.Skip(et);
            }
            m.type_defined_order.push_back(type_order);
          }
        }
        break;
      case 8:
        m.encrypted = true;
        r.Skip(t);
        break;
      default:
        r.Skip(t);
    }
  }
  if (!r.ok()) {
    return Status::DataLoss("corrupt footer (FileMetaData: " + r.error() + " at byte " +
                            std::to_string(r.pos()) + ")");
  }
  return m;
}

HeaderParse ParsePageHeader(std::string_view bytes, PageHeaderInfo* out, size_t* consumed,
                            std::string* error) {
  R r(bytes);
  *out = PageHeaderInfo();
  r.BeginStruct();
  int16_t id;
  CompactType t;
  while (r.NextField(&id, &t)) {
    int32_t v = 0;
    switch (id) {
      case 1:
        if (r.ReadI32(t, &v)) out->type = v;
        break;
      case 2:
        if (r.ReadI32(t, &v)) out->uncompressed_size = v;
        break;
      case 3:
        if (r.ReadI32(t, &v)) out->compressed_size = v;
        break;
      case 4:
        if (r.ReadI32(t, &v)) out->crc = static_cast<uint32_t>(v);
        break;
      case 5: {
        if (t != CompactType::kStruct) {
          r.Skip(t);
          break;
        }
        DataPageInfo d;
        r.BeginStruct();
        int16_t fid;
        CompactType ft;
        while (r.NextField(&fid, &ft)) {
          int32_t x = 0;
          if (fid == 1 && r.ReadI32(ft, &x)) {
            d.num_values = x;
          } else if (fid == 2 && r.ReadI32(ft, &x)) {
            d.encoding = x;
          } else if (fid == 3 && r.ReadI32(ft, &x)) {
            d.def_level_encoding = x;
          } else if (fid == 4 && r.ReadI32(ft, &x)) {
            d.rep_level_encoding = x;
          } else if (fid < 1 || fid > 4) {
            r.Skip(ft);
          }
        }
        out->data = d;
        break;
      }
      case 7: {
        if (t != CompactType::kStruct) {
          r.Skip(t);
          break;
        }
        DictPageInfo d;
        r.BeginStruct();
        int16_t fid;
        CompactType ft;
        while (r.NextField(&fid, &ft)) {
          int32_t x = 0;
          if (fid == 1 && r.ReadI32(ft, &x)) {
            d.num_values = x;
          } else if (fid == 2 && r.ReadI32(ft, &x)) {
            d.encoding = x;
          } else if (fid != 1 && fid != 2) {
            r.Skip(ft);
          }
        }
        out->dict = d;
        break;
      }
      case 8: {
        if (t != CompactType::kStruct) {
          r.Skip(t);
          break;
        }
        DataPageV2Info d;
        r.BeginStruct();
        int16_t fid;
        CompactType ft;
        while (r.NextField(&fid, &ft)) {
          int32_t x = 0;
          bool b = true;
          switch (fid) {
            case 1:
              if (r.ReadI32(ft, &x)) d.num_values = x;
              break;
            case 2:
              if (r.ReadI32(ft, &x)) d.num_nulls = x;
              break;
            case 3:
              if (r.ReadI32(ft, &x)) d.num_rows = x;
              break;
            case 4:
              if (r.ReadI32(ft, &x)) d.encoding = x;
              break;
            case 5:
              if (r.ReadI32(ft, &x)) d.def_levels_bytes = x;
              break;
            case 6:
              if (r.ReadI32(ft, &x)) d.rep_levels_bytes = x;
              break;
            case 7:
              if (r.ReadBool(ft, &b)) d.is_compressed = b;
              break;
            default:
              r.Skip(ft);
          }
        }
        out->data_v2 = d;
        break;
      }
      default:
        r.Skip(t);
    }
  }
  if (!r.ok()) {
    if (r.truncated()) return HeaderParse::kTruncated;
    *error = r.error();
    return HeaderParse::kCorrupt;
  }
  *consumed = r.pos();
  return HeaderParse::kOk;
}

}  // namespace sluice::parquet
