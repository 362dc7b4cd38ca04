// Overview: alerts by priority over time, top rules and workloads, the
// event rate and drops, the enforcement state.
import { api, query } from '../api.js';
import { stackedBars, sparkline } from '../charts.js';
import { h, clear, bars, fmtNum, PRIORITIES, workloadLink, errorBox } from '../ui.js';

const WINDOWS = ['15m', '1h', '6h', '24h'];

export async function render(main, ctx) {
  let win = WINDOWS.includes(ctx.params.get('window')) ? ctx.params.get('window') : '1h';
  const body = h('div', { class: 'grid' });
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Time window' });
  const updated = h('span', { class: 'sub' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), chips, h('span', { class: 'spacer' }), updated), body);
  const drawChips = () => {
    clear(chips).append(...WINDOWS.map((w) => h('button', { class: 'chip', type: 'button', 'aria-pressed': String(w === win),
      onclick: () => { win = w; ctx.setParams({ window: w }); drawChips(); load(); } }, w)));
  };
  drawChips();

  async function load() {
    let o;
    try {
      o = await api('/overview' + query({ window: win }));
    } catch (e) {
      clear(body).append(errorBox(e));
      return;
    }
    updated.textContent = 'updated ' + new Date().toLocaleTimeString();
    clear(body).append(cards(o), charts(o), lists(o));
  }
  await load();
  const timer = setInterval(load, 10000);
  return () => clearInterval(timer);
}

function cards(o) {
  const total = Object.values(o.totals).reduce((a, b) => a + b, 0);
  const severe = ['Emergency', 'Alert', 'Critical'].reduce((a, p) => a + (o.totals[p] || 0), 0);
  const last = o.rates.length ? o.rates[o.rates.length - 1] : null;
  const c = o.counters || {};
  const e = o.enforcement || {};
  const card = (label, value, hint) => h('div', { class: 'panel card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), h('div', { class: 'hint' }, hint));
  return h('div', { class: 'grid cards' },
    card('Alerts in ' + o.window, fmtNum(total), fmtNum(o.alerts_total) + ' since start'),
    card('Critical or worse', fmtNum(severe), severe ? 'needs a look' : 'none'),
    card('Events per second', last ? fmtNum(last.events_per_second) : '–', fmtNum(c.events) + ' events seen'),
    card('Drops', fmtNum((c.kernel_drops || 0) + (c.pipeline_drops || 0)), 'kernel ' + fmtNum(c.kernel_drops || 0) + ' · pipeline ' + fmtNum(c.pipeline_drops || 0) + ' · alerts ' + fmtNum(c.alerts_dropped || 0)),
    card('Connections', fmtNum(o.flows ? o.flows.flows : 0), (o.flows ? fmtNum(o.flows.listeners) : 0) + ' listening sockets'),
    card('Enforcement', (e.rules_enforce || 0) + ' enforcing', (e.rules_audit || 0) + ' in audit · ' + ((e.baseline_modes || {}).protect || 0) + ' workloads protected'));
}

function charts(o) {
  const legend = h('div', { class: 'legend' }, PRIORITIES.map((p, i) => (o.totals[p] ? h('span', { class: 'prio-' + i }, h('i', { class: 'swatch' }), h('span', { class: 'muted' }, p + ' ' + o.totals[p])) : null)));
  const rates = o.rates.map((r) => r.events_per_second);
  const drops = o.rates.map((r) => r.drops_per_second);
  return h('div', { class: 'grid two' },
    h('section', { class: 'panel', 'aria-labelledby': 'ov-prio' }, h('h2', { id: 'ov-prio' }, 'Alerts by priority'), stackedBars(o.series, o.bucket_seconds), legend),
    h('section', { class: 'panel', 'aria-labelledby': 'ov-rate' }, h('h2', { id: 'ov-rate' }, 'Event rate'),
      rates.length > 1 ? sparkline(rates, 'Events per second') : h('div', { class: 'empty' }, 'Collecting samples…'),
      h('h3', {}, 'Drops per second'), drops.length > 1 ? sparkline(drops, 'Drops per second') : h('div', { class: 'faint' }, '–'),
      enforcement(o.enforcement)));
}

function enforcement(e) {
  if (!e) return null;
  const status = e.status || { rules: [], mechanisms: [] };
  return h('div', {},
    h('h3', {}, 'Enforcement'),
    h('div', { class: 'row' }, (status.mechanisms || []).map((m) => h('span', { class: 'badge ' + (m.active ? 'flag-known' : 'faint'), title: m.detail || '' }, m.name + (m.active ? '' : ' (idle)')))),
    h('h3', {}, 'Baseline modes'),
    h('div', { class: 'row' }, ['learn', 'monitor', 'protect'].map((m) => h('span', { class: 'badge mode-' + m }, m + ' ' + (e.baseline_modes[m] || 0)))));
}

function lists(o) {
  const partial = o.top_complete ? null : h('div', { class: 'faint' }, 'Counts cover the alerts still held, not the whole window.');
  return h('div', { class: 'grid two' },
    h('section', { class: 'panel' }, h('h2', {}, 'Top rules'), bars(o.top_rules, (name) => h('a', { href: '#/alerts?rule=' + encodeURIComponent(name) }, name)), partial),
    h('section', { class: 'panel' }, h('h2', {}, 'Top workloads'), bars(o.top_workloads, (id) => workloadLink(id)), partial));
}
