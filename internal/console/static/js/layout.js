// The map's layout: deterministic, so that the same map always looks the
// same and a refresh does not move anything that did not change.
//
// Each group (a namespace, the host, plain containers, the outside) is a
// box holding its nodes on a grid. Groups are packed in rows, namespaces
// in name order, with the outside as a column on the right. Inside a
// box, a short force simulation (springs along edges, including edges to
// other boxes, and repulsion inside the box) starts from the grid in id
// order; its result is snapped back onto the grid, each node to the
// nearest free cell, so that connected nodes end up close without ever
// overlapping. Nothing is random.

export const NODE_W = 172;
export const NODE_H = 58;
const GAP_X = 30, GAP_Y = 26, PAD = 20, TITLE = 30, GROUP_GAP = 46;

const groupRank = { namespace: 0, containers: 1, host: 2, external: 3 };

export function layout(data) {
  const byGroup = new Map();
  for (const g of data.groups) byGroup.set(g.id, { ...g, nodes: [] });
  for (const n of data.nodes) {
    if (!byGroup.has(n.group)) byGroup.set(n.group, { id: n.group, kind: 'host', name: n.group, nodes: [] });
    byGroup.get(n.group).nodes.push(n);
  }
  const groups = [...byGroup.values()].filter((g) => g.nodes.length)
    .sort((a, b) => (groupRank[a.kind] ?? 9) - (groupRank[b.kind] ?? 9) || a.name.localeCompare(b.name));
  const neighbors = new Map(data.nodes.map((n) => [n.id, []]));
  for (const e of data.edges) {
    if (e.source === e.target) continue;
    neighbors.get(e.source)?.push(e.target);
    neighbors.get(e.target)?.push(e.source);
  }
  // Box sizes.
  for (const g of groups) {
    g.nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const n = g.nodes.length;
    g.cols = g.kind === 'external' ? Math.min(2, Math.max(1, Math.ceil(n / 12))) : Math.min(6, Math.max(1, Math.ceil(Math.sqrt(n * 1.3))));
    g.rows = Math.ceil(n / g.cols);
    g.w = g.cols * (NODE_W + GAP_X) - GAP_X + 2 * PAD;
    g.h = TITLE + g.rows * (NODE_H + GAP_Y) - GAP_Y + 2 * PAD;
  }
  // Pack the boxes in rows; the outside goes on the right.
  const inner = groups.filter((g) => g.kind !== 'external');
  const outer = groups.filter((g) => g.kind === 'external');
  const area = inner.reduce((a, g) => a + g.w * g.h, 0);
  const rowWidth = Math.max(Math.sqrt(area) * 1.6, ...inner.map((g) => g.w));
  let x = 0, y = 0, rowH = 0, width = 0;
  for (const g of inner) {
    if (x > 0 && x + g.w > rowWidth) { x = 0; y += rowH + GROUP_GAP; rowH = 0; }
    g.x = x; g.y = y;
    x += g.w + GROUP_GAP;
    rowH = Math.max(rowH, g.h);
    width = Math.max(width, g.x + g.w);
  }
  let height = y + rowH;
  let ox = inner.length ? width + GROUP_GAP * 2 : 0, oy = 0;
  for (const g of outer) {
    g.x = ox; g.y = oy;
    oy += g.h + GROUP_GAP;
    width = Math.max(width, g.x + g.w);
    height = Math.max(height, g.y + g.h);
  }
  // Cells, then the grid in id order as the starting point.
  const pos = new Map();
  for (const g of groups) {
    g.cells = [];
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        g.cells.push({ x: g.x + PAD + c * (NODE_W + GAP_X) + NODE_W / 2, y: g.y + TITLE + PAD + r * (NODE_H + GAP_Y) + NODE_H / 2 });
      }
    }
    g.nodes.forEach((n, i) => pos.set(n.id, { ...g.cells[i], group: g }));
  }
  for (let it = 0; it < 40; it++) {
    const cool = 1 - it / 40;
    for (const g of groups) {
      for (const n of g.nodes) {
        const p = pos.get(n.id);
        let fx = 0, fy = 0;
        for (const m of neighbors.get(n.id)) {
          const q = pos.get(m);
          fx += (q.x - p.x) * 0.04;
          fy += (q.y - p.y) * 0.04;
        }
        for (const o of g.nodes) {
          if (o === n) continue;
          const q = pos.get(o.id);
          const dx = p.x - q.x, dy = p.y - q.y;
          const d = Math.hypot(dx, dy) || 1;
          if (d < NODE_W * 1.3) {
            const push = ((NODE_W * 1.3 - d) / d) * 0.12;
            fx += dx * push;
            fy += dy * push;
          }
        }
        p.x = clamp(p.x + fx * cool, g.x + PAD + NODE_W / 2, g.x + g.w - PAD - NODE_W / 2);
        p.y = clamp(p.y + fy * cool, g.y + TITLE + PAD + NODE_H / 2, g.y + g.h - PAD - NODE_H / 2);
      }
    }
  }
  // Snap: the nodes nearest a free cell take it first.
  const out = new Map();
  for (const g of groups) {
    const free = new Set(g.cells.keys());
    const pairs = [];
    for (const n of g.nodes) {
      const p = pos.get(n.id);
      g.cells.forEach((c, i) => pairs.push({ id: n.id, i, d: Math.hypot(c.x - p.x, c.y - p.y) }));
    }
    pairs.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : a.i - b.i));
    for (const pr of pairs) {
      if (out.has(pr.id) || !free.has(pr.i)) continue;
      free.delete(pr.i);
      const c = g.cells[pr.i];
      out.set(pr.id, { x: c.x - NODE_W / 2, y: c.y - NODE_H / 2, w: NODE_W, h: NODE_H });
    }
  }
  return { nodes: out, groups, width, height };
}

function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v));
}

// edgePath returns the SVG path of an edge between two node boxes, bent
// by offset pixels (parallel edges fan out), and its label position.
export function edgePath(a, b, offset) {
  const ax = a.x + a.w / 2, ay = a.y + a.h / 2, bx = b.x + b.w / 2, by = b.y + b.h / 2;
  const dx = bx - ax, dy = by - ay;
  const len = Math.hypot(dx, dy) || 1;
  const nx = -dy / len, ny = dx / len;
  const bend = offset + Math.min(40, len * 0.08);
  const cx = (ax + bx) / 2 + nx * bend, cy = (ay + by) / 2 + ny * bend;
  const [sx, sy] = border(a, cx, cy);
  const [tx, ty] = border(b, cx, cy);
  return { d: `M${sx},${sy} Q${cx},${cy} ${tx},${ty}`, lx: (sx + 2 * cx + tx) / 4, ly: (sy + 2 * cy + ty) / 4 };
}

// border is where the line from the box's centre towards (px, py) leaves
// the box.
function border(r, px, py) {
  const cx = r.x + r.w / 2, cy = r.y + r.h / 2;
  const dx = px - cx, dy = py - cy;
  if (!dx && !dy) return [cx, cy];
  const t = Math.min(Math.abs((r.w / 2 + 3) / (dx || 1e-9)), Math.abs((r.h / 2 + 3) / (dy || 1e-9)));
  return [cx + dx * t, cy + dy * t];
}
