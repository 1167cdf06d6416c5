// View: the riskiest clients (GET /admin/clients?sort=risk&top=50), refreshed every few seconds.

import { api } from './api.js';
import { clientHref, h, poll, riskMeter, stateBadge, statusLine, time } from './dom.js';

const REFRESH_MS = 5000;

export function clientsView(container) {
  const status = statusLine('clients-status');
  const body = h('tbody');
  const table = h('table', { class: 'data', id: 'clients-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Client'),
      h('th', { scope: 'col' }, 'Risk'),
      h('th', { scope: 'col' }, 'Enforcement'),
      h('th', { scope: 'col' }, 'Updated'))),
    body);

  const idInput = h('input', { id: 'open-client-id', type: 'text', required: true, spellcheck: 'false', pattern: '[a-z0-9][a-z0-9\\-]{0,63}', placeholder: 'client id' });
  const open = h('form', {
    id: 'open-client', class: 'inline-form',
    onsubmit: (event) => {
      event.preventDefault();
      const id = idInput.value.trim();
      if (id) location.hash = clientHref(id);
    },
  }, h('label', { for: 'open-client-id' }, 'Open a client'), idInput, h('button', { type: 'submit' }, 'Open'));

  container.append(
    h('div', { class: 'heading' }, h('h2', {}, 'Riskiest clients'), open),
    status.element,
    h('div', { class: 'table-wrap' }, table));

  const render = (clients) => {
    if (clients.length === 0) {
      body.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'note' }, 'No client has a risk record yet.')));
      return;
    }
    body.replaceChildren(...clients.map((c) => h('tr', { 'data-client': c.clientId },
      h('td', {}, h('a', { href: clientHref(c.clientId) }, c.clientId)),
      h('td', {}, riskMeter(c.risk)),
      h('td', {}, stateBadge(c.enforcement)),
      h('td', {}, time(c.updatedAt)))));
  };

  const stop = poll(async () => {
    try {
      const data = await api('/admin/clients?sort=risk&top=50');
      render(Array.isArray(data?.clients) ? data.clients : []);
      status.ok(`Top 50 by risk; refreshed ${new Date().toLocaleTimeString()} (every ${REFRESH_MS / 1000} s).`);
    } catch (error) {
      status.error(error.display ?? String(error));
    }
  }, REFRESH_MS);

  return { dispose: stop };
}
