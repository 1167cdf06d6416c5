// DOM helpers: every value from the API reaches the page as a text node or an attribute set
// through the DOM, never as HTML (no innerHTML anywhere in the console).

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'text') {
      element.textContent = String(value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h('td', { class: 'num' }, 'text', otherNode). */
export function h(tag, attributes, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** An SVG element, same shape as h(). */
export function s(tag, attributes, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

/** The URL fragment of a client's page; the id is encoded, never trusted as markup. */
export function clientHref(clientId) {
  return `#/clients/${encodeURIComponent(clientId)}`;
}

const ENFORCEMENT_STATES = new Set(['ok', 'degraded', 'throttled', 'blocked']);

/** A badge for an enforcement state; the class comes from a fixed list, the text from the API. */
export function stateBadge(state) {
  const known = ENFORCEMENT_STATES.has(state) ? state : 'unknown';
  return h('span', { class: `badge state-${known}` }, state ?? 'unknown');
}

/** A risk score in [0, 1] as a small bar and its value. */
export function riskMeter(risk) {
  const value = Number.isFinite(risk) ? Math.min(1, Math.max(0, risk)) : 0;
  const level = value >= 0.9 ? 'high' : value >= 0.4 ? 'medium' : 'low';
  const bar = h('span', { class: `meter-fill risk-${level}` });
  bar.style.width = `${(value * 100).toFixed(1)}%`;
  return h('span', { class: 'risk' },
    h('span', { class: 'meter', 'aria-hidden': 'true' }, bar),
    h('span', { class: 'num' }, Number.isFinite(risk) ? risk.toFixed(3) : '-'));
}

/** A timestamp as local date and time; the ISO text stays in the title. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '-');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(iso));
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
}

/** A status line that says when data last arrived, or the API's error. */
export function statusLine(id) {
  const line = h('p', { class: 'status', role: 'status', id });
  return {
    element: line,
    ok(text) { line.classList.remove('error'); line.textContent = text; },
    error(text) { line.classList.add('error'); line.textContent = text; },
  };
}

/**
 * Calls fn now and then every `ms` milliseconds after each call ends (never two at once; skipped
 * while the tab is hidden); the returned function stops it.
 */
export function poll(fn, ms) {
  let stopped = false;
  let timer;
  const tick = async () => {
    if (stopped) return;
    try {
      if (!document.hidden) await fn();
    } finally {
      if (!stopped) timer = setTimeout(tick, ms);
    }
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
