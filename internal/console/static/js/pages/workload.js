// Workload: its processes, connections, listening ports, alerts,
// vulnerabilities ranked by use, its baseline and mode; an admin can
// change the mode, and anyone can see the NetworkPolicy the map implies.
import { api, query } from '../api.js';
import { h, clear, fmtNum, fmtTime, kv, modeBadge, plural, prioBadge, relTime, table, toast, workloadLink, errorBox } from '../ui.js';
import { showAlert } from './alerts.js';
import { vulnColumns, showVuln } from './vulns.js';

export async function render(main, ctx) {
  const id = ctx.arg;
  let d;
  try {
    d = await api('/workloads/' + encodeURIComponent(id));
  } catch (e) {
    main.append(h('div', { class: 'page-head' }, h('h1', {}, id)), errorBox(e));
    return;
  }
  const w = d.workload;
  const modeBox = h('div', { class: 'row' });
  drawMode(modeBox, w, d, ctx);
  main.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, w.label), h('div', { class: 'sub mono' }, w.id)),
      h('span', { class: 'spacer' }), modeBox),
    h('div', { class: 'grid cards' },
      card('Processes', d.processes.length), card('Connections', d.flows.length), card('Listening', d.listening.length),
      card('Alerts', d.alerts.length), card('Vulnerabilities', d.vulnerabilities.length)),
    h('div', { class: 'grid two' },
      section('Connections', flowsTable(d, id)),
      section('About', kv([['Name', w.name], ['Kind', w.kind], ['Namespace', w.namespace], ['Group', w.group],
        ['Owner guessed', w.inferred ? 'yes: from the pod name' : '']]), h('h3', {}, 'Listening'), listening(d.listening))),
    section('Processes', table([
      { title: 'PID', class: 'num', cell: (p) => String(p.pid) }, { title: 'Parent', class: 'num', cell: (p) => String(p.ppid) },
      { title: 'Program', cell: (p) => h('span', { class: 'mono' }, p.exe || p.comm) }, { title: 'Command line', class: 'out mono', cell: (p) => p.cmdline },
      { title: 'User', cell: (p) => p.user }], d.processes, null, 'No live process.')),
    section('Alerts', table([
      { title: 'Time', class: 'nowrap', cell: (s) => h('time', { datetime: s.alert.time, title: fmtTime(s.alert.time) }, relTime(s.alert.time)) },
      { title: 'Priority', cell: (s) => prioBadge(s.alert.priority) }, { title: 'Rule', cell: (s) => s.alert.rule },
      { title: 'Output', class: 'out', cell: (s) => s.alert.output }], d.alerts, showAlert, 'No alert held for this workload.'),
    h('p', {}, h('a', { href: '#/alerts?workload=' + encodeURIComponent(id) }, 'All its alerts →'))),
    section('Vulnerabilities', table(vulnColumns(false), d.vulnerabilities, showVuln, 'No finding.')),
    section('Baseline', baseline(d)),
    section('NetworkPolicy', policy(id)));
}

