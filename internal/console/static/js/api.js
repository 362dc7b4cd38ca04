// The console's only way to the agent: /api/v1, with the bearer token
// the user signed in with (kept for this tab only).

const TOKEN_KEY = 'vigil.token';

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field || '';
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

// api fetches /api/v1<path> and returns the decoded JSON (or text).
export async function api(path, { method = 'GET', body, signal } = {}) {
  const opts = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }), cache: 'no-store', signal };
  if (body !== undefined) opts.body = JSON.stringify(body);
  const res = await fetch('/api/v1' + path, opts);
  const ct = res.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const msg = (data && data.error) || res.statusText;
    throw new ApiError(res.status, msg, data && data.field);
  }
  return data;
}

// query builds "?a=1&b=2" from an object, skipping empty values; arrays
// become repeated parameters.
export function query(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// stream follows a Server-Sent Events endpoint with fetch, so that the
// token goes in a header (EventSource cannot send one). It reconnects
// with the last event id after a failure. onEvent(type, data, id);
// onState('on' | 'off'). Returns a function that stops it.
export function stream(path, onEvent, onState) {
  let stopped = false;
  let lastId = '';
  let ctrl = null;
  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const h = headers({ Accept: 'text/event-stream' });
        if (lastId) h['Last-Event-ID'] = lastId;
        const res = await fetch('/api/v1' + path, { headers: h, signal: ctrl.signal, cache: 'no-store' });
        if (!res.ok || !res.body) throw new ApiError(res.status, res.statusText);
        onState('on');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = { type: 'message', data: '', id: '' };
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) ev.type = line.slice(7);
              else if (line.startsWith('data: ')) ev.data += line.slice(6);
              else if (line.startsWith('id: ')) ev.id = line.slice(4);
            }
            if (ev.id) lastId = ev.id;
            if (ev.data) onEvent(ev.type, JSON.parse(ev.data), ev.id);
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState('off');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  run();
  return () => {
    stopped = true;
    if (ctrl) ctrl.abort();
  };
}
