// Alerts: a live list (the stream adds new alerts as they come) with
// filters by priority, rule, workload, namespace and text; an alert
// opens with all its fields and its process ancestry.
import { api, query, stream } from '../api.js';
import { h, clear, drawer, fmtTime, kv, plural, prioBadge, PRIORITIES, relTime, row, workloadLink, errorBox } from '../ui.js';

const columns = [
  { title: 'Time', class: 'nowrap', cell: (a) => h('time', { datetime: a.alert.time, title: fmtTime(a.alert.time) }, relTime(a.alert.time)) },
  { title: 'Priority', cell: (a) => prioBadge(a.alert.priority) },
  { title: 'Rule', cell: (a) => a.alert.rule },
  { title: 'Workload', cell: (a) => (a.workload ? workloadLink(a.workload, shortId(a.workload)) : h('span', { class: 'faint' }, a.alert.context.identity.container_name || 'host')) },
  { title: 'Output', class: 'out', cell: (a) => a.alert.output },
];

function shortId(id) {
  const p = id.split('/');
  return p[0] === 'k8s' ? p[1] + '/' + p[3] + (p[4] !== p[3] ? '/' + p[4] : '') : p.slice(-1)[0];
}

export async function render(main, ctx) {
  const f = {
    priority: ctx.params.getAll('priority'),
    rule: ctx.params.get('rule') || '',
    workload: ctx.params.get('workload') || '',
    namespace: ctx.params.get('namespace') || '',
    q: ctx.params.get('q') || '',
  };
  const count = h('span', { class: 'sub', 'aria-live': 'polite' });
  const list = h('div', { class: 'panel', id: 'alert-list' });
  const more = h('div', { class: 'row end' });
  const rules = h('datalist', { id: 'rule-names' });
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Priority' }, PRIORITIES.slice(0, 7).map((p, i) => {
    const b = h('button', { class: 'chip prio-' + i, type: 'button', 'aria-pressed': String(f.priority.includes(p)), dataset: { priority: p } }, p);
    b.addEventListener('click', () => {
      f.priority = f.priority.includes(p) ? f.priority.filter((x) => x !== p) : [...f.priority, p];
      b.setAttribute('aria-pressed', String(f.priority.includes(p)));
      changed();
    });
    return b;
  }));
  const input = (name, label, placeholder, type = 'text', extra = {}) => {
    const el = h('input', { id: 'f-' + name, type, value: f[name], placeholder, ...extra });
    el.addEventListener('input', () => { f[name] = el.value.trim(); changed(); });
    return h('div', { class: 'field' }, h('label', { for: 'f-' + name }, label), el);
  };
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'), count),
    h('div', { class: 'filters' },
      input('q', 'Search', 'text in the rule, output or workload', 'search'),
      input('rule', 'Rule', 'any rule', 'text', { list: 'rule-names' }), input('workload', 'Workload id', 'k8s/… host/…'),
      input('namespace', 'Namespace', 'any'),
      h('button', { class: 'btn ghost', type: 'button', onclick: () => { ctx.setParams({}); location.reload(); } }, 'Clear')),
    h('div', { class: 'filters' }, h('span', { class: 'muted' }, 'Priority'), chips),
    rules, list, more);

  let items = [];
  let ids = new Set();
  let cursor = '';
  let stop = null;
  let timer = null;
  let tbody = null;

  const params = () => ({ priority: f.priority, rule: f.rule, workload: f.workload, namespace: f.namespace, q: f.q });
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const p = params();
      ctx.setParams(Object.entries(p).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v ? [[k, v]] : [])));
      start();
    }, 250);
  }
  function draw() {
    count.textContent = plural(items.length, 'alert') + (cursor ? ' (more below)' : '');
    clear(list);
    if (!items.length) {
      list.append(h('div', { class: 'empty' }, 'No alerts match.'));
      tbody = null;
      return;
    }
    tbody = h('tbody', {}, items.map((a) => row(columns, a, showAlert)));
    list.append(h('table', {}, h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.title)))), tbody));
    clear(rules).append(...[...new Set(items.map((a) => a.alert.rule))].map((r) => h('option', { value: r })));
  }
  function drawMore() {
    clear(more);
    if (cursor) more.append(h('button', { class: 'btn', type: 'button', onclick: older }, 'Load older alerts'));
  }
  async function older() {
    const page = await api('/alerts' + query({ ...params(), cursor, limit: 100 }));
    for (const a of page.alerts) if (!ids.has(a.id)) { ids.add(a.id); items.push(a); }
    cursor = page.next_cursor;
    draw();
    drawMore();
  }
  function live(type, a) {
    if (type !== 'alert' || ids.has(a.id)) return;
    ids.add(a.id);
    items.unshift(a);
    if (!tbody) return draw();
    const tr = row(columns, a, showAlert);
    tr.classList.add('fresh');
    tbody.prepend(tr);
    count.textContent = plural(items.length, 'alert') + (cursor ? ' (more below)' : '');
  }
  async function start() {
    if (stop) stop();
    items = [];
    ids = new Set();
    // The stream starts first, so that nothing falls between it and the
    // first page; duplicates are dropped by id.
    stop = stream('/alerts/stream' + query({ ...params(), after: Number.MAX_SAFE_INTEGER }), live, () => {});
    try {
      const page = await api('/alerts' + query({ ...params(), limit: 100 }));
      for (const a of page.alerts) if (!ids.has(a.id)) { ids.add(a.id); items.push(a); }
      items.sort((x, y) => y.id - x.id);
      cursor = page.next_cursor;
      draw();
      drawMore();
    } catch (e) {
      clear(list).append(errorBox(e));
    }
  }
  await start();
  return () => { if (stop) stop(); clearTimeout(timer); };
}