function card(label, n) {
  return h('div', { class: 'panel card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, fmtNum(n)));
}

function section(title, ...content) {
  return h('section', { class: 'panel', 'aria-label': title }, h('h2', {}, title), content);
}

function drawMode(box, w, d, ctx) {
  clear(box);
  box.append(h('span', { class: 'muted' }, 'Baseline'), modeBadge(w.mode));
  if (!w.mode) return;
  const admin = ctx.who.role === 'admin';
  for (const m of d.modes) {
    const b = h('button', { class: 'btn small' + (m === 'protect' ? ' danger' : ''), type: 'button', dataset: { mode: m },
      disabled: !admin || m === w.mode, title: admin ? 'Put the workload in ' + m + ' mode' : 'Sign in with an admin token to change the mode' }, m);
    b.addEventListener('click', async () => {
      if (!confirm(`Put ${w.id} in ${m} mode?`)) return;
      try {
        const res = await api('/workloads/' + encodeURIComponent(w.id) + '/mode', { method: 'POST', body: { mode: m } });
        w.mode = res.mode;
        toast(`${w.label}: ${res.previous} → ${res.mode}`);
        drawMode(box, w, d, ctx);
      } catch (e) {
        toast('Mode not changed: ' + e.message, true);
      }
    });
    box.append(b);
  }
}

function flowsTable(d, id) {
  const other = (e) => (e.source === id ? e.target : e.source);
  return table([
    { title: '', cell: (e) => (e.source === id ? '→' : '←') },
    { title: 'Peer', cell: (e) => (other(e).includes('/') && !other(e).startsWith('net:') ? workloadLink(other(e)) : h('span', { class: 'mono' }, other(e))) },
    { title: 'Port', class: 'mono', cell: (e) => (e.port || '*') + '/' + e.proto },
    { title: 'Count', class: 'num', cell: (e) => fmtNum(e.count) },
    { title: 'Last', class: 'nowrap', cell: (e) => relTime(e.last) },
    { title: '', cell: (e) => [e.alerts ? h('span', { class: 'badge flag-alert' }, plural(e.alerts, 'alert')) : null,
      e.baseline === 'outside' ? h('span', { class: 'badge flag-outside' }, 'outside baseline') : null, e.scan ? h('span', { class: 'badge flag-scan' }, 'scan') : null] },
  ], d.flows, null, 'No connection seen.');
}

function listening(ls) {
  if (!ls.length) return h('div', { class: 'faint' }, 'No listening socket.');
  return h('ul', {}, ls.map((l) => h('li', { class: 'mono' }, `${l.addr}:${l.port}/${l.proto} · ${l.process} (pid ${l.pid})${l.exposed ? '' : ' · loopback only'}`)));
}

function baseline(d) {
  const b = d.baseline;
  if (!b) return h('div', { class: 'faint' }, 'No baseline for this workload.');
  const entries = Object.entries(d.baseline_entries || {}).filter(([, n]) => n > 0);
  const peers = (list) => (list.length ? h('ul', { class: 'mono' }, list.map((p) => h('li', {}, (p.dns ? 'dns:' + p.dns : p.peer) + ' ' + p.proto + '/' + (p.port || '*')))) : h('div', { class: 'faint' }, 'none'));
  return h('div', {},
    kv([['Mode', modeBadge(b.mode)], ['Created', fmtTime(b.created)], ['Learning since', fmtTime(b.learn_since)], ['Mode changed', fmtTime(b.mode_changed)], ['Last change', fmtTime(b.last_change)]]),
    h('h3', {}, 'Entries'), h('div', { class: 'row' }, entries.map(([k, n]) => h('span', { class: 'badge faint' }, k + ' ' + n))),
    h('div', { class: 'grid two' },
      h('div', {}, h('h3', {}, 'Outbound'), peers(b.outbound)),
      h('div', {}, h('h3', {}, 'Inbound'), peers(b.inbound), h('h3', {}, 'Listening'),
        b.listening.length ? h('ul', { class: 'mono' }, b.listening.map((p) => h('li', {}, p.proto + '/' + p.port + (p.port_end ? '-' + p.port_end : '')))) : h('div', { class: 'faint' }, 'none'))));
}

function policy(id) {
  const box = h('div', {});
  const btn = h('button', { class: 'btn', type: 'button' }, 'Generate from the observed connections');
  btn.addEventListener('click', async () => {
    try {
      const text = await api('/networkpolicies' + query({ workload: id }));
      clear(box).append(h('pre', { class: 'yaml' }, text),
        h('button', { class: 'btn small', type: 'button', onclick: () => navigator.clipboard.writeText(text).then(() => toast('Copied')) }, 'Copy'));
    } catch (e) {
      toast('Could not generate: ' + e.message, true);
    }
  });
  box.append(h('p', { class: 'muted' }, 'Ingress and egress rules that allow exactly the connections seen (and, once the baseline is out of learn mode, what it holds).'), btn);
  return box;
}
