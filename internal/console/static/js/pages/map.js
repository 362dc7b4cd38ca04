// Map: workloads grouped by namespace or host, the outside grouped by
// name or network, flows as edges. Edges with alerts are red, edges
// outside a workload's baseline dashed amber, scans dotted purple;
// listening ports are written on their node. Pan by dragging, zoom with
// the wheel or the buttons; the filters dim or hide the rest.
import { api } from '../api.js';
import { layout, edgePath } from '../layout.js';
import { h, s, clear, errorBox } from '../ui.js';
import { nodeDetails, edgeDetails } from './mapside.js';

export async function render(main, ctx) {
  const svg = s('svg', { role: 'img', 'aria-label': 'Connection map' });
  const canvas = h('div', { class: 'map-canvas' }, svg);
  const side = h('aside', { class: 'map-side', hidden: true, 'aria-label': 'Details' });
  const search = h('input', { type: 'search', placeholder: 'Highlight: name, id, namespace', 'aria-label': 'Highlight nodes', value: ctx.params.get('q') || '' });
  const ns = h('select', { 'aria-label': 'Namespace or group' }, h('option', { value: '' }, 'All groups'));
  const ext = h('input', { type: 'checkbox', id: 'm-ext', checked: ctx.params.get('external') !== 'false' });
  const flagged = h('input', { type: 'checkbox', id: 'm-flag', checked: ctx.params.get('flagged') === 'true' });
  const stat = h('span', { class: 'muted' });
  const zoomBtn = (label, text, fn) => h('button', { class: 'btn icon', type: 'button', 'aria-label': label, title: label, onclick: fn }, text);
  const toolbar = h('div', { class: 'map-toolbar' },
    h('div', { class: 'panel' }, search, ns,
      h('label', { for: 'm-ext' }, ext, ' outside'), h('label', { for: 'm-flag' }, flagged, ' flagged only')),
    h('div', { class: 'panel' }, zoomBtn('Zoom in', '+', () => zoomBy(1.25)), zoomBtn('Zoom out', '−', () => zoomBy(0.8)), zoomBtn('Fit to screen', '⤢', fit)),
    h('div', { class: 'panel' }, stat));
  const legend = h('div', { class: 'map-legend' }, h('div', { class: 'panel' },
    h('span', {}, h('i', {}), 'flow'), h('span', {}, h('i', { class: 'alert' }), 'with alerts'),
    h('span', {}, h('i', { class: 'outside' }), 'outside baseline'), h('span', {}, h('i', { class: 'scan' }), 'scan'),
    h('span', {}, h('b', { class: 'port-dot' }), 'listening ports')));
  canvas.append(toolbar, legend);
  main.append(h('div', { class: 'map-wrap' }, canvas, side));

  const view = { k: 1, x: 0, y: 0 };
  const vp = s('g', { id: 'viewport' });
  let data = null, lay = null, selected = '', signature = '';
  const applyView = () => vp.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);

  function zoomBy(f, cx, cy) {
    const r = svg.getBoundingClientRect();
    cx = cx ?? r.width / 2;
    cy = cy ?? r.height / 2;
    const k = Math.max(0.08, Math.min(4, view.k * f));
    view.x = cx - ((cx - view.x) * k) / view.k;
    view.y = cy - ((cy - view.y) * k) / view.k;
    view.k = k;
    applyView();
  }
  function fit() {
    if (!lay) return;
    const r = svg.getBoundingClientRect();
    const w = Math.max(lay.width, 1), hh = Math.max(lay.height, 1);
    view.k = Math.min((r.width - 60) / w, (r.height - 130) / hh, 1.25);
    view.x = (r.width - w * view.k) / 2;
    view.y = 80 + (r.height - 110 - hh * view.k) / 2;
    applyView();
  }
  // Pan and zoom.
  let drag = null;
  svg.addEventListener('pointerdown', (e) => {
    if (e.target.closest('.node, .edge-hit')) return;
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    svg.setPointerCapture(e.pointerId);
    svg.classList.add('panning');
  });
  svg.addEventListener('pointermove', (e) => {
    if (!drag) return;
    view.x = drag.vx + e.clientX - drag.x;
    view.y = drag.vy + e.clientY - drag.y;
    applyView();
  });
  svg.addEventListener('pointerup', (e) => {
    if (drag && Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < 3) select('');
    drag = null;
    svg.classList.remove('panning');
  });
  svg.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    zoomBy(e.deltaY < 0 ? 1.12 : 0.89, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  function visible() {
    const keepGroup = ns.value;
    const nodes = data.nodes.filter((n) => (ext.checked || n.kind === 'workload'));
    let edges = data.edges.filter((e) => !flagged.checked || e.alerts > 0 || e.baseline === 'outside' || e.scan);
    let ids = new Set(nodes.map((n) => n.id));
    edges = edges.filter((e) => ids.has(e.source) && ids.has(e.target));
    let keep = nodes;
    if (keepGroup) {
      const inGroup = new Set(nodes.filter((n) => n.group === keepGroup).map((n) => n.id));
      edges = edges.filter((e) => inGroup.has(e.source) || inGroup.has(e.target));
      const touched = new Set([...inGroup, ...edges.flatMap((e) => [e.source, e.target])]);
      keep = nodes.filter((n) => touched.has(n.id));
    } else if (flagged.checked) {
      const touched = new Set(edges.flatMap((e) => [e.source, e.target]));
      keep = nodes.filter((n) => touched.has(n.id) || n.alerts > 0);
    }
    ids = new Set(keep.map((n) => n.id));
    return { groups: data.groups, nodes: keep, edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
  }

  function draw() {
    const v = visible();
    lay = layout(v);
    clear(vp);
    const defs = s('defs', {}, ['', 'alert', 'outside', 'scan', 'sel'].map((k) => s('marker', { id: 'arrow' + (k ? '-' + k : ''), viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z' }))));
    vp.append(defs);
    for (const g of lay.groups) {
      vp.append(s('g', { class: 'group', dataset: { group: g.id } },
        s('rect', { class: 'group-box', x: g.x, y: g.y, width: g.w, height: g.h, rx: 14 }),
        s('text', { class: 'group-title', x: g.x + 16, y: g.y + 22 }, (g.kind === 'namespace' ? 'namespace · ' : '') + g.name + ' (' + g.nodes.length + ')')));
    }
    const edgeLayer = s('g', { class: 'edges' });
    const pairs = new Map();
    for (const e of v.edges) {
      const key = [e.source, e.target].sort().join('|');
      pairs.set(key, (pairs.get(key) || []).concat(e));
    }
    const labels = v.edges.length <= 160;
    for (const list of pairs.values()) {
      list.forEach((e, i) => {
        const a = lay.nodes.get(e.source), b = lay.nodes.get(e.target);
        if (!a || !b) return;
        const p = edgePath(a, b, (i - (list.length - 1) / 2) * 16);
        const cls = ['edge', e.alerts > 0 ? 'alert' : e.baseline === 'outside' ? 'outside' : e.scan ? 'scan' : '', e.failed === e.count ? 'failed' : ''].filter(Boolean).join(' ');
        const kind = e.alerts > 0 ? 'alert' : e.baseline === 'outside' ? 'outside' : e.scan ? 'scan' : '';
        const width = Math.min(4.5, 1.1 + Math.log10(1 + e.count));
        const title = `${e.source} → ${e.target} ${e.port ? e.port + '/' + e.proto : 'many ports'} · ${e.count} seen` + (e.alerts ? ` · ${e.alerts} alerts` : '') + (e.baseline ? ` · baseline: ${e.baseline}` : '');
        edgeLayer.append(
          s('path', { class: cls, d: p.d, 'stroke-width': width, 'marker-end': `url(#arrow${kind ? '-' + kind : ''})`, dataset: { id: e.id, source: e.source, target: e.target, port: e.port } }),
          s('path', { class: 'edge-hit', d: p.d, dataset: { edge: e.id }, onclick: () => select(e.id) }, s('title', {}, title)));
        if (labels) edgeLayer.append(s('text', { class: 'edge-label', x: p.lx, y: p.ly, 'text-anchor': 'middle' }, e.port ? String(e.port) : '*'));
      });
    }
    vp.append(edgeLayer);
    for (const n of v.nodes) {
      const r = lay.nodes.get(n.id);
      if (r) vp.append(nodeShape(n, r, () => select(n.id)));
    }
    if (!svg.contains(vp)) svg.append(vp);
    stat.textContent = `${v.nodes.length} nodes · ${v.edges.length} edges`;
    highlight();
  }

  function select(id) {
    selected = id;
    highlight();
    clear(side);
    if (!id) { side.hidden = true; return; }
    const node = data.nodes.find((n) => n.id === id);
    const edge = node ? null : data.edges.find((e) => e.id === id);
    if (!node && !edge) { side.hidden = true; return; }
    side.hidden = false;
    side.append(node ? nodeDetails(node, data) : edgeDetails(edge, data), h('div', { class: 'row end' }, h('button', { class: 'btn small', type: 'button', onclick: () => select('') }, 'Close')));
  }

  function highlight() {
    const q = search.value.trim().toLowerCase();
    const match = new Set();
    if (q) for (const n of data.nodes) if ((n.id + ' ' + n.label + ' ' + (n.namespace || '')).toLowerCase().includes(q)) match.add(n.id);
    const sel = new Set();
    if (selected) {
      sel.add(selected);
      for (const e of data.edges) {
        if (e.source === selected || e.target === selected) { sel.add(e.source); sel.add(e.target); sel.add(e.id); }
        if (e.id === selected) { sel.add(e.source); sel.add(e.target); }
      }
    }
    vp.querySelectorAll('.node').forEach((g) => {
      const id = g.dataset.id;
      g.classList.toggle('dim', (q && !match.has(id)) || (selected && !sel.has(id)));
      g.classList.toggle('selected', id === selected);
    });
    vp.querySelectorAll('path.edge').forEach((p) => {
      const on = (!q || match.has(p.dataset.source) || match.has(p.dataset.target)) && (!selected || sel.has(p.dataset.id));
      p.classList.toggle('dim', !on);
      p.classList.toggle('selected', p.dataset.id === selected);
    });
  }

  async function load(first) {
    let m;
    try {
      m = await api('/map');
    } catch (e) {
      if (first) canvas.append(errorBox(e));
      return;
    }
    const sig = JSON.stringify([m.nodes.map((n) => [n.id, n.alerts, n.mode, n.listening.length]), m.edges.map((e) => [e.id, e.count, e.alerts, e.baseline])]);
    if (sig === signature) return;
    signature = sig;
    data = m;
    const cur = ns.value;
    clear(ns).append(h('option', { value: '' }, 'All groups'), ...m.groups.map((g) => h('option', { value: g.id }, (g.kind === 'namespace' ? 'namespace ' : '') + g.name)));
    ns.value = m.groups.some((g) => g.id === cur) ? cur : ctx.params.get('group') || '';
    draw();
    if (first) fit();
    if (selected) select(selected);
  }
  const persist = () => ctx.setParams({ ...(search.value ? { q: search.value } : {}), ...(ns.value ? { group: ns.value } : {}),
    ...(ext.checked ? {} : { external: 'false' }), ...(flagged.checked ? { flagged: 'true' } : {}) });
  search.addEventListener('input', () => { highlight(); persist(); });
  for (const el of [ns, ext, flagged]) el.addEventListener('change', () => { persist(); draw(); fit(); });
  await load(true);
  const timer = setInterval(() => load(false), 15000);
  return () => clearInterval(timer);
}

const kindLetter = { k8s: 'pod', image: 'container', unit: 'service', exe: 'program' };

function nodeShape(n, r, onclick) {
  const trunc = (t, max) => (t.length > max ? t.slice(0, max - 1) + '…' : t);
  const cls = ['node', n.kind, n.alerts > 0 ? 'alerted' : ''].filter(Boolean).join(' ');
  const g = s('g', { class: cls, transform: `translate(${r.x},${r.y})`, tabindex: 0, role: 'button', 'aria-label': n.name || n.label, dataset: { id: n.id }, onclick });
  g.addEventListener('keydown', (e) => { if (e.key === 'Enter') onclick(); });
  const meta = n.kind === 'workload' ? [kindLetter[n.workload_kind] || n.workload_kind, n.mode ? n.mode : ''].filter(Boolean).join(' · ')
    : n.kind === 'unknown' ? 'unattributed' : [n.name_kind === 'service' ? 'service' : n.name_kind === 'dns' ? 'dns name' : n.scope, n.network && n.name_kind !== 'network' ? n.network : ''].filter(Boolean).join(' · ');
  const ports = n.listening.map((l) => l.port + '/' + l.proto + (l.exposed ? '' : ' (lo)'));
  g.append(s('title', {}, (n.name || n.label) + '\n' + n.id),
    s('rect', { width: r.w, height: r.h, rx: 10 }),
    s('rect', { class: 'strip', width: 4, height: r.h - 16, x: 0, y: 8, rx: 2 }),
    s('text', { class: 'label', x: 12, y: 19 }, trunc(n.label, 19)),
    s('text', { class: 'meta', x: 12, y: 34 }, trunc(meta, 27)));
  if (ports.length) {
    g.append(s('circle', { class: 'port-dot', cx: 15, cy: 45.5, r: 3 }), s('text', { class: 'ports', x: 22, y: 49 }, trunc(ports.join(' '), 23)));
  }
  if (n.mode) g.append(s('text', { class: 'mode mode-' + n.mode, x: r.w - 10, y: 34, 'text-anchor': 'end', fill: 'currentColor' }, n.mode[0].toUpperCase()));
  if (n.alerts > 0) {
    g.append(s('circle', { class: 'count', cx: r.w - 4, cy: 4, r: 10 }), s('text', { class: 'count-text', x: r.w - 4, y: 7.5, 'text-anchor': 'middle' }, n.alerts > 99 ? '99+' : String(n.alerts)));
  }
  return g;
}
