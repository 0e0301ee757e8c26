// audit.js - the audit log (newest first, paged) and the chain's verify
// status: every entry's hash covers the previous one, so an edited or
// deleted row breaks the chain at a named sequence number.
import {api} from './api.js';
import {h, clear, when, section, table, errorBox} from './dom.js';

const PAGE = 50;

// Long details fold away behind their first line.
function detailsCell(text) {
  if (!text || text.length <= 110) return h('code', {class: 'details'}, text || '');
  return h('details', {}, h('summary', {}, h('code', {}, text.slice(0, 90) + '…')), h('code', {class: 'details'}, text));
}

export async function auditView(root) {
  const verifyBox = h('div', {id: 'audit-verify', 'aria-live': 'polite'});
  const listBox = h('div', {id: 'audit-list'});
  const pager = h('div', {class: 'actions'});
  let offset = 0;
  async function verify() {
    clear(verifyBox);
    try {
      const v = await api('GET', '/audit/verify');
      if (v.ok) verifyBox.append(h('div', {class: 'ok verify-ok'}, `✔ Chain intact: ${v.entries} entries verified.`));
      else {
        const b = v.broken || v.first_broken || {};
        verifyBox.append(h('div', {class: 'error verify-broken', role: 'alert'}, `✘ Chain broken at entry ${b.seq ?? '?'}: ${b.reason || ''}`,
          b.expected ? h('div', {}, 'expected ', h('code', {}, b.expected), ' found ', h('code', {}, b.found)) : null));
      }
    } catch (err) { verifyBox.append(errorBox(err)); }
  }
  async function load() {
    clear(listBox); clear(pager);
    const page = await api('GET', `/audit?limit=${PAGE}&offset=${offset}`);
    listBox.append(table(['#', 'When', 'Actor', 'Action', 'Object', 'Details', 'Hash'], page.items.map((e) => [
      e.seq, when(e.at), e.actor, e.action, h('code', {}, e.object || ''),
      detailsCell(typeof e.details === 'string' ? e.details : JSON.stringify(e.details)),
      h('code', {class: 'hash', title: `hash ${e.hash}\nprevious ${e.prev_hash}`}, (e.hash || '').slice(0, 12) + '…')]), {class: 'compact', id: 'audit-table'}));
    const prev = h('button', {type: 'button', disabled: offset === 0}, '← Newer');
    const next = h('button', {type: 'button', disabled: offset + PAGE >= page.total}, 'Older →');
    prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
    next.addEventListener('click', () => { offset += PAGE; load(); });
    pager.append(prev, h('span', {class: 'note'}, `${page.total ? offset + 1 : 0}–${Math.min(offset + PAGE, page.total)} of ${page.total}`), next);
  }
  const reverify = h('button', {type: 'button', id: 'reverify'}, 'Verify again');
  reverify.addEventListener('click', verify);
  root.append(h('h1', {}, 'Audit log'), section('Integrity', 'Each entry carries the hash of the one before it; verification recomputes the whole chain on the server.', verifyBox, reverify), section('Entries', 'Newest first.', listBox, pager));
  await Promise.all([verify(), load()]);
  return null;
}
