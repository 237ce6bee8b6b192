/*
 * aicensus dashboard: plain JavaScript, charts drawn here as SVG, no
 * external code.  Every number is a RELEASED figure from the daemon's
 * API: whole closed days and ISO weeks, perturbed once by the release
 * stage (cell key method).  The weeks and days to show come from
 * /api/v1/periods, the cells from /api/v1/usage, the blind spots from
 * /api/v1/blind.  There is no "suppressed" mark: a zero is a zero,
 * shown as "–", whether nothing happened or too few devices did.
 *
 * Over the organisation's central release (aicensusd --serve with
 * api.source = central) /api/v1/sites answers: a site selector appears,
 * and every data request then names the site chosen (site=NAME; none:
 * the whole organisation).  Over one sensor's release it answers 404
 * and the selector stays hidden.
 *
 * The token: read once from the URL fragment (#token=...) or the login
 * form, kept in sessionStorage (this tab only), sent as
 * "Authorization: Bearer ...".  A 401 brings the login form back.
 */
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const TOKEN_KEY = 'aicensus.token';
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#6b8fb5', '#d37295',
  '#8cd17d'];
/* services get their own colours: never mistaken for a department */
const SVC_PALETTE = ['#5b5fc7', '#2a9d8f', '#e76f51', '#e9b44c', '#8e5ea2',
  '#3d8fd1', '#9bbf5a', '#d1495b', '#6c757d', '#c27c0e', '#00798c',
  '#b56576'];
const OTHER_COLOR = '#c5cdd6';
const MAX_SERIES = 8;
const SANCTIONED = '#2f7f78';
const UNSANCTIONED = '#e0863a';
const METRICS = {
  connections: 'connections',
  dns_lookups: 'DNS lookups',
  device_hours: 'device-hours',
  devices: 'devices',
};
const DAY = 86400000;

const state = {
  week: null,
  interval: 'day',
  metric: 'connections',
  weeks: [],           /* released ISO weeks, ascending */
  days: [],            /* released days: period objects */
  services: new Map(), /* id -> service */
  deptColor: new Map(),
  svcColor: new Map(),
  site: '',            /* '' the organisation; or a site's name */
  data: null,          /* the answers for the current view */
  loading: 0,
};

const nf = new Intl.NumberFormat('en');
const num = (v) => nf.format(v);
/* one glyph for every zero: nothing, or too few devices to show */
const fig = (v) => (v ? nf.format(v) : '–');

function short(v) {
  if (v >= 1e9) return (v / 1e9).toFixed(1).replace(/\.0$/, '') + 'G';
  if (v >= 1e6) return (v / 1e6).toFixed(1).replace(/\.0$/, '') + 'M';
  if (v >= 1e4) return Math.round(v / 1e3) + 'k';
  if (v >= 1e3) return (v / 1e3).toFixed(1).replace(/\.0$/, '') + 'k';
  return String(Math.round(v * 100) / 100);
}

function $(id) { return document.getElementById(id); }

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function titled(node, text) {
  node.appendChild(svg('title', {}, text));
  return node;
}

/* --- ISO weeks (calendar arithmetic, independent of time zones) ------- */

function weekMonday(label) {
  const m = /^(\d{4})-W(\d{2})$/.exec(label);
  const y = Number(m[1]), w = Number(m[2]);
  const jan4 = Date.UTC(y, 0, 4);
  const dow = (new Date(jan4).getUTCDay() + 6) % 7;
  return new Date(jan4 - dow * DAY + (w - 1) * 7 * DAY);
}

function weekOf(date) {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(),
    date.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) + 3);
  const y = d.getUTCFullYear();
  const w = 1 + Math.floor((d - Date.UTC(y, 0, 4) +
    ((new Date(Date.UTC(y, 0, 4)).getUTCDay() + 6) % 7) * DAY) / (7 * DAY));
  return y + '-W' + String(w).padStart(2, '0');
}

function shiftWeek(label, n) {
  return weekOf(new Date(weekMonday(label).getTime() + n * 7 * DAY));
}

const isoDay = (d) => d.toISOString().slice(0, 10);
const dayName = (d) => d.toLocaleDateString('en-GB',
  { weekday: 'short', day: 'numeric', timeZone: 'UTC' });
