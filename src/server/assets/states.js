// The states of a batch, as the API names them, and how one is shown.
import { el } from './dom.js';

export const STATES = ['landed', 'queued', 'processing', 'committing', 'committed', 'failed',
  'quarantined', 'damaged'];
// A batch in one of these is done with: it counts in the charts.
export const FINISHED_LIST = ['committed', 'quarantined'];
export const FINISHED = new Set(FINISHED_LIST);

export function stateBadge(state) {
  const s = String(state);
  const cls = /^[a-z_]+$/.test(s) ? 'st-' + s : 'st-unknown';
  return el('span', { class: 'state ' + cls, text: s });
}
