// Workloads: every workload the agent knows, with what it does.
import { api, query } from '../api.js';
import { h, clear, fmtNum, modeBadge, table, errorBox } from '../ui.js';

const kinds = { k8s: 'Kubernetes', image: 'container', unit: 'systemd unit', exe: 'host program' };

export async function render(main, ctx) {
  const q = h('input', { type: 'search', id: 'w-q', placeholder: 'name or id', value: ctx.params.get('q') || '' });
  const body = h('div', { class: 'panel' });
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Workloads')),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'w-q' }, 'Search'), q)), body);
  const columns = [
    { title: 'Workload', cell: (w) => h('div', {}, h('a', { href: '#/workload/' + encodeURIComponent(w.id) }, w.label), h('div', { class: 'faint mono' }, w.id)) },
    { title: 'Kind', cell: (w) => kinds[w.kind] || w.kind },
    { title: 'Group', cell: (w) => (w.namespace ? 'namespace ' + w.namespace : w.group) },
    { title: 'Baseline', cell: (w) => h('span', {}, modeBadge(w.mode), w.mode ? h('span', { class: 'faint' }, ' ' + w.baseline_entries + ' entries') : null) },
    { title: 'Out', class: 'num', cell: (w) => fmtNum(w.flows_out) },
    { title: 'In', class: 'num', cell: (w) => fmtNum(w.flows_in) },
    { title: 'Listening', class: 'num', cell: (w) => fmtNum(w.listening) },
    { title: 'Alerts', class: 'num', cell: (w) => (w.alerts ? h('span', { class: 'flag-alert' }, fmtNum(w.alerts)) : '0') },
    { title: 'Vulns', class: 'num', cell: (w) => fmtNum(w.vulnerabilities) },
  ];
  let timer;
  async function load() {
    try {
      const res = await api('/workloads' + query({ q: q.value.trim() }));
      clear(body).append(table(columns, res.workloads, (w) => { location.hash = '#/workload/' + encodeURIComponent(w.id); }, 'No workload seen yet.'));
    } catch (e) {
      clear(body).append(errorBox(e));
    }
  }
  q.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { ctx.setParams(q.value ? { q: q.value } : {}); load(); }, 250);
  });
  await load();
  return () => clearTimeout(timer);
}
