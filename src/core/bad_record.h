// A record that failed decoding, validation or a transform step.
//
// Bad records are data, not errors: decoders and operators append them to a
// vector the engine owns; the engine applies the pipeline's on_bad_record policy
// (fail | skip | quarantine) and writes quarantined ones with their reasons.
#pragma once

#include <cstdint>
#include <string>

namespace sluice {

struct BadRecord {
  int64_t line = 0;    // 1-based physical line (CSV/NDJSON) where the record starts
  std::string field;   // offending field name, empty when the whole record is bad
  std::string reason;  // e.g. "cannot parse 'abc' as int64"
  std::string raw;     // the original record text (without the line terminator)
};

}  // namespace sluice
