#include "core/schema_evolution.h"

namespace sluice {

std::string_view SchemaEvolutionName(SchemaEvolution e) {
  switch (e) {
    case SchemaEvolution::kReject:
      return "reject";
    case SchemaEvolution::kEvolve:
      return "evolve";
    case SchemaEvolution::kFreeze:
      return "freeze";
  }
  return "reject";
}

Result<SchemaEvolution> ParseSchemaEvolution(std::string_view name) {
  for (SchemaEvolution e :
       {SchemaEvolution::kReject, SchemaEvolution::kEvolve, SchemaEvolution::kFreeze}) {
    if (name == SchemaEvolutionName(e)) return e;
  }
  return Status::InvalidArgument("'" + std::string(name) +
                                 "' is not a schema evolution (evolve, freeze or reject)");
}

bool IsWidening(const DataType& from, const DataType& to) {
  if (from.id == TypeId::kInt32 && to.id == TypeId::kInt64) return true;
  return from.id == TypeId::kDecimal && to.id == TypeId::kDecimal && from.scale == to.scale &&
         to.precision > from.precision;
}

SchemaChange CompareSchemas(const Schema& table, const Schema& batch) {
  SchemaChange c;
  for (const Field& f : table.fields()) {
    const int j = batch.FieldIndex(f.name);
    if (j < 0) {
      if (!f.nullable) {
        c.incompatible.push_back("column '" + f.name + "' (" + f.type.ToString() +
                                 " not null) is not written by the batch");
      } else {
        c.dropped.push_back(f.name);
      }
      c.merged.AddField(f);
      continue;
    }
    const Field& g = batch.field(j);
    Field kept = f;
    if (g.type != f.type) {
      if (IsWidening(f.type, g.type)) {
        c.widened.push_back(f.name + ": " + f.type.ToString() + " -> " + g.type.ToString());
        kept.type = g.type;
      } else if (!IsWidening(g.type, f.type)) {
        c.incompatible.push_back("column '" + f.name + "' is " + f.type.ToString() +
                                 " in the table but " + g.type.ToString() + " in the batch");
      } else {
        c.incompatible.push_back("column '" + f.name + "' is " + f.type.ToString() +
                                 " in the table but " + g.type.ToString() +
                                 " in the batch (narrowing)");
      }
    }
    c.merged.AddField(kept);
  }
  for (const Field& g : batch.fields()) {
    if (table.FieldIndex(g.name) >= 0) continue;
    if (!g.nullable) {
      c.incompatible.push_back("new column '" + g.name + "' (" + g.type.ToString() +
                               " not null) cannot be added: rows written before have no value");
      continue;
    }
    c.added.push_back(g);
    c.merged.AddField(g);
  }
  return c;
}

}  // namespace sluice