const dateShort = (d) => d.toLocaleDateString('en-GB',
  { day: 'numeric', month: 'short', timeZone: 'UTC' });

function ago(sec) {
  if (sec < 90) return Math.max(0, Math.round(sec)) + ' s ago';
  if (sec < 5400) return Math.round(sec / 60) + ' min ago';
  if (sec < 172800) return Math.round(sec / 3600) + ' h ago';
  return Math.round(sec / 86400) + ' days ago';
}

function duration(sec) {
  const d = Math.floor(sec / 86400), h = Math.floor(sec % 86400 / 3600),
    m = Math.floor(sec % 3600 / 60);
  if (d) return d + ' d ' + h + ' h';
  if (h) return h + ' h ' + m + ' min';
  return m + ' min ' + Math.floor(sec % 60) + ' s';
}

/* --- the API ---------------------------------------------------------- */

class AuthError extends Error {}
/* 409: a shipping sensor; its figures are in the central release. */
class CentralError extends Error {}

async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new AuthError('no token');
  const r = await fetch(path, {
    headers: { Authorization: 'Bearer ' + token },
    cache: 'no-store',
    credentials: 'omit',
  });
  if (r.status === 401) throw new AuthError('rejected');
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 409 && body && body.error) {
    throw new CentralError(body.error.message);
  }
  if (!r.ok) {
    throw new Error(body && body.error ? body.error.message :
      'HTTP ' + r.status);
  }
  return body;
}

/* path with the chosen site, if any, added to its parameters */
function withSite(path, params) {
  const p = new URLSearchParams(params || {});
  if (state.site) p.set('site', state.site);
  const q = p.toString();
  return q ? path + '?' + q : path;
}

function usage(params) {
  return api(withSite('/api/v1/usage', params));
}

/*
 * The site selector: filled from /api/v1/sites, shown only when it
 * answers (the central release); a silent site says so.
 */
async function loadSites() {
  let answer = null;
  try {
    answer = await api('/api/v1/sites');
  } catch (e) {
    if (e instanceof AuthError) throw e;
    answer = null;
  }
  const sel = $('site');
  $('sitepick').hidden = !answer;
  if (!answer) {
    state.site = '';
    return;
  }
  sel.textContent = '';
  sel.appendChild(el('option', { value: '' }, 'Whole organisation'));
  for (const s of answer.sites) {
    const o = el('option', { value: s.name },
      s.name + (s.silent ? ' (silent)' : '') + (s.released ? '' : ' – nothing released'));
    sel.appendChild(o);
  }
  sel.dataset.sites = String(answer.sites.length);
  if (!answer.sites.some((s) => s.name === state.site)) state.site = '';
  sel.value = state.site;
}

/* --- URL fragment: token once, then the view (bookmarkable) ----------- */

function readFragment() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (p.get('token')) sessionStorage.setItem(TOKEN_KEY, p.get('token'));
  if (/^\d{4}-W\d{2}$/.test(p.get('week') || '')) state.week = p.get('week');
  if (['day', 'week'].includes(p.get('interval'))) {
    state.interval = p.get('interval');
  }
  if (METRICS[p.get('metric')]) state.metric = p.get('metric');
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(p.get('site') || '')) {
    state.site = p.get('site');
  }
  writeFragment();
}

function writeFragment() {
  const p = new URLSearchParams();
  if (state.week) p.set('week', state.week);
  p.set('interval', state.interval);
  p.set('metric', state.metric);
  if (state.site) p.set('site', state.site);
  /* never leave the token in the address bar or the history */
  history.replaceState(null, '', location.pathname + '#' + p.toString());
}

/* --- login ------------------------------------------------------------ */

