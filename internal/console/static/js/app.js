// The console's shell: routing between pages (#/page/arg?params), who
// the user is, the theme, the sign-in dialog and the live indicator.
import { api, setToken, stream, token } from './api.js';
import { clear, toast } from './ui.js';
import * as overview from './pages/overview.js';
import * as alerts from './pages/alerts.js';
import * as map from './pages/map.js';
import * as workloads from './pages/workloads.js';
import * as workload from './pages/workload.js';
import * as vulns from './pages/vulns.js';

const pages = { overview, alerts, map, workloads, workload, vulnerabilities: vulns };
const main = document.getElementById('main');
let dispose = null;
let who = { role: 'read-only', authenticated: false };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const [page, ...rest] = path.split('/');
  return { page: pages[page] ? page : 'overview', arg: rest.length ? decodeURIComponent(rest.join('/')) : '', params: new URLSearchParams(qs || '') };
}

// navigate replaces the current page's parameters without a new history
// entry (filters), or goes to another page.
export function setParams(params) {
  const { page, arg } = parseHash();
  const qs = new URLSearchParams(params).toString();
  const hash = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '') + (qs ? '?' + qs : '');
  history.replaceState(null, '', hash);
}

async function render() {
  if (dispose) {
    try { dispose(); } catch (e) { /* a page's cleanup must not stop the next one */ }
    dispose = null;
  }
  const route = parseHash();
  document.getElementById('drawer').hidden = true;
  document.querySelectorAll('.nav a').forEach((a) => {
    const current = a.dataset.page === route.page || (route.page === 'workload' && a.dataset.page === 'workloads');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  clear(main);
  main.className = route.page === 'map' ? 'full' : '';
  document.title = 'Vigil · ' + route.page[0].toUpperCase() + route.page.slice(1);
  const ctx = { who, arg: route.arg, params: route.params, setParams };
  dispose = (await pages[route.page].render(main, ctx)) || null;
}

async function loadWho() {
  try {
    who = await api('/whoami');
  } catch (e) {
    who = { role: 'none', authenticated: false, auth_required: true };
  }
  const b = document.getElementById('signin');
  b.textContent = who.authenticated ? (who.role === 'admin' ? 'Admin' : 'Read-only') : 'Sign in';
  b.title = who.authenticated ? 'Signed in as ' + who.name + ' (' + who.role + ')' : 'Sign in with an API token';
}

function setupTheme() {
  const saved = localStorage.getItem('vigil.theme');
  if (saved) document.documentElement.dataset.theme = saved;
  document.getElementById('theme').addEventListener('click', () => {
    const dark = getComputedStyle(document.documentElement).colorScheme.includes('dark');
    const next = dark ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('vigil.theme', next);
    window.dispatchEvent(new Event('themechange'));
  });
}

function setupSignIn() {
  const dlg = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  document.getElementById('signin').addEventListener('click', () => {
    input.value = token();
    dlg.showModal();
  });
  dlg.addEventListener('close', async () => {
    if (dlg.returnValue === 'ok') setToken(input.value.trim());
    else if (dlg.returnValue === 'clear') setToken('');
    else return;
    input.value = '';
    await loadWho();
    if (dlg.returnValue === 'ok' && !who.authenticated) toast('That token was not accepted.', true);
    startLive();
    render();
  });
}

// The live indicator follows the alert stream.
let stopLive = null;
function startLive() {
  if (stopLive) stopLive();
  const live = document.getElementById('live');
  const text = live.querySelector('.live-text');
  stopLive = stream('/alerts/stream?after=' + Number.MAX_SAFE_INTEGER, () => {}, (state) => {
    live.className = 'live ' + state;
    text.textContent = state === 'on' ? 'live' : 'disconnected';
  });
}

setupTheme();
setupSignIn();
window.addEventListener('hashchange', render);
await loadWho();
startLive();
render();
