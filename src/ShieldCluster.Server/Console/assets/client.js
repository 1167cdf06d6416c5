// View: one client's risk report (GET /admin/clients/{id}) with its charts, the detectors'
// evidence and events, and the Block / Unblock actions (POST .../block, .../unblock).

import { api } from './api.js';
import { queriesChart, riskChart } from './charts.js';
import { h, poll, riskMeter, stateBadge, statusLine, time } from './dom.js';

const REFRESH_MS = 5000;

export function clientView(container, clientId) {
  const path = `/admin/clients/${encodeURIComponent(clientId)}`;
  const status = statusLine('client-status');
  const badge = h('span', { id: 'client-state' });
  const summary = h('div', { class: 'summary', id: 'client-summary' });
  const charts = h('div', { class: 'charts' });
  const detectors = h('div', { class: 'table-wrap' });
  const events = h('div', { class: 'table-wrap' });
  let refresh = async () => {};
  const actions = actionsCard(path, () => refresh());
  const data = h('div', { class: 'client-data', hidden: true }, summary, actions,
    h('section', { class: 'card' }, h('h3', {}, 'Activity'), charts),
    h('section', { class: 'card' }, h('h3', {}, 'Detectors and their evidence'), detectors),
    h('section', { class: 'card' }, h('h3', {}, 'Recent security events'), events));

  container.append(
    h('p', {}, h('a', { href: '#/clients' }, '\u2190 Riskiest clients')),
    h('div', { class: 'heading' }, h('h2', {}, 'Client ', h('span', { id: 'client-id', class: 'mono' }, clientId)), badge),
    status.element,
    data);

  refresh = async () => {
    try {
      const report = await api(path);
      render(report);
      data.hidden = false;
      status.ok(`Refreshed ${new Date().toLocaleTimeString()} (every ${REFRESH_MS / 1000} s).`);
    } catch (error) {
      if (error.status === 404) data.hidden = true;
      status.error(error.display ?? String(error));
    }
  };

  const render = (report) => {
    const enforcement = report.enforcement ?? {};
    badge.replaceChildren(stateBadge(enforcement.state));
    const usage = report.usage ?? {};
    summary.replaceChildren(
      fact('Plan', report.plan ?? '-'),
      fact('Risk', riskMeter(report.risk)),
      fact('Enforcement', stateBadge(enforcement.state),
        enforcement.state === 'blocked' ? h('span', { class: 'muted' }, ' until ', enforcement.until ? time(enforcement.until) : 'unblocked') : null),
      fact('Last seen', time(report.lastSeen)),
      fact('Requests', count(usage.totalRequests)),
      fact('Items', count(usage.totalItems)),
      fact('Items today (UTC)', count(usage.itemsToday)),
      fact('Refused requests', count(usage.refusedRequests)),
      fact('History items', count(report.historyItems)));

    const { minutes, risk } = timelineOf(report);
    const fromEvents = risk === null;
    charts.replaceChildren(
      riskChart(fromEvents ? riskFromEvents(report) : risk.map((p) => ({ at: Date.parse(p.at), risk: p.risk, state: p.state })),
        { caption: fromEvents ? 'Risk over time (from the security events)' : 'Risk over time' }),
      minutes === null
        ? h('figure', { class: 'chart-box' }, h('p', { class: 'note' }, 'This server does not report queries per minute.'), h('figcaption', {}, 'Queries per minute'))
        : queriesChart(minutes.map((p) => ({ at: Date.parse(p.at), requests: p.requests, items: p.items }))));

    detectors.replaceChildren(detectorTable(Array.isArray(report.detectors) ? report.detectors : []));
    events.replaceChildren(eventTable(Array.isArray(report.events) ? report.events : []));
  };

  const stop = poll(refresh, REFRESH_MS);
  return { dispose: stop };
}

