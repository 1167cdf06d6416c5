// Small SVG charts drawn here (no library, nothing fetched): a step line for risk over time and
// bars for queries per minute. Values reach the SVG only as numbers and text nodes.

import { h, s } from './dom.js';

const WIDTH = 640;
const HEIGHT = 200;
const MARGIN = { top: 10, right: 14, bottom: 26, left: 46 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const MINUTE = 60_000;

/** The smallest of 1, 2, 5 x 10^k at or above v (at least 1). */
function niceCeiling(v) {
  if (!(v > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= v) return step * power;
  }
  return 10 * power;
}

function clockLabel(ms, spanMs) {
  const date = new Date(ms);
  const clock = date.toLocaleTimeString([], spanMs < 10 * MINUTE
    ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' });
  return spanMs > 86_400_000 ? `${date.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${clock}` : clock;
}

function frame(label, t0, t1, yMax, yFormat) {
  const x = (t) => MARGIN.left + ((t - t0) / (t1 - t0)) * PLOT_W;
  const y = (v) => MARGIN.top + PLOT_H - (v / yMax) * PLOT_H;
  const svg = s('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': label });
  const axes = s('g', { class: 'axes' });
  for (let i = 0; i <= 4; i++) {
    const value = (yMax * i) / 4;
    axes.append(
      s('line', { class: 'grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }),
      s('text', { class: 'tick', x: MARGIN.left - 6, y: y(value) + 4, 'text-anchor': 'end' }, yFormat(value)));
  }
  const span = t1 - t0;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + (span * i) / 4;
    axes.append(s('text', {
      class: 'tick', x: x(t), y: HEIGHT - 8,
      'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle',
    }, clockLabel(t, span)));
  }
  axes.append(s('line', { class: 'axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }));
  svg.append(axes);
  return { svg, x, y };
}

function figure(svg, caption, legend = []) {
  return h('figure', { class: 'chart-box' },
    svg,
    h('figcaption', {}, caption,
      legend.map(([cls, text]) => h('span', { class: `legend ${cls}` }, text))));
}

function empty(caption, note) {
  return h('figure', { class: 'chart-box' }, h('p', { class: 'note' }, note), h('figcaption', {}, caption));
}

/**
 * Risk over time as a step line in [0, 1]. points: [{ at: ms, risk, state?, note? }], oldest first;
 * `now` extends the last value to the present.
 */
export function riskChart(points, { caption = 'Risk over time', now = Date.now() } = {}) {
  const data = points.filter((p) => Number.isFinite(p.at) && Number.isFinite(p.risk));
  if (data.length === 0) return empty(caption, 'No risk changes recorded yet.');

  const t0 = data[0].at;
  const t1 = Math.max(now, data[data.length - 1].at, t0 + MINUTE);
  const { svg, x, y } = frame(caption, t0, t1, 1, (v) => v.toFixed(2));
  // Shade the time spent degraded, throttled or blocked, behind the line.
  const bands = s('g', { class: 'bands' });
  data.forEach((p, i) => {
    if (!['degraded', 'throttled', 'blocked'].includes(p.state)) return;
    const end = i + 1 < data.length ? data[i + 1].at : t1;
    bands.append(s('rect', { class: `band state-${p.state}`, x: x(p.at), y: y(1), width: Math.max(1, x(end) - x(p.at)), height: y(0) - y(1) },
      s('title', {}, `${p.state} from ${new Date(p.at).toLocaleString()}`)));
  });
  svg.querySelector('.axes').after(bands);
  let path = `M ${x(data[0].at)} ${y(data[0].risk)}`;
  for (let i = 1; i < data.length; i++) {
    path += ` H ${x(data[i].at)} V ${y(data[i].risk)}`;
  }
  path += ` H ${x(t1)}`;
  svg.append(s('path', { class: 'line risk-line', d: path }));
  for (const p of data) {
    const state = ['ok', 'degraded', 'throttled', 'blocked'].includes(p.state) ? p.state : 'unknown';
    svg.append(s('circle', { class: `dot state-${state}`, cx: x(p.at), cy: y(p.risk), r: 3.5 },
      s('title', {}, `${new Date(p.at).toLocaleString()}: risk ${p.risk.toFixed(3)}${p.state ? `, ${p.state}` : ''}${p.note ? ` (${p.note})` : ''}`)));
  }
  return figure(svg, caption, [['legend-risk', 'risk'], ['legend-dot', 'recorded change'], ['legend-band', 'degraded / throttled / blocked']]);
}

/** Queries per minute: bars of requests and a line of items. points: [{ at: ms, requests, items }]. */
export function queriesChart(points, { caption = 'Queries per minute' } = {}) {
  const data = points.filter((p) => Number.isFinite(p.at)).sort((a, b) => a.at - b.at);
  if (data.length === 0) return empty(caption, 'No queries in the recorded history.');

  const t0 = data[0].at;
  const t1 = Math.max(data[data.length - 1].at + MINUTE, t0 + 5 * MINUTE);
  const yMax = niceCeiling(Math.max(...data.map((p) => Math.max(p.requests || 0, p.items || 0))));
  const { svg, x, y } = frame(caption, t0, t1, yMax, (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)));
  const barWidth = Math.max(1, x(t0 + MINUTE) - x(t0) - 1);
  for (const p of data) {
    const top = y(p.requests || 0);
    svg.append(s('rect', { class: 'bar', x: x(p.at), y: top, width: barWidth, height: Math.max(0, y(0) - top) },
      s('title', {}, `${new Date(p.at).toLocaleString()}: ${p.requests || 0} requests, ${p.items || 0} items`)));
  }
  const line = data.map((p, i) => `${i ? 'L' : 'M'} ${x(p.at) + barWidth / 2} ${y(p.items || 0)}`).join(' ');
  svg.append(s('path', { class: 'line items-line', d: line }));
  if (data.length <= 60) {
    for (const p of data) svg.append(s('circle', { class: 'items-dot', cx: x(p.at) + barWidth / 2, cy: y(p.items || 0), r: 2.5 }));
  }
  return figure(svg, caption, [['legend-bar', 'requests'], ['legend-items', 'items']]);
}
