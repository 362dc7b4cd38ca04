// The map's side panel: what a node or an edge is, and where it leads.
import { h, fmtNum, fmtTime, kv, modeBadge, plural, workloadLink } from '../ui.js';

function flags(e) {
  return [
    e.alerts ? h('span', { class: 'badge flag-alert' }, plural(e.alerts, 'alert')) : null,
    e.baseline ? h('span', { class: 'badge flag-' + e.baseline }, 'baseline: ' + e.baseline) : null,
    e.scan ? h('span', { class: 'badge flag-scan' }, 'scan') : null,
  ];
}

function portOf(e) {
  return (e.port ? e.port : 'many ports') + '/' + e.proto;
}

export function nodeDetails(n, data) {
  const label = (id) => (data.nodes.find((x) => x.id === id) || { label: id }).label;
  const out = data.edges.filter((e) => e.source === n.id);
  const inn = data.edges.filter((e) => e.target === n.id);
  const list = (edges, other) => (edges.length ? h('ul', {}, edges.map((e) => h('li', {}, h('span', { class: 'mono' }, portOf(e)), ' ',
    other(e), ' ', h('span', { class: 'faint' }, '×' + fmtNum(e.count)), ' ', flags(e)))) : h('div', { class: 'faint' }, 'none'));
  return h('div', {},
    h('h2', {}, n.label),
    h('div', { class: 'muted mono' }, n.id),
    h('h3', {}, 'About'),
    kv([['Name', n.name], ['Group', n.group], ['Mode', n.kind === 'workload' ? modeBadge(n.mode) : ''], ['Alerts', n.alerts ? String(n.alerts) : ''],
      ['Network', n.network], ['Scope', n.scope], ['Addresses', (n.addresses || []).join(', ')]]),
    n.kind === 'workload' ? h('p', {}, workloadLink(n.id, 'Open the workload →')) : null,
    h('h3', {}, 'Listening'),
    n.listening.length ? h('ul', {}, n.listening.map((l) => h('li', { class: 'mono' }, `${l.addr}:${l.port}/${l.proto} ${l.process || ''} (pid ${l.pid})${l.exposed ? '' : ' · loopback only'}`)))
      : h('div', { class: 'faint' }, 'none'),
    h('h3', {}, 'Connects to'), list(out, (e) => label(e.target)),
    h('h3', {}, 'Connected from'), list(inn, (e) => label(e.source)));
}

export function edgeDetails(e, data) {
  const node = (id) => data.nodes.find((x) => x.id === id) || { id, label: id, kind: 'unknown' };
  const end = (id) => {
    const n = node(id);
    return n.kind === 'workload' ? workloadLink(id, n.label) : n.label;
  };
  return h('div', {},
    h('h2', {}, node(e.source).label + ' → ' + node(e.target).label),
    h('div', { class: 'row' }, flags(e)),
    h('h3', {}, 'Flow'),
    kv([['From', end(e.source)], ['To', end(e.target)], ['Port', portOf(e)],
      ['Seen by', e.direction === 'both' ? 'both ends' : e.direction === 'outbound' ? 'the source (connect)' : 'the destination (accept)'],
      ['Count', fmtNum(e.count) + (e.failed ? ` (${fmtNum(e.failed)} failed)` : '')], ['First seen', fmtTime(e.first)], ['Last seen', fmtTime(e.last)],
      ['Scan', e.scan ? `${e.scan.ports} ports, ${e.scan.addrs} addresses${e.scan.capped ? ' (more not counted)' : ''}` : ''],
      ['Source addresses', (e.source_addrs || []).join(', ')], ['Target addresses', (e.target_addrs || []).join(', ')]]),
    e.alerts ? h('p', {}, h('a', { href: '#/alerts?workload=' + encodeURIComponent(node(e.source).kind === 'workload' ? e.source : e.target) }, 'See the alerts →')) : null);
}
