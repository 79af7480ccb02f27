// The processing side of a database output (`postgres`, `sqlite`;
// architecture 6.2): the rows are not loaded while the batch is processed
// but staged as one zstd-compressed binary COPY stream (sink/pg_copy.h: the
// fields, then _sluice_batch_id) in the store, for a loader on any host:
//   staging/<batch>/a<attempt>/<kind>/<table>-<id>/rows.pgcopy.zst
// published with the batch's other outputs to
//   deliveries/<pipeline>/<table>-<id>/b<batch>-a<attempt>.pgcopy.zst
// (on a store without rename: written there directly, after a write marker).
// <id> is 8 hex digits of the SHA-256 of the output's Describe(), so two
// outputs into tables of one name in two databases do not share a key.
// Finish returns the delivery for the commit to record; Load does nothing
// (the loader does it later); memory stays one batch's encoding.
#pragma once

#include <memory>
#include <string>

#include "sink/database_output.h"
#include "sink/sink.h"

namespace sluice {

// `args`: the output's spec as written (JSON, ${VAR} unexpanded), recorded
// with the delivery (with the pipeline's schema_evolution unless the output
// sets its own) so that a loader on any host can rebuild the output in its
// own environment.
std::unique_ptr<Sink> NewDeliverySink(std::unique_ptr<DatabaseOutput> output,
                                      std::string args = "{}");

}  // namespace sluice
