// Small DOM helpers shared by the pages.

// h builds an element: h('a', {href: '#', class: 'x', onclick: fn}, 'text', child).
// Attributes named on* become listeners; 'dataset' sets data-*. Markup
// is never parsed from strings, so text from the agent stays text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

// s is h for SVG elements.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export const PRIORITIES = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];

export function prioIndex(p) {
  const i = PRIORITIES.findIndex((x) => x.toLowerCase() === String(p).toLowerCase());
  return i < 0 ? 7 : i;
}

export function prioBadge(p) {
  return h('span', { class: 'badge prio-' + prioIndex(p) }, p);
}

export function modeBadge(m) {
  return m ? h('span', { class: 'badge mode-' + m, title: 'baseline mode' }, m) : h('span', { class: 'faint' }, 'no baseline');
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return d.toLocaleString(undefined, { hour12: false, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function relTime(t) {
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  if (s < 86400) return Math.floor(s / 3600) + 'h ago';
  return Math.floor(s / 86400) + 'd ago';
}

export function fmtNum(n) {
  if (n === undefined || n === null) return '–';
  if (n >= 1e9) return (n / 1e9).toFixed(1) + 'G';
  if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return String(Math.round(n * 10) / 10);
}

export function workloadLink(id, label) {
  return h('a', { href: '#/workload/' + encodeURIComponent(id), title: id }, label || id);
}

export function toast(msg, error) {
  const t = h('div', { class: 'toast' + (error ? ' error' : '') }, msg);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), 5000);
}

// drawer opens the side panel with a title and content; Escape, the
// close button or a click outside closes it.
export function drawer(title, content) {
  const d = document.getElementById('drawer');
  d.querySelector('#drawer-title').textContent = title;
  append(clear(d.querySelector('.drawer-body')), [content]);
  d.hidden = false;
  const close = () => {
    d.hidden = true;
    document.removeEventListener('keydown', onKey);
  };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  document.addEventListener('keydown', onKey);
  d.onclick = (e) => { if (e.target === d || e.target.closest('[data-close]')) close(); };
  d.querySelector('[data-close]').focus();
}

export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// table renders rows with columns [{title, cell(row), class}]; onRow
// makes rows clickable and keyboard-focusable.
export function table(columns, rows, onRow, empty) {
  if (!rows.length) return h('div', { class: 'empty' }, empty || 'Nothing here yet.');
  return h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class || '' }, c.title)))),
    h('tbody', {}, rows.map((r) => row(columns, r, onRow))));
}

export function row(columns, r, onRow) {
  const tr = h('tr', onRow ? { class: 'clickable', tabindex: 0 } : {}, columns.map((c) => h('td', { class: c.class || '' }, c.cell(r))));
  if (onRow) {
    tr.addEventListener('click', (e) => { if (!e.target.closest('a, button')) onRow(r); });
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === tr) onRow(r); });
  }
  return tr;
}

// bars renders a ranked list of {name, count}, each name made by label().
export function bars(items, label) {
  if (!items.length) return h('div', { class: 'empty' }, 'None in this window.');
  const top = Math.max(...items.map((i) => i.count));
  return h('div', { class: 'bars' }, items.map((i) => {
    const fill = h('div', { class: 'fill' });
    fill.style.width = Math.max(3, (100 * i.count) / top) + '%';
    return h('div', { class: 'bar' }, h('span', { class: 'name' }, label ? label(i.name) : i.name),
      h('span', { class: 'num muted' }, fmtNum(i.count)), h('div', { class: 'track' }, fill));
  }));
}

export function plural(n, word) {
  return fmtNum(n) + ' ' + word + (n === 1 ? '' : 's');
}

export function errorBox(e) {
  return h('div', { class: 'panel empty' }, e.status === 401 ? 'Sign in with an API token to see this page.' : 'Could not load: ' + e.message);
}
