// Vulnerabilities: the findings ranked by how the vulnerable package is
// used (executed or loaded by a process that listens ranks first), with
// the reasons for each score.
import { api, query } from '../api.js';
import { h, clear, drawer, kv, table, workloadLink, errorBox } from '../ui.js';

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
const USES = ['executed', 'loaded', 'unused', 'not running'];

export function vulnColumns(withWorkload) {
  return [
    { title: 'Score', class: 'num', cell: (v) => h('strong', {}, v.score.toFixed(1)) },
    { title: 'Finding', class: 'finding', cell: (v) => h('div', {}, h('span', { class: 'mono' }, v.finding.ids[0]), h('div', { class: 'faint' }, v.finding.summary || '')) },
    { title: 'Severity', cell: (v) => h('span', { class: 'badge sev-' + v.finding.severity }, v.finding.severity) },
    { title: 'Package', cell: (v) => h('span', { class: 'mono' }, v.package.name + ' ' + v.package.version) },
    { title: 'Fixed in', cell: (v) => v.finding.fixed_version || h('span', { class: 'faint' }, 'no fix') },
    { title: 'In use', cell: (v) => h('span', { class: 'badge use-' + v.use.replace(' ', '-') }, v.use) },
    withWorkload ? { title: 'Workload', cell: (v) => workloadLink(v.workload, v.workload.split('/').slice(-2).join('/')) } : null,
    { title: 'Why', class: 'out', cell: (v) => (v.reasons || []).slice(1).join('; ') },
  ].filter(Boolean);
}

export function showVuln(v) {
  drawer(v.finding.ids[0], h('div', {},
    h('div', { class: 'row' }, h('span', { class: 'badge sev-' + v.finding.severity }, v.finding.severity), h('span', { class: 'badge use-' + v.use.replace(' ', '-') }, v.use)),
    h('p', {}, v.finding.summary || ''),
    kv([['Score', v.score.toFixed(2) + ' (base ' + v.base.toFixed(1) + ')'], ['Package', v.package.name + ' ' + v.package.version + ' (' + v.package.type + ')'],
      ['Location', v.package.location], ['Affected', v.finding.affected_range], ['Fixed in', v.finding.fixed_version || 'no fix known'],
      ['CVSS', v.finding.cvss ? String(v.finding.cvss) : ''], ['Aliases', v.finding.ids.slice(1).join(', ')], ['Workload', v.workload ? workloadLink(v.workload) : '']]),
    h('h3', {}, 'Why it ranks here'), h('ol', {}, (v.reasons || []).map((r) => h('li', {}, r))),
    h('h3', {}, 'Processes using it'),
    (v.processes || []).length ? h('ul', {}, v.processes.map((p) => h('li', {}, h('span', { class: 'mono' }, p.comm + ' (pid ' + p.pid + ')'), ' ', p.how + ' ' + p.file,
      (p.listeners || []).length ? h('span', { class: 'muted' }, ' · listens on ' + p.listeners.join(', ')) : null))) : h('div', { class: 'faint' }, 'none seen')));
}

export async function render(main, ctx) {
  const f = { severity: ctx.params.getAll('severity'), use: ctx.params.get('use') || '', q: ctx.params.get('q') || '', workload: ctx.params.get('workload') || '' };
  const body = h('div', { class: 'panel' });
  const count = h('span', { class: 'sub' });
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Severity' }, SEVERITIES.map((sv) => {
    const b = h('button', { class: 'chip sev-' + sv, type: 'button', 'aria-pressed': String(f.severity.includes(sv)) }, sv.toLowerCase());
    b.addEventListener('click', () => {
      f.severity = f.severity.includes(sv) ? f.severity.filter((x) => x !== sv) : [...f.severity, sv];
      b.setAttribute('aria-pressed', String(f.severity.includes(sv)));
      changed();
    });
    return b;
  }));
  const use = h('select', { id: 'v-use' }, h('option', { value: '' }, 'any'), USES.map((u) => h('option', { value: u, selected: u === f.use }, u)));
  use.addEventListener('change', () => { f.use = use.value; changed(); });
  const q = h('input', { type: 'search', id: 'v-q', value: f.q, placeholder: 'CVE, package, workload' });
  q.addEventListener('input', () => { f.q = q.value.trim(); changed(); });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Vulnerabilities'), count),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('span', { class: 'muted' }, 'Severity'), chips),
      h('div', { class: 'field' }, h('label', { for: 'v-use' }, 'In use'), use), h('div', { class: 'field' }, h('label', { for: 'v-q' }, 'Search'), q)),
    body);
  let timer;
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      ctx.setParams([...f.severity.map((x) => ['severity', x]), ...(f.use ? [['use', f.use]] : []), ...(f.q ? [['q', f.q]] : []), ...(f.workload ? [['workload', f.workload]] : [])]);
      load();
    }, 250);
  }
  async function load() {
    try {
      const res = await api('/vulnerabilities' + query({ severity: f.severity, use: f.use, q: f.q, workload: f.workload, limit: 1000 }));
      count.textContent = res.total + ' findings';
      clear(body).append(table(vulnColumns(true), res.vulnerabilities, showVuln, 'No finding matches.'));
    } catch (e) {
      clear(body).append(errorBox(e));
    }
  }
  await load();
  return () => clearTimeout(timer);
}
