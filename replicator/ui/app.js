// SPDX-License-Identifier: MPL-2.0
// The status page's logic: polls the task status JSON (same origin, no
// other request) once a second and redraws. Read-only. Every string from
// the server goes in through textContent, never as markup.
'use strict';

const STATUS_URL = '/background-tasks/tuf_artifact_replication?limit=200';
const POLL_MS = 1000;
const history = new Map(); // repo -> [{t, bytes}] (one sample per run)
let lastRun = null;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

function fill(node, ...kids) {
  node.replaceChildren(...kids.filter((k) => k !== null && k !== undefined));
}

function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  n = Number(n) || 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

function secs(s) {
  if (!isFinite(s)) return '?';
  if (s < 90) return Math.round(s) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}

function shortId(id) { return id ? id.slice(0, 8) + '\u2026' + id.slice(-4) : '?'; }

function when(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '-';
}

// A sled's state for the page: the task's, refined.
function sledState(s, st) {
  const isolated = (st.isolated_sleds || []).find((i) => i.id === s.id);
  if (s.state !== 'ok') return { name: s.state, why: s.error || (isolated && isolated.remedy) || '' };
  if (s.held) return { name: 'held', why: s.held_reason || 'held by an out-of-band install' };
  if (s.full) return { name: 'full', why: 'no room for a wanted artifact (' + bytes(s.writable_bytes) + ' writable)' };
  if (s.datasets < 2) return { name: 'degraded', why: s.datasets + ' healthy dataset(s)' };
  return { name: 'ok', why: '' };
}

function card(k, v, title) {
  return el('div', { class: 'card', title: title || '' }, el('div', { class: 'k' }, k),
    el('div', { class: 'v' }, v));
}

function drawSummary(st) {
  const sleds = st.sleds || [];
  const repos = st.repos || [];
  const ok = sleds.filter((s) => sledState(s, st).name === 'ok').length;
  const done = repos.filter((r) => r.on_all_sleds === r.artifacts).length;
  const run = st.last_run || {};
  const b = st.bytes || { put: 0, copy: 0 };
  fill(document.getElementById('summary'),
    card('generation', String(st.generation)),
    card('sleds ok', ok + ' / ' + sleds.length),
    card('repositories on every sled', done + ' / ' + repos.length),
    card('rack', !run.run ? 'no run yet' : run.held ? 'generation HELD'
      : run.converged && done === repos.length ? 'converged' : 'replicating',
      run.started_ms ? 'last run ' + run.run + ' started ' + when(run.started_ms) : ''),
    card('controller \u2192 sleds', bytes(b.put), 'bytes of artifacts PUT by the controller'),
    card('sled \u2192 sled', bytes(b.copy), 'bytes of artifacts copied between sleds (copies accepted or completed)'),
    card('task', st.state + ', ' + st.runs + ' runs'));
}

function drawAlerts(st) {
  const out = [];
  for (const h of st.held_generations || [])
    out.push(el('div', { class: 'alert bad' }, 'Generation ' + h.generation + ' is HELD: ',
      el('b', {}, h.reason || ''), h.remedy ? ' \u2014 ' + h.remedy : ''));
  for (const s of st.isolated_sleds || [])
    out.push(el('div', { class: 'alert bad' }, 'Sled ' + s.id + ' is isolated: ',
      s.reason || '', s.remedy ? ' \u2014 remedy: ' + s.remedy : ''));
  for (const r of st.stuck_repos || [])
    out.push(el('div', { class: 'alert' }, 'Repository ' + r.system_version + ' is stuck: ',
      r.cause || r.reason || JSON.stringify(r)));
  const lost = st.lost_artifacts || [];
  if (lost.length) {
    const ul = el('ul', {});
    for (const a of lost)
      ul.append(el('li', { class: 'mono' }, a.sha256 + ' (' + bytes(a.length) + ') of ' + (a.repos || []).join(', ')));
    out.push(el('div', { class: 'alert bad' }, lost.length + ' lost artifact(s): no sled and no staged copy holds them', ul));
  }
  fill(document.getElementById('alerts'), ...out);
}

function drawGrid(st) {
  const g = st.grid;
  const table = document.getElementById('grid');
  if (!g) { fill(table, el('tr', {}, el('td', {}, 'no reconciliation run yet'))); return; }
  const byId = new Map((st.sleds || []).map((s) => [s.id, s]));
  const head = el('tr', {}, el('th', {}, 'sled'), el('th', {}, 'state'));
  g.repos.forEach((name, i) => head.append(el('th', { title: g.repo_artifacts[i] + ' artifacts, ' + bytes(g.repo_bytes[i]) }, name)));
  const rows = [el('thead', {}, head)];
  const body = el('tbody', {});
  for (const row of g.sleds) {
    const s = byId.get(row.id) || { id: row.id, state: 'unknown', datasets: 0 };
    const state = sledState(s, st);
    const tr = el('tr', { 'data-sled': row.id },
      el('td', { class: 'mono', title: row.id }, shortId(row.id)),
      el('td', { title: state.why }, el('span', { class: 'state ' + state.name }, state.name)));
    g.repos.forEach((name, i) => {
      const want = g.repo_artifacts[i];
      const pct = g.repo_bytes[i] ? Math.min(100, 100 * row.bytes[i] / g.repo_bytes[i]) : 100;
      const cls = 'cell' + (row.complete[i] === want ? ' full' : row.held[i] === 0 ? ' empty' : '');
      const bar = el('div', { class: 'bar' }, el('span', {}));
      bar.firstChild.style.width = pct.toFixed(1) + '%';
      tr.append(el('td', { class: cls, title: row.complete[i] + ' complete, ' + bytes(row.bytes[i]) },
        row.held[i] + ' / ' + want, bar));
    });
    body.append(tr);
  }
  rows.push(body);
  fill(table, ...rows);
}