function actionsCard(path, refresh) {
  const result = h('p', { id: 'action-result', class: 'status', role: 'alert', hidden: true });
  const show = (text, isError) => {
    result.hidden = false;
    result.classList.toggle('error', isError);
    result.classList.toggle('success', !isError);
    result.textContent = text;
  };

  const blockReason = h('input', { id: 'block-reason', type: 'text', required: true, maxlength: 1000, placeholder: 'why (kept in the audit trail)' });
  const blockMinutes = h('input', { id: 'block-minutes', type: 'number', min: 1, max: 5256000, step: 1, placeholder: 'until unblocked' });
  const blockButton = h('button', { id: 'block-button', type: 'submit', class: 'danger' }, 'Block');
  const block = h('form', {
    id: 'block-form', class: 'action-form',
    onsubmit: async (event) => {
      event.preventDefault();
      const body = { reason: blockReason.value.trim() };
      if (blockMinutes.value !== '') body.minutes = Number(blockMinutes.value);
      await act(blockButton, async () => {
        const answer = await api(`${path}/block`, { method: 'POST', body });
        const until = answer?.enforcement?.until;
        show(until ? `Blocked until ${new Date(until).toLocaleString()}.` : 'Blocked until unblocked.', false);
        blockReason.value = '';
        blockMinutes.value = '';
      });
    },
  },
  h('h3', {}, 'Block'),
  h('label', { for: 'block-reason' }, 'Reason'), blockReason,
  h('label', { for: 'block-minutes' }, 'Minutes (optional)'), blockMinutes,
  blockButton);

  const unblockReason = h('input', { id: 'unblock-reason', type: 'text', required: true, maxlength: 1000, placeholder: 'why (kept in the audit trail)' });
  const unblockButton = h('button', { id: 'unblock-button', type: 'submit' }, 'Unblock');
  const unblock = h('form', {
    id: 'unblock-form', class: 'action-form',
    onsubmit: async (event) => {
      event.preventDefault();
      await act(unblockButton, async () => {
        await api(`${path}/unblock`, { method: 'POST', body: { reason: unblockReason.value.trim() } });
        show('Unblocked: enforcement back to ok, risk reset, evidence kept.', false);
        unblockReason.value = '';
      });
    },
  },
  h('h3', {}, 'Unblock'),
  h('label', { for: 'unblock-reason' }, 'Reason'), unblockReason,
  unblockButton);

  async function act(button, action) {
    button.disabled = true;
    try {
      await action();
      await refresh();
    } catch (error) {
      show(error.display ?? String(error), true);
    } finally {
      button.disabled = false;
    }
  }

  return h('section', { class: 'card actions' }, h('div', { class: 'action-forms' }, block, unblock), result);
}

/** The timeline, whichever shape the server sends: { minutes, risk } or a bare list of minutes. */
function timelineOf(report) {
  const timeline = report.timeline;
  const minutes = Array.isArray(timeline) ? timeline : Array.isArray(timeline?.minutes) ? timeline.minutes : null;
  const risk = Array.isArray(timeline?.risk) && timeline.risk.length > 0 ? timeline.risk : null;
  return { minutes, risk };
}

/** Without a risk timeline: the risk each security event recorded, and the current risk if it moved since. */
function riskFromEvents(report) {
  const points = (Array.isArray(report.events) ? report.events : [])
    .map((e) => ({ at: Date.parse(e.at), risk: e.risk, state: e.to, note: e.kind }))
    .filter((p) => Number.isFinite(p.at) && Number.isFinite(p.risk))
    .sort((a, b) => a.at - b.at);
  const last = points[points.length - 1];
  if (Number.isFinite(report.risk) && last && Math.abs(last.risk - report.risk) > 1e-9) {
    points.push({ at: Date.now(), risk: report.risk, state: report.enforcement?.state, note: 'now' });
  }
  return points;
}

function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, ...value));
}

function count(value) {
  return Number.isFinite(value) ? value.toLocaleString() : '-';
}

function detectorTable(detectors) {
  if (detectors.length === 0) return h('p', { class: 'note' }, 'No detector has a verdict on this client yet.');
  return h('table', { class: 'data', id: 'detectors-table' },
    h('thead', {}, h('tr', {}, ['Detector', 'Score', 'Mode', 'Evidence'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, detectors.map((d) => h('tr', {},
      h('td', { class: 'mono' }, d.name ?? ''),
      h('td', {}, riskMeter(d.score)),
      h('td', {}, d.monitorOnly ? h('span', { class: 'badge monitor' }, 'monitor only') : h('span', { class: 'badge enforcing' }, 'enforcing')),
      h('td', { class: 'evidence' }, d.evidence ?? '')))));
}

function eventTable(events) {
  if (events.length === 0) return h('p', { class: 'note' }, 'No security events for this client.');
  const newestFirst = [...events].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return h('table', { class: 'data', id: 'client-events-table' },
    h('thead', {}, h('tr', {}, ['When', 'Kind', 'From', 'To', 'Risk', 'Actor', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, newestFirst.map((e) => h('tr', {},
      h('td', {}, time(e.at)),
      h('td', {}, e.kind ?? ''),
      h('td', {}, stateBadge(e.from)),
      h('td', {}, stateBadge(e.to)),
      h('td', { class: 'num' }, Number.isFinite(e.risk) ? e.risk.toFixed(3) : '-'),
      h('td', {}, e.actor ?? ''),
      h('td', { class: 'reason' }, e.reason ?? '')))));
}