function showLogin(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  $('login').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

function onLogin(ev) {
  ev.preventDefault();
  const t = $('token').value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  $('login').hidden = true;
  start();
}

/* --- charts ----------------------------------------------------------- */

function niceScale(max, ticks) {
  if (!(max > 0)) return { max: 1, step: 1 };
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  let step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  if (step < 1) step = 1;
  return { max: Math.ceil(max / step) * step, step };
}

/*
 * Stacked bars.  slots: [{key, label, title, major}], series:
 * [{name, color, values: Map(key -> n)}].
 */
function stackedBars(box, o) {
  box.textContent = '';
  const W = Math.max(box.clientWidth || 600, 320), H = 236;
  const m = { l: 46, r: 6, t: 10, b: 34 };
  const iw = W - m.l - m.r, ih = H - m.t - m.b;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': o.title, 'data-chart': o.id });

  const totals = o.slots.map((s) =>
    o.series.reduce((a, se) => a + (se.values.get(s.key) || 0), 0));
  const sc = niceScale(Math.max(0, ...totals), 4);
  const y = (v) => m.t + ih - (v / sc.max) * ih;

  const grid = svg('g', { class: 'tick' });
  for (let v = 0; v <= sc.max + 1e-9; v += sc.step) {
    grid.appendChild(svg('line', { class: v ? 'grid-line' : 'baseline',
      x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.appendChild(svg('text', { x: m.l - 6, y: y(v) + 3.5,
      'text-anchor': 'end' }, short(v)));
  }
  root.appendChild(grid);

  const band = iw / Math.max(1, o.slots.length);
  const bw = Math.max(1, band * (o.slots.length > 40 ? 0.86 : 0.62));
  const bars = svg('g', { class: 'bars' });
  const axis = svg('g', { class: 'axis' });
  o.slots.forEach((s, i) => {
    const x = m.l + i * band + (band - bw) / 2;
    let acc = 0;
    for (const se of o.series) {
      const v = se.values.get(s.key) || 0;
      if (!v) continue;
      const y0 = y(acc), y1 = y(acc + v);
      acc += v;
      bars.appendChild(titled(svg('rect', { class: 'bar', x: x.toFixed(2),
        y: y1.toFixed(2), width: bw.toFixed(2),
        height: Math.max(0.5, y0 - y1).toFixed(2), fill: se.color,
        'data-chart': o.id, 'data-series': se.name, 'data-period': s.key,
        'data-value': v }), `${se.name} · ${s.title}: ${num(v)} ${o.unit}`));
    }
    if (s.major) {
      axis.appendChild(svg('text', { x: (m.l + i * band +
        (o.slots.length > 40 ? 2 : band / 2)).toFixed(1), y: H - 12,
      'text-anchor': o.slots.length > 40 ? 'start' : 'middle' }, s.label));
      if (o.slots.length > 40 && i) {
        axis.appendChild(svg('line', { class: 'grid-line',
          x1: m.l + i * band, x2: m.l + i * band, y1: m.t, y2: m.t + ih }));
      }
    }
  });
  root.appendChild(axis);
  root.appendChild(bars);
  if (!totals.some((t) => t > 0)) {
    root.appendChild(svg('text', { class: 'empty', x: m.l + iw / 2,
      y: m.t + ih / 2, 'text-anchor': 'middle' },
    o.slots.length ? 'Every released figure is 0 (or too few devices to show)'
      : 'Nothing released for this week yet'));
  }
  box.appendChild(root);

  const legend = el('div', { class: 'legend' });
  for (const se of o.series) {
    const total = o.slots.reduce((a, s) => a + (se.values.get(s.key) || 0), 0);
    const item = el('span', { 'data-series': se.name });
    const sw = el('i');
    sw.style.background = se.color;
    item.append(sw, document.createTextNode(se.name + ' '), el('b', {},
      short(total)));
    legend.appendChild(item);
  }
  box.appendChild(legend);
}

function donut(parts, center, sub) {
  const R = 56, r = 38, C = 64;
  const root = svg('svg', { viewBox: '0 0 128 128', role: 'img',
    'aria-label': 'sanctioned and unsanctioned share', 'data-chart': 'sanction' });
  const total = parts.reduce((a, p) => a + p.value, 0);
  if (!total) {
    root.appendChild(svg('circle', { cx: C, cy: C, r: (R + r) / 2,
      fill: 'none', stroke: '#e3e8ee', 'stroke-width': R - r }));
  }
  let a0 = -Math.PI / 2;
  for (const p of parts) {
    if (!p.value) continue;
    const frac = p.value / total;
    const a1 = a0 + frac * 2 * Math.PI - (frac < 1 ? 0 : 1e-4);
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const pt = (rad, a) => `${(C + rad * Math.cos(a)).toFixed(3)} ${(C + rad * Math.sin(a)).toFixed(3)}`;
    const d = `M ${pt(R, a0)} A ${R} ${R} 0 ${large} 1 ${pt(R, a1)} ` +
      `L ${pt(r, a1)} A ${r} ${r} 0 ${large} 0 ${pt(r, a0)} Z`;
    root.appendChild(titled(svg('path', { d, fill: p.color, class: 'arc',
      'data-series': p.name, 'data-value': p.value }),
    `${p.name}: ${num(p.value)} (${Math.round(frac * 100)}%)`));
    a0 = a1;
  }
  root.appendChild(svg('text', { class: 'donut-total', x: C, y: C + 4,
    'text-anchor': 'middle' }, center));
  root.appendChild(svg('text', { class: 'donut-label', x: C, y: C + 18,
    'text-anchor': 'middle' }, sub));
  return root;
}

function splitBar(a, b, attrs) {
  const root = svg('svg', { viewBox: '0 0 100 12', preserveAspectRatio: 'none' });
  const t = a + b;
  root.appendChild(svg('rect', { x: 0, y: 0, width: 100, height: 12, rx: 2,
    fill: '#eef2f6' }));
  if (t) {
    const wa = 100 * a / t;
    root.appendChild(titled(svg('rect', Object.assign({ x: 0, y: 0,
      width: wa.toFixed(2), height: 12, fill: SANCTIONED,
      'data-series': 'sanctioned', 'data-value': a }, attrs)),
    `sanctioned: ${num(a)}`));
    root.appendChild(titled(svg('rect', Object.assign({ x: wa.toFixed(2),
      y: 0, width: (100 - wa).toFixed(2), height: 12, fill: UNSANCTIONED,
      'data-series': 'unsanctioned', 'data-value': b }, attrs)),
    `unsanctioned: ${num(b)}`));
  }
  return root;
}

function miniBar(frac, color) {
  const root = svg('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none' });
  root.appendChild(svg('rect', { width: 100, height: 8, rx: 2, fill: '#eef2f6' }));
  if (frac > 0) {
    root.appendChild(svg('rect', { width: Math.max(1.5, 100 * Math.min(1, frac)).toFixed(2),
      height: 8, rx: 2, fill: color }));
  }
  return root;
}

/* --- shaping the answers ---------------------------------------------- */

function metricOf(row, metric) {
  return row[metric] || 0;
}

/* The released periods of the view: the week's released days, or the week. */
function slotsFor() {
  if (state.interval === 'week') {
    return [{ key: state.week, label: state.week, title: state.week, major: true }];
  }
  return state.days.filter((p) => p.week === state.week).map((p) => {
    const d = new Date(p.period + 'T00:00:00Z');
    return { key: p.period, label: dayName(d), title: dayName(d) +
      (p.complete ? '' : ' (partial)'), major: true };
  });
}

/* Series per name (department or service), the largest first. */
function seriesFrom(answer, nameOf, colorOf) {
  const by = new Map();
  for (const row of answer.rows) {
    const k = row.period;
    const name = nameOf(row);
    if (!by.has(name)) by.set(name, new Map());
    const m = by.get(name);
    m.set(k, (m.get(k) || 0) + metricOf(row, state.metric));
  }
  let series = [...by.entries()].map(([name, values]) => ({
    name, values, color: colorOf(name),
    total: [...values.values()].reduce((a, b) => a + b, 0),
  })).filter((s) => s.total > 0).sort((a, b) => b.total - a.total);
  if (series.length > MAX_SERIES) {
    const rest = series.slice(MAX_SERIES - 1);
    const values = new Map();
    for (const s of rest) {
      for (const [k, v] of s.values) values.set(k, (values.get(k) || 0) + v);
    }
    series = series.slice(0, MAX_SERIES - 1);
    series.push({ name: `${rest.length} others`, values,
      color: OTHER_COLOR, total: 0 });
  }
  return { series };
}

function colorFor(map, name) {
  const pal = map === state.svcColor ? SVC_PALETTE : PALETTE;
  if (!map.has(name)) map.set(name, pal[map.size % pal.length]);
  return map.get(name);
}

function svcName(id) {
  const s = state.services.get(id);
  return s ? s.name : id;
}

/* --- rendering -------------------------------------------------------- */

function kpi(label, value, sub, tone) {
  const k = el('div', { class: 'kpi' + (tone ? ' ' + tone : '') });
  k.append(el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value), el('div', { class: 'sub' }, sub));
  return k;
}

const isSanctioned = (id) => !!(state.services.get(id) || {}).sanctioned;

function renderKpis(d) {
  const box = $('kpis');
  box.textContent = '';
  /* the week's own released total: a cell of its own, not a sum */
  const tot = d.total.rows[0] || {};
  const svcs = d.svcWeek.rows.filter((r) => r.devices > 0);
  const sanct = svcs.filter((r) => isSanctioned(r.service));
  const sumOf = (rows) => rows.reduce((a, r) => a + (r.connections || 0), 0);
  const s = sumOf(sanct), u = sumOf(svcs) - s;
  const share = s + u ? Math.round(100 * u / (s + u)) : 0;
  box.append(
    kpi('Connections', fig(tot.connections), `TLS ${fig(tot.tls_conns)} · ` +
      `QUIC ${fig(tot.quic_conns)} · ECH ${fig(tot.ech_conns)}`),
    kpi('Distinct devices', fig(tot.devices), 'in the week, all departments'),
    kpi('Services in use', fig(svcs.length), `${sanct.length} sanctioned · ` +
      `${svcs.length - sanct.length} unsanctioned`),
    kpi('Unsanctioned share', s + u ? share + '%' : '–',
      `${fig(u)} connections to unapproved services`,
      share >= 50 ? 'warn' : ''),
  );
  const st = d.status;
  const healthy = st.capture === 'running' &&
    (st.last_flush.time === null || st.last_flush.ok);
  box.append(kpi('Sensor', st.capture === 'running' ? 'Capturing'
    : st.capture === 'offline' ? 'Offline' : 'Interface lost',
  st.last_release === null ? `up ${duration(st.uptime_seconds)}, no release since start`
    : `last release ${ago(st.now - st.last_release)}`, healthy ? 'ok' : 'bad'));
}

function renderCharts(d) {
  const common = { unit: METRICS[state.metric] };
  const slots = slotsFor();
  const dept = seriesFrom(d.deptSeries, (r) => r.department,
    (n) => colorFor(state.deptColor, n));
  stackedBars($('chart-dept'), Object.assign({ id: 'department',
    title: 'usage by department', slots }, dept, common));
  const svc = seriesFrom(d.svcSeries, (r) => svcName(r.service),
    (n) => colorFor(state.svcColor, n));
  stackedBars($('chart-svc'), Object.assign({ id: 'service',
    title: 'usage by service', slots }, svc, common));
  const per = state.interval === 'day' ? 'per released day' : 'in the week';
  $('dept-hint').textContent = `${METRICS[state.metric]} ${per}`;
  $('svc-hint').textContent = `${METRICS[state.metric]} ${per}`;
}

function renderSanction(d) {
  const box = $('sanction');
  box.textContent = '';
  let s = 0, u = 0;
  const per = new Map();
  for (const r of d.cells.rows) {
    const v = r.connections || 0;
    if (isSanctioned(r.service)) s += v; else u += v;
    if (!per.has(r.department)) per.set(r.department, [0, 0]);
    per.get(r.department)[isSanctioned(r.service) ? 0 : 1] += v;
  }
  const wrap = el('div', { class: 'sanction' });
  const t = s + u;
  wrap.appendChild(donut([
    { name: 'sanctioned', value: s, color: SANCTIONED },
    { name: 'unsanctioned', value: u, color: UNSANCTIONED },
  ], t ? Math.round(100 * u / t) + '%' : '–', 'unsanctioned'));
  const bars = el('div', { class: 'hbars' });
  const rows = [...per.entries()].sort((a, b) => (b[1][0] + b[1][1]) -
    (a[1][0] + a[1][1]));
  for (const [name, [a, b]] of rows) {
    const line = el('div', { class: 'hbar', 'data-department': name });
    line.append(el('span', { class: 'name', title: name }, name),
      splitBar(a, b, { 'data-department': name }),
      el('span', { class: 'pct' }, a + b ? Math.round(100 * b / (a + b)) + '%' : '–'));
    bars.appendChild(line);
  }
  if (!rows.length) bars.appendChild(el('p', { class: 'muted' }, 'No department in the released grid.'));
  wrap.appendChild(bars);
  box.appendChild(wrap);
  const key = el('div', { class: 'key' });
  for (const [label, color] of [['sanctioned', SANCTIONED], ['unsanctioned (shadow AI)', UNSANCTIONED]]) {
    const k = el('span');
    const sw = el('i');
    sw.style.background = color;
    k.append(sw, document.createTextNode(label));
    key.appendChild(k);
  }
  box.appendChild(key);
  /* shadow AI: the unsanctioned services with the most use */
  const ranked = d.svcWeek.rows.filter((r) => !isSanctioned(r.service) &&
    r.connections > 0).sort((a, b) => b.connections - a.connections).slice(0, 4);
  if (ranked.length) {
    box.appendChild(el('h3', { class: 'sub' }, 'Most used unsanctioned services'));
    const list = el('div', { class: 'toplist' });
    for (const r of ranked) {
      const line = el('div', { class: 'hbar', 'data-unsanctioned': r.service });
      line.append(el('span', { class: 'name', title: svcName(r.service) }, svcName(r.service)),
        miniBar(r.connections / ranked[0].connections, UNSANCTIONED),
        el('span', { class: 'pct' }, short(r.connections)));
      list.appendChild(line);
    }
    box.appendChild(list);
  }
}

function renderNew(d) {
  const box = $('newsvc');
  box.textContent = '';
  const weeks = new Map();
  for (const r of d.history.rows) {
    if (!weeks.has(r.service)) weeks.set(r.service, []);
    weeks.get(r.service).push(r);
  }
  const fresh = [];
  for (const [, rows] of weeks) {
    const now = rows.find((r) => r.period === state.week);
    if (!now || !(now.devices > 0)) continue;
    if (rows.some((r) => r.period < state.week && r.devices > 0)) continue;
    fresh.push(now);
  }
  fresh.sort((a, b) => b.connections - a.connections);
  const first = state.weeks[0] === state.week;
  if (!fresh.length) {
    box.appendChild(el('p', { class: 'muted' },
      'No service was used for the first time this week.'));
    return;
  }
  const table = el('table', { 'data-table': 'new-services' });
  const head = el('tr');
  for (const [h, c] of [['Service', ''], ['Category', ''], ['Status', ''],
    ['Conn.', 'num'], ['Devices', 'num']]) head.appendChild(el('th', { class: c }, h));
  table.appendChild(head);
  for (const r of fresh.slice(0, 7)) {
    const s = state.services.get(r.service) || { name: r.service, vendor: '' };
    const tr = el('tr', { 'data-service': r.service });
    const name = el('td');
    name.append(el('div', { class: 'svcname' }, s.name),
      el('div', { class: 'vendor' }, `${s.vendor}${s.jurisdiction ? ' · ' + s.jurisdiction : ''}`));
    const cat = el('td');
    cat.appendChild(el('span', { class: 'badge cat' }, s.category || ''));
    const st = el('td');
    st.appendChild(el('span', { class: 'badge ' + (s.sanctioned ? 'yes' : 'no') },
      s.sanctioned ? 'sanctioned' : 'unsanctioned'));
    tr.append(name, cat, st, el('td', { class: 'num' }, fig(r.connections)),
      el('td', { class: 'num' }, fig(r.devices)));
    table.appendChild(tr);
  }
  box.appendChild(table);
  if (first) {
    box.appendChild(el('p', { class: 'muted' },
      'This is the first released week, so every service in use is new.'));
  } else if (fresh.length > 7) {
    box.appendChild(el('p', { class: 'muted' }, `and ${fresh.length - 7} more`));
  }
}

function renderHealth(d) {
  const box = $('health');
  box.textContent = '';
  const st = d.status;
  const kv = el('div', { class: 'health' });
  const add = (label, value, tone) => {
    const row = el('div');
    const v = el('b');
    if (tone) v.appendChild(el('i', { class: 'dot ' + tone }));
    v.appendChild(document.createTextNode(value));
    row.append(el('span', {}, label), v);
    kv.appendChild(row);
  };
  if (st.capture === 'none') {
    /* aicensusd --serve: no capture of its own, by design */
    add('Serving', `the ${st.source} release` +
      (st.source === 'central' ? ` (${state.site || 'whole organisation'})` : ''), 'ok');
  } else {
    add('Capture', st.capture === 'running' ? `on ${st.interface || '?'}`
      : st.capture, st.capture === 'running' ? 'ok' : 'bad');
  }
  add('Uptime', duration(st.uptime_seconds));
  add('Last packet', st.last_packet === null ? 'none yet' : ago(st.now - st.last_packet));
  add('Packets since start', num(st.packets));
  add('Capture drops', num(st.pcap_drops + st.if_drops),
    st.pcap_drops + st.if_drops ? 'warn' : 'ok');
  add('Last flush', st.last_flush.time === null ? 'none yet'
    : ago(st.now - st.last_flush.time), st.last_flush.time === null ? ''
    : st.last_flush.ok ? 'ok' : 'bad');
  add('Last released', `${st.last_released_week || '–'} · ${st.last_released_day || '–'}`);
  add('Min. group size', num(st.min_group_size));
  box.appendChild(kv);

  /* released B1 figures of the week's released days */
  const b = {};
  for (const day of d.blind.days) {
    for (const [k, v] of Object.entries(day)) {
      if (k !== 'day') b[k] = (b[k] || 0) + v;
    }
  }
  $('health-hint').textContent = `blind spots, ${d.blind.days.length} released day(s) of ${state.week}`;
  const items = [
    ['Dropped before counting', (b.pcap_drops || 0) + (b.if_drops || 0)],
    ['ECH, service unknown', b.ech_unattributed || 0],
    ['ClientHello without name', b.nosni_conns || 0],
    ['ClientHello not readable', b.unreadable_hellos || 0],
    ['Conflicting copies (not counted)', b.overlap_conflicts || 0],
    ['DNS-over-HTTPS connections', b.doh_conns || 0],
    ['Malformed packets', b.parse_failures || 0],
    ['Counts lost (memory full)', b.lost || 0],
    ['Ignored lookups (resolver)', b.ignored || 0],
    ['Arrived after release', b.late || 0],
  ];
  const max = Math.max(1, ...items.map((i) => i[1]));
  const table = el('table', { class: 'blind', 'data-table': 'blind-spots' });
  const head = el('tr');
  head.append(el('th', {}, 'What the sensor could not count'), el('th'),
    el('th', { class: 'num' }, `of ${short(b.packets || 0)} packets`));
  table.appendChild(head);
  for (const [label, v] of items) {
    const tr = el('tr', { 'data-blind': label });
    const bar = el('td', { class: 'bar-cell' });
    bar.appendChild(miniBar(v / max, v ? '#c98b4a' : '#cfd6dd'));
    tr.append(el('td', {}, label), bar, el('td', { class: 'num' }, fig(v)));
    table.appendChild(tr);
  }
  box.appendChild(table);
}

function renderAll() {
  const d = state.data;
  if (!d) return;
  renderKpis(d);
  renderCharts(d);
  renderSanction(d);
  renderNew(d);
  renderHealth(d);
  const p = d.cells.periods[0];
  $('privacy').className = 'notice';
  $('privacy').textContent = (state.site ? `Site ${state.site}. ` : '') +
    `Minimum group size ${d.minGroup}: every figure ` +
    'is released once, per closed day or ISO week, with small random ' +
    'perturbation (cell key method); a group of fewer devices shows as – ' +
    '(0) or at least the minimum, and rows need not add up. ' +
    (p ? `${state.week}: ${d.cells.rows.length} department × service cells, ` +
      `released ${new Date(p.released_at * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` +
      (p.complete ? '.' : ' (partial week).')
      : `${state.week}: the week is not released yet; days released so far are shown.`);
  $('version').textContent = `aicensusd ${d.status.version}`;
}

/* --- loading ---------------------------------------------------------- */

function renderWeek() {
  const mon = weekMonday(state.week);
  $('week').textContent = state.week;
  $('weekdates').textContent = `${dateShort(mon)} – ${dateShort(new Date(mon.getTime() + 6 * DAY))}`;
  const i = state.weeks.indexOf(state.week);
  $('next').disabled = i < 0 || i === state.weeks.length - 1;
  $('prev').disabled = i <= 0;
  for (const b of $('interval').querySelectorAll('button')) {
    b.classList.toggle('on', b.dataset.v === state.interval);
  }
  $('metric').value = state.metric;
}

async function loadView() {
  const w = state.week;
  const ticket = ++state.loading;
  document.body.dataset.ready = '0';
  $('main').setAttribute('aria-busy', 'true');
  renderWeek();
  writeFragment();
  const lvl = state.interval;
  const [deptSeries, svcSeries, cells, total, svcWeek, history, status, blind] =
    await Promise.all([
      usage({ week: w, by: 'department,' + lvl }),
      usage({ week: w, by: 'service,' + lvl }),
      usage({ week: w, by: 'department,service,week' }),
      usage({ week: w, by: 'week' }),
      usage({ week: w, by: 'service,week' }),
      usage({ from: shiftWeek(w, -4), to: w, by: 'service,week' }),
      api('/api/v1/status'),
      api(withSite('/api/v1/blind', { week: w })),
    ]);
  if (ticket !== state.loading) return;  /* a newer view won */
  state.data = { deptSeries, svcSeries, cells, total, svcWeek, history,
    status, blind, minGroup: cells.min_group_size || status.min_group_size };
  renderAll();
  $('main').setAttribute('aria-busy', 'false');
  document.body.dataset.ready = '1';
}

async function start() {
  try {
    await loadSites();
    const [periods, services, depts] = await Promise.all([
      api(withSite('/api/v1/periods')), api(withSite('/api/v1/services')),
      api(withSite('/api/v1/departments'))]);
    state.weeks = periods.weeks.map((p) => p.period);
    state.days = periods.days;
    /* a week in progress shows its released days */
    for (const p of periods.days) {
      if (!state.weeks.includes(p.week)) state.weeks.push(p.week);
    }
    state.weeks.sort();
    state.services = new Map(services.services.map((s) => [s.id, s]));
    for (const dpt of depts.departments) colorFor(state.deptColor, dpt.name);
    for (const s of services.services) colorFor(state.svcColor, s.name);
    if (!state.weeks.length) {
      $('privacy').textContent = 'Nothing has been released yet: figures ' +
        'appear when the first day closes.';
      document.body.dataset.ready = '1';
      return;
    }
    if (!state.week || !state.weeks.includes(state.week)) {
      state.week = periods.weeks.length ?
        periods.weeks[periods.weeks.length - 1].period :
        state.weeks[state.weeks.length - 1];
    }
    await loadView();
  } catch (e) {
    fail(e);
  }
}

function fail(e) {
  if (e instanceof AuthError) {
    showLogin(e.message === 'rejected' ? 'That token was not accepted.' : '');
    return;
  }
  if (e instanceof CentralError) {
    $('privacy').className = 'notice';
    $('privacy').textContent = e.message;
    document.body.dataset.ready = '1';
    return;
  }
  $('privacy').className = 'notice error';
  $('privacy').textContent = 'Could not load the data: ' + e.message;
}

function go(fn) {
  return () => { fn(); loadView().catch(fail); };
}

function step(n) {
  const i = state.weeks.indexOf(state.week) + n;
  if (i >= 0 && i < state.weeks.length) state.week = state.weeks[i];
}

function init() {
  readFragment();
  $('login-form').addEventListener('submit', onLogin);
  $('prev').addEventListener('click', go(() => step(-1)));
  $('next').addEventListener('click', go(() => step(1)));
  for (const b of $('interval').querySelectorAll('button')) {
    b.addEventListener('click', go(() => { state.interval = b.dataset.v; }));
  }
  $('metric').addEventListener('change', go(() => { state.metric = $('metric').value; }));
  /* another site has other released periods: start over */
  $('site').addEventListener('change', () => {
    state.site = $('site').value;
    state.data = null;
    writeFragment();
    start();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    state.data = null;
    showLogin('');
  });
  let t = null;
  window.addEventListener('resize', () => {
    clearTimeout(t);
    t = setTimeout(() => { if (state.data) renderCharts(state.data); }, 150);
  });
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    showLogin('');
    return;
  }
  start();
}

document.addEventListener('DOMContentLoaded', init);