// Per repo: bytes held on the rack now, rate over the last runs, time left.
function drawRepos(st) {
  const g = st.grid;
  const table = document.getElementById('repos');
  const head = el('tr', {}, ...['repository', 'artifacts', 'on every sled', 'held on the rack',
    'rate', 'time left', 'state'].map((h) => el('th', {}, h)));
  const rows = [el('thead', {}, head)];
  const body = el('tbody', {});
  const runMs = (st.last_run && st.last_run.started_ms) || 0;
  (st.repos || []).forEach((r, i) => {
    let held = 0, want = 0, rate = NaN;
    if (g && g.repos[i] === r.system_version) {
      want = g.repo_bytes[i] * g.sleds.length;
      for (const s of g.sleds) held += s.bytes[i];
      const h = history.get(r.system_version) || [];
      if (!h.length || h[h.length - 1].t !== runMs) h.push({ t: runMs, bytes: held });
      while (h.length > 2 && runMs - h[0].t > 15000) h.shift();
      history.set(r.system_version, h);
      if (h.length > 1 && h[h.length - 1].t > h[0].t)
        rate = (h[h.length - 1].bytes - h[0].bytes) / ((h[h.length - 1].t - h[0].t) / 1000);
    }
    const left = want - held;
    const state = r.stuck ? 'stuck' : r.lost ? 'lost artifacts' : left <= 0 ? 'complete'
      : r.sufficient ? 'replicating (sufficient)' : 'replicating';
    body.append(el('tr', {},
      el('td', {}, r.system_version),
      el('td', { class: 'num' }, r.artifacts),
      el('td', { class: 'num' }, r.on_all_sleds + ' / ' + r.artifacts),
      el('td', { class: 'num' }, bytes(held) + ' / ' + bytes(want)),
      el('td', { class: 'num' }, isFinite(rate) && rate > 0 ? bytes(rate) + '/s' : '-'),
      el('td', { class: 'num' }, left <= 0 ? '-' : isFinite(rate) && rate > 0 ? secs(left / rate) : '?'),
      el('td', { class: r.stuck || r.lost ? 'err' : '' }, state)));
  });
  rows.push(body);
  fill(table, ...rows);
}

function drawRequests(st) {
  const q = document.getElementById('filter').value.trim().toLowerCase();
  const errorsOnly = document.getElementById('errors-only').checked;
  const all = st.request_ring || [];
  const shown = all.filter((e) => (!errorsOnly || e.error) &&
    (!q || [e.sled, e.operation, e.hash, e.source, e.error].some((f) => f && String(f).toLowerCase().includes(q))));
  const head = el('tr', {}, ...['time', 'sled', 'operation', 'artifact', 'source', 'result'].map((h) => el('th', {}, h)));
  const body = el('tbody', {});
  for (const e of shown.slice(0, 100))
    body.append(el('tr', {},
      el('td', { class: 'mono' }, when(e.time_ms)),
      el('td', { class: 'mono', title: e.sled || '' }, shortId(e.sled)),
      el('td', {}, e.operation),
      el('td', { class: 'mono', title: e.hash || '' }, e.hash ? e.hash.slice(0, 12) : '-'),
      el('td', { class: 'mono', title: e.source || '' }, e.source ? shortId(e.source) : '-'),
      el('td', { class: e.error ? 'err' : '' }, e.error || 'ok')));
  fill(document.getElementById('requests'), el('thead', {}, head), body);
  document.getElementById('req-count').textContent = shown.length + ' of ' + all.length + ' recent requests';
}

let last = null;
function draw(st) {
  last = st;
  drawSummary(st);
  drawAlerts(st);
  drawGrid(st);
  drawRepos(st);
  drawRequests(st);
  lastRun = st.last_run ? st.last_run.run : null;
  document.getElementById('footer').textContent = 'Updated ' + new Date().toISOString() +
    ' \u00b7 polling every ' + POLL_MS / 1000 + ' s \u00b7 last run ' + (lastRun || '-');
}

function setConn(cls, text) {
  const c = document.getElementById('conn');
  c.className = 'conn ' + cls;
  c.textContent = text;
}

let failures = 0;
async function poll() {
  try {
    const r = await fetch(STATUS_URL, { cache: 'no-store', headers: { 'api-version': '1.0.0' } });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    draw(await r.json());
    failures = 0;
    setConn('ok', 'live');
  } catch (e) {
    failures++;
    setConn('bad', 'no data: ' + e.message);
  }
  setTimeout(poll, failures ? Math.min(5000, POLL_MS * (1 + failures)) : POLL_MS);
}

document.getElementById('filter').addEventListener('input', () => last && drawRequests(last));
document.getElementById('errors-only').addEventListener('change', () => last && drawRequests(last));
poll();
