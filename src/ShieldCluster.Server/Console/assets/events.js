// View: the recent security events of every client (GET /admin/events?limit=100).

import { api } from './api.js';
import { clientHref, h, poll, stateBadge, statusLine, time } from './dom.js';

const REFRESH_MS = 5000;

export function eventsView(container) {
  const status = statusLine('events-status');
  const body = h('tbody');
  const table = h('table', { class: 'data', id: 'events-table' },
    h('thead', {}, h('tr', {},
      ['When', 'Client', 'Kind', 'From', 'To', 'Risk', 'Actor', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))),
    body);
  const wrap = h('div', { class: 'table-wrap' }, table);
  container.append(h('div', { class: 'heading' }, h('h2', {}, 'Recent events')), status.element, wrap);

  let stop = () => {};
  stop = poll(async () => {
    try {
      const data = await api('/admin/events?limit=100');
      const events = Array.isArray(data?.events) ? [...data.events].reverse() : [];
      body.replaceChildren(...(events.length ? events.map(row)
        : [h('tr', {}, h('td', { colspan: 8, class: 'note' }, 'No security events yet.'))]));
      status.ok(`Last 100 events, newest first; refreshed ${new Date().toLocaleTimeString()}.`);
    } catch (error) {
      if (error.status === 404) {
        // This server has no audit trail endpoint: say so quietly and stop asking.
        stop();
        wrap.hidden = true;
        status.ok('Recent events are not available on this server.');
        status.element.classList.add('note');
        return;
      }
      status.error(error.display ?? String(error));
    }
  }, REFRESH_MS);

  return { dispose: () => stop() };
}

function row(e) {
  return h('tr', {},
    h('td', {}, time(e.at)),
    h('td', {}, e.clientId ? h('a', { href: clientHref(e.clientId) }, e.clientId) : '-'),
    h('td', {}, e.kind ?? ''),
    h('td', {}, stateBadge(e.from)),
    h('td', {}, stateBadge(e.to)),
    h('td', { class: 'num' }, Number.isFinite(e.risk) ? e.risk.toFixed(3) : '-'),
    h('td', {}, e.actor ?? ''),
    h('td', { class: 'reason' }, e.reason ?? ''));
}
