// The project's lake, as reference tables see it (transform/reference.h):
// a lake table's current snapshot from the catalog, its files from the store.
#pragma once

#include <memory>

#include "catalog/catalog.h"
#include "store/object_store.h"
#include "transform/reference.h"

namespace sluice {

// Not owning: the catalog and store must outlive the provider (the Project
// owns all three).
std::unique_ptr<LakeTableProvider> NewProjectLakeTables(Catalog* catalog, ObjectStore* store);

}  // namespace sluice
