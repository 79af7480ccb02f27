// Cursors of a paged table read (GET /v1/tables/{table}/rows, engine
// TableReader): what a cursor holds, how it is spelled and checked.
//
// A cursor is base64url (no padding) of:
//   u8 version (1) | i64 snapshot | u32 file index | i64 row in file |
//   8 bytes query fingerprint | u16 table length | table bytes |
//   8 bytes check (SHA-256 of the bytes before it, truncated)
// all little-endian. The check catches a cursor that was cut, altered or
// made up by hand; it is not a secret (whoever can read a table may page
// through it anyway), so it needs no key.
//
// Internal to the engine's table reader (table_reader.cc) and its tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "engine/table_reader.h"

namespace sluice::table_internal {

// base64url without padding; Decode refuses any other spelling (bad
// characters, a length of 4k+1, non-zero leftover bits).
std::string TrBase64UrlEncode(std::string_view in);
std::optional<std::string> TrBase64UrlDecode(std::string_view in);

// The first 8 bytes of SHA-256(domain + data).
std::string TrDigest8(std::string_view domain, std::string_view data);

// Identifies the query a cursor belongs to: the columns as requested and
// the where text (not the limit, which may change from page to page).
std::string TrQueryFingerprint(const TableReadRequest& r);

// The position of the first matching row not yet returned.
struct TrCursor {
  std::string table;
  int64_t snapshot = 0;
  uint32_t file = 0;  // index in the snapshot's file list (catalog order)
  int64_t row = 0;    // row in that file
  std::string query;  // TrQueryFingerprint, 8 bytes
};

std::string TrEncodeCursor(const TrCursor& c);
// kInvalidArgument "invalid cursor: ..." for anything TrEncodeCursor did not make.
Result<TrCursor> TrDecodeCursor(const std::string& text);

}  // namespace sluice::table_internal
