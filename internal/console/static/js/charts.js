// SVG charts drawn by hand: a stacked bar chart of alerts by priority
// over time, and a sparkline.
import { s, PRIORITIES } from './ui.js';

// stackedBars draws series [{time, counts[8]}] as stacked bars, most
// severe on top, with a time axis.
export function stackedBars(series, bucketSeconds) {
  const W = 720, H = 220, L = 36, B = 22, T = 8;
  const totals = series.map((b) => b.counts.reduce((a, c) => a + c, 0));
  const max = Math.max(1, ...totals);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const bw = (W - L) / Math.max(1, series.length);
  const y = (v) => T + (H - B - T) * (1 - v / top);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Alerts by priority over time', preserveAspectRatio: 'none' });
  for (let v = 0; v <= top; v += step) {
    svg.append(s('line', { class: 'axis', x1: L, x2: W, y1: y(v), y2: y(v), 'stroke-dasharray': v ? '2 4' : '' }),
      s('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  series.forEach((b, i) => {
    let acc = 0;
    for (let p = PRIORITIES.length - 1; p >= 0; p--) {
      const c = b.counts[p];
      if (!c) continue;
      const r = s('rect', { x: L + i * bw + 1, width: Math.max(1, bw - 2), y: y(acc + c), height: y(acc) - y(acc + c), class: 'prio-' + p, fill: 'currentColor', rx: 1.5 });
      r.append(s('title', {}, `${new Date(b.time).toLocaleTimeString()} · ${PRIORITIES[p]}: ${c}`));
      svg.append(r);
      acc += c;
    }
  });
  const labels = Math.min(6, series.length);
  for (let k = 0; k < labels; k++) {
    const i = Math.round((k * (series.length - 1)) / Math.max(1, labels - 1));
    const t = new Date(series[i].time);
    const text = bucketSeconds >= 3600 ? t.toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })
      : t.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
    svg.append(s('text', { x: L + i * bw + bw / 2, y: H - 6, 'text-anchor': 'middle' }, text));
  }
  return svg;
}

function niceStep(max) {
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (raw <= m * pow) return Math.max(1, m * pow);
  return Math.max(1, 10 * pow);
}

// sparkline draws values as a line.
export function sparkline(values, label) {
  const W = 300, H = 44;
  const svg = s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1e-9);
  const d = values.map((v, i) => `${i ? 'L' : 'M'}${(i * W) / (values.length - 1)},${H - 3 - (H - 6) * (v / max)}`).join(' ');
  svg.append(s('path', { d }));
  return svg;
}
