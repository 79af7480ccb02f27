// The banner under the header: the last error of a refresh or an action,
// cleared when the view's data is on the page again.
import { $ } from './dom.js';

export function banner(err) {
  const b = $('banner');
  if (!err) { b.hidden = true; b.textContent = ''; return; }
  b.textContent = err.status ? `${err.message} (HTTP ${err.status})` : err.message;
  b.hidden = false;
}
