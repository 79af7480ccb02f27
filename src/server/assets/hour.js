// The last hour of finished batches, which the overview's charts and its
// "finished, last hour" column are drawn from. Read from /v1/batches only;
// nothing is estimated in the browser.
import { api } from './api.js';
import { FINISHED, FINISHED_LIST } from './states.js';

export const HOUR_MS = 3600 * 1000;
// The overview lists the newest RECENT_ROWS batches; between full reads the
// first page read per state is that short too.
export const RECENT_ROWS = 15;
// The charts read the newest finished batches a page at a time (see
// readFinished), at most WINDOW_MAX_PAGES pages of committed ones, all of
// them again every WINDOW_RELOAD_MS and only the new ones in between.
const WINDOW_PAGE = 200;
const WINDOW_MAX_PAGES = 5;
const WINDOW_RELOAD_MS = 30000;

// The finished (committed, quarantined) batches of the last hour, read
// per state: /v1/batches?state=S pages newest first (by registration),
// until a whole page finished before the hour, at most HOUR_PAGES[S]
// pages. Every WINDOW_RELOAD_MS everything is read again; in between,
// only the pages down to the newest batch read before.
const HOUR_PAGES = { committed: WINDOW_MAX_PAGES, quarantined: 2 };
export const hour = {
  batches: new Map(),  // id -> batch
  states: {},          // state -> {complete, knownFromUs, maxId}
  loadedAt: 0,         // Date.now() of the last full read
  ready: false,        // read at least once
};
// True when every finished batch of the hour was read (no page cap hit).
export const hourComplete = () => FINISHED_LIST.every((s) => hour.states[s] && hour.states[s].complete);

async function readFinished(state, full, stale, map) {
  const st = hour.states[state] || (hour.states[state] = { complete: false, knownFromUs: 0, maxId: 0 });
  const from = (Date.now() - HOUR_MS) * 1000;
  let before = null;
  let pages = 0;
  let done = false;
  let reachedKnown = false;
  let newest = 0;
  let minUpdated = Infinity;
  while (!done && !reachedKnown && pages < HOUR_PAGES[state]) {
    // Between full reads the first page is short: usually all there is.
    const limit = full || pages > 0 ? WINDOW_PAGE : RECENT_ROWS;
    const page = await api(`/v1/batches?state=${state}&limit=${limit}` +
      (before !== null ? `&before=${Number(before)}` : ''));
    if (stale()) return false;
    pages++;
    for (const b of page.batches) {
      map.set(b.id, b);
      minUpdated = Math.min(minUpdated, b.updated_us);
    }
    if (pages === 1 && page.batches.length) newest = page.batches[0].id;
    const last = page.batches.length ? page.batches[page.batches.length - 1] : null;
    before = page.next_before === undefined ? null : page.next_before;
    done = before === null || !last || page.batches.every((b) => b.updated_us < from);
    reachedKnown = !full && last !== null && last.id <= st.maxId;
  }
  if (full) {
    st.complete = done;
    st.knownFromUs = done || minUpdated === Infinity ? 0 : minUpdated;
  } else if (!done && !reachedKnown) {
    hour.loadedAt = 0;  // more than the pages since the last poll: read all next time
  }
  st.maxId = Math.max(st.maxId, newest);
  return true;
}

// Brings `hour` up to date; false when stale() turned true on the way.
export async function updateHour(stale) {
  const now = Date.now();
  const full = now - hour.loadedAt >= WINDOW_RELOAD_MS;
  const map = full ? new Map() : hour.batches;
  for (const state of FINISHED_LIST) {
    if (!(await readFinished(state, full, stale, map))) return false;
  }
  if (full) {
    hour.batches = map;
    hour.loadedAt = now;
    hour.ready = true;
  }
  const from = (now - HOUR_MS) * 1000;
  for (const [id, b] of hour.batches) {
    if (b.updated_us < from || !FINISHED.has(b.state)) hour.batches.delete(id);
  }
  return true;
}

// Per-minute buckets of the last hour, by the minute a batch finished
// (committed or quarantined; its updated_us).
export function hourSeries() {
  const end = Math.ceil(Date.now() / 60000) * 60000;
  const start = end - HOUR_MS;
  const n = 60;
  const rows = new Array(n).fill(0);
  const quar = new Array(n).fill(0);
  const count = new Array(n).fill(0);
  const proc = new Array(n).fill(0);
  const e2e = new Array(n).fill(0);
  for (const b of hour.batches.values()) {
    if (!FINISHED.has(b.state)) continue;
    const t = b.updated_us / 1000;
    if (t < start || t >= end) continue;
    const i = Math.min(n - 1, Math.floor((t - start) / 60000));
    rows[i] += b.rows_written || 0;
    quar[i] += b.rows_quarantined || 0;
    count[i] += 1;
    proc[i] += b.seconds || 0;
    e2e[i] += Math.max(0, (b.updated_us - b.created_us) / 1e6);
  }
  const mean = (sum) => sum.map((v, i) => (count[i] ? v / count[i] : null));
  // Minutes before the oldest batch read are unknown, not zero.
  let knownFrom = start;
  for (const st of Object.values(hour.states)) {
    if (!st.complete && st.knownFromUs) knownFrom = Math.max(knownFrom, st.knownFromUs / 1000);
  }
  knownFrom = Math.min(knownFrom, end);
  return { start, end, rows, quar, count, proc: mean(proc), e2e: mean(e2e), knownFrom };
}