// showAlert opens an alert with every field and the process ancestry.
export function showAlert(s) {
  const a = s.alert;
  const p = a.context.process;
  const id = a.context.identity;
  const chain = [...(p.ancestors || [])].reverse();
  const ancestry = h('ol', { class: 'ancestry', 'aria-label': 'Process ancestry, oldest first' },
    chain.map((name) => h('li', {}, name)),
    h('li', { class: 'self' }, h('strong', {}, p.exepath || '(unknown)'), ' ', h('span', { class: 'muted' }, 'pid ' + p.pid + (p.ppid ? ', parent ' + p.ppid : '')),
      p.cmdline ? h('div', { class: 'mono muted' }, p.cmdline) : null));
  const fields = Object.entries(a.output_fields || {}).sort(([x], [y]) => x.localeCompare(y));
  const enf = a.enforcement;
  drawer(a.rule, h('div', {},
    h('div', { class: 'row' }, prioBadge(a.priority), h('span', { class: 'badge faint' }, a.source), (a.tags || []).map((t) => h('span', { class: 'badge faint' }, t))),
    h('h3', {}, 'Output'), h('div', { class: 'output' }, a.output),
    h('h3', {}, 'Where'),
    kv([['Time', fmtTime(a.time)], ['Host', a.hostname], ['Workload', s.workload ? workloadLink(s.workload) : ''], ['Namespace', s.namespace || id.k8s_ns],
      ['Pod', id.k8s_pod], ['Container', id.container_name ? id.container_name + ' (' + (id.container_id || '').slice(0, 12) + ')' : id.container_id],
      ['Image', id.image], ['User', (id.user || '') + ' (uid ' + id.uid + ')'], ['Alert id', String(s.id)]]),
    h('h3', {}, 'Process ancestry'), ancestry,
    enf ? [h('h3', {}, 'Enforcement'), kv([['Action', enf.action], ['Mode', enf.mode], ['Outcome', enf.outcome], ['Mechanism', enf.mechanism], ['Error', enf.error]])] : null,
    h('h3', {}, 'Output fields'),
    fields.length ? kv(fields.map(([k, v]) => [k, h('span', { class: 'mono' }, v === null ? '<NA>' : typeof v === 'string' ? v : JSON.stringify(v))])) : h('div', { class: 'faint' }, 'none'),
    h('details', {}, h('summary', {}, 'JSON'), h('pre', { class: 'yaml' }, JSON.stringify(a, null, 2)))));
}
