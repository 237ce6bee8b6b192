/*
 * aicensus dashboard: plain JavaScript, charts drawn here as SVG, no
 * external code.  Every number is a RELEASED figure from the daemon's
 * API: whole closed days and ISO weeks, perturbed once by the release
 * stage (cell key method).  The weeks and days to show come from
 * /api/v1/periods, the cells from /api/v1/usage, the blind spots from
 * /api/v1/blind.  There is no "suppressed" flag: a zero is a zero,
 * shown as "–", whether nothing happened or too few devices did.
 *
 * Lower bounds ("≥"): a total is a released cell of its own.  When the
 * total of a day or week is more than the sum of the parts shown for it
 * (departments, services, categories) and some of those parts are "–",
 * the difference is groups too small to show: that sum, and the sum of
 * each part that has a "–" there, is at least what is shown, and is
 * marked "≥" with a legend line saying so (ge() below).
 *
 * Languages: English and Dutch (Netherlands).  The page starts in the
 * language chosen before in this browser (localStorage), else the
 * configured one (/api/v1/status "language", the report's), else
 * English; EN/NL in the header switches and remembers.  Numbers follow
 * the language (nl: 1.234 and 12,5%).
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
const LANG_KEY = 'aicensus.lang';
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#6b8fb5', '#d37295',
  '#8cd17d'];
/* services get their own colours: never mistaken for a department */
const SVC_PALETTE = ['#5b5fc7', '#2a9d8f', '#e76f51', '#e9b44c', '#8e5ea2',
  '#3d8fd1', '#9bbf5a', '#d1495b', '#6c757d', '#c27c0e', '#00798c',
  '#b56576'];
const OTHER_COLOR = '#c5cdd6';
const MAX_SERIES = 8;
const TREND_WEEKS = 8;
/* the report's colours (report_html.c: --sanct, --shadow) */
const SANCTIONED = '#2f6f9f';
const UNSANCTIONED = '#d9822b';
const METRIC_KEYS = ['connections', 'dns_lookups', 'device_hours', 'devices'];
const DAY = 86400000;
const GE = '≥ ';

/* --- the two languages ------------------------------------------------ */

const STR = {
  en: {
    title: 'aicensus · generative-AI use by department',
    tagline: 'Generative-AI use by department · released figures',
    view: 'View', prevWeek: 'Previous week', nextWeek: 'Next week',
    interval: 'Interval', days: 'Days', week: 'Week', site: 'Site',
    wholeOrg: 'Whole organisation', measure: 'Measure', language: 'Language',
    m_connections: 'Connections', m_dns_lookups: 'DNS lookups',
    m_device_hours: 'Device-hours', m_devices: 'Devices',
    u_connections: 'connections', u_dns_lookups: 'DNS lookups',
    u_device_hours: 'device-hours', u_devices: 'devices',
    signout: 'Sign out', loading: 'Loading…', kpis: 'Key figures',
    byDept: 'Usage by department', bySvc: 'Usage by service',
    trendTitle: 'Trend over the last weeks',
    trendHint: '{1} per week, sanctioned and shadow AI',
    sanctTitle: 'Sanctioned and shadow AI',
    sanctHint: 'share of connections in the week',
    newTitle: 'New services this week', newHint: 'not seen in the 4 weeks before',
    healthTitle: 'Sensor health and blind spots',
    close: 'Close', drillTitle: 'Department: {1}',
    drillHint: '{1} by category and its services in {2}',
    drillPick: 'Click a department for its services and categories',
    loginTitle: 'Sign in to aicensus',
    login1: 'Paste the API token: the contents of the file named by',
    login2: 'in', login3: '. It is kept in this browser tab only.',
    tokenLabel: 'API token', loginOpen: 'Open the dashboard',
    tokenRejected: 'That token was not accepted.',
    footer: 'Figures are released once per closed day and ISO week, per ' +
      'department and service, perturbed so that no group smaller than the ' +
      'minimum can be told apart from none: – means 0 or too few devices to ' +
      'show. Rows need not add up. A device is counted as a keyed hash of ' +
      'its address, never by the address.',
    geLegend: '≥ at least: the released total is more than the sum of the ' +
      'parts shown, and parts shown as – are 0 or groups too small to show; ' +
      'a sum over them is a lower bound.',
    sumLine: 'sum of the parts {1} · released total {2}',
    drillSum: 'sum of its services · its released total {1}',
    perDay: 'per released day', inWeek: 'in the week',
    k_conns: 'Connections', k_devices: 'Distinct devices',
    k_devicesSub: 'in the week, all departments', k_services: 'Services in use',
    k_servicesSub: '{1} sanctioned · {2} shadow', k_share: 'Shadow AI share',
    k_shareSub: '{1} connections to shadow services', k_sensor: 'Sensor',
    capturing: 'Capturing', offline: 'Offline', ifLost: 'Interface lost',
    upNoRelease: 'up {1}, no release since start', lastRelease: 'last release {1}',
    agoS: '{1} s ago', agoMin: '{1} min ago', agoH: '{1} h ago', agoD: '{1} days ago',
    dH: 'h',
    emptyZero: 'Every released figure is 0 (or too few devices to show)',
    emptyNone: 'Nothing released for this week yet',
    others: '{1} others', partial: '(partial)',
    donutSub: 'shadow', sanctioned: 'sanctioned', shadow: 'shadow',
    shadowLong: 'shadow AI (not sanctioned)',
    noDept: 'No department in the released grid.',
    topShadow: 'Most used shadow services',
    noNew: 'No service was used for the first time this week.',
    h_service: 'Service', h_category: 'Category', h_status: 'Status',
    h_conns: 'Conn.', h_devices: 'Devices', h_week: 'Week', h_total: 'Total',
    h_share: 'Shadow share',
    firstWeek: 'This is the first released week, so every service in use is new.',
    more: 'and {1} more',
    serving: 'Serving', servingWhat: 'the {1} release', capture: 'Capture',
    captureOn: 'on {1}', uptime: 'Uptime', lastPacket: 'Last packet',
    noneYet: 'none yet', packets: 'Packets since start', drops: 'Capture drops',
    lastFlush: 'Last flush', lastReleased: 'Last released',
    minGroup: 'Min. group size',
    blindHint: 'blind spots, {1} released day(s) of {2}',
    b_dropped: 'Dropped before counting', b_ech: 'ECH, service unknown',
    b_nosni: 'ClientHello without name', b_unreadable: 'ClientHello not readable',
    b_overlap: 'Conflicting copies (not counted)',
    b_doh: 'DNS-over-HTTPS connections', b_malformed: 'Malformed packets',
    b_lost: 'Counts lost (memory full)', b_ignored: 'Ignored lookups (resolver)',
    b_late: 'Arrived after release', b_head: 'What the sensor could not count',
    b_of: 'of {1} packets',
    sitePrefix: 'Site {1}. ',
    privacy: 'Minimum group size {1}: every figure is released once, per ' +
      'closed day or ISO week, with small random perturbation (cell key ' +
      'method); a group of fewer devices shows as – (0) or at least the ' +
      'minimum, and rows need not add up. ',
    released: '{1}: {2} department × service cells, released {3} UTC',
    partialWeek: ' (partial week).',
    notReleased: '{1}: the week is not released yet; days released so far are shown.',
    nothingYet: 'Nothing has been released yet: figures appear when the first day closes.',
    loadFailed: 'Could not load the data: ',
    silent: ' (silent)', nothingReleased: ' – nothing released',
    unassigned: 'unassigned',
    cat_chat: 'Chat assistants', cat_api: 'APIs', cat_code: 'Coding',
    cat_image: 'Images', cat_audio: 'Audio and speech', cat_video: 'Video',
    cat_writing: 'Writing and translation', cat_search: 'Search',
    cat_agent: 'Agents', cat_other: 'Other',
  },
  nl: {
    title: 'aicensus · gebruik van generatieve AI per afdeling',
    tagline: 'Gebruik van generatieve AI per afdeling · vrijgegeven cijfers',
    view: 'Weergave', prevWeek: 'Vorige week', nextWeek: 'Volgende week',
    interval: 'Interval', days: 'Dagen', week: 'Week', site: 'Locatie',
    wholeOrg: 'Hele organisatie', measure: 'Meetwaarde', language: 'Taal',
    m_connections: 'Verbindingen', m_dns_lookups: 'DNS-zoekopdrachten',
    m_device_hours: 'Apparaaturen', m_devices: 'Apparaten',
    u_connections: 'verbindingen', u_dns_lookups: 'DNS-zoekopdrachten',
    u_device_hours: 'apparaaturen', u_devices: 'apparaten',
    signout: 'Afmelden', loading: 'Laden…', kpis: 'Kerncijfers',
    byDept: 'Gebruik per afdeling', bySvc: 'Gebruik per dienst',
    trendTitle: 'Verloop over de laatste weken',
    trendHint: '{1} per week, goedgekeurd en schaduw-AI',
    sanctTitle: 'Goedgekeurde AI en schaduw-AI',
    sanctHint: 'aandeel verbindingen in de week',
    newTitle: 'Nieuwe diensten deze week', newHint: 'niet gezien in de 4 weken ervoor',
    healthTitle: 'Sensorstatus en blinde vlekken',
    close: 'Sluiten', drillTitle: 'Afdeling: {1}',
    drillHint: '{1} per categorie en de diensten in {2}',
    drillPick: 'Klik op een afdeling voor haar diensten en categorieën',
    loginTitle: 'Aanmelden bij aicensus',
    login1: 'Plak het API-token: de inhoud van het bestand dat',
    login2: 'in', login3: ' noemt. Het blijft alleen in dit browsertabblad bewaard.',
    tokenLabel: 'API-token', loginOpen: 'Dashboard openen',
    tokenRejected: 'Dat token is niet geaccepteerd.',
    footer: 'Cijfers worden eenmaal per afgesloten dag en ISO-week ' +
      'vrijgegeven, per afdeling en dienst, en zo verstoord dat een groep ' +
      'kleiner dan het minimum niet van geen te onderscheiden is: – betekent ' +
      '0 of te weinig apparaten om te tonen. Rijen hoeven niet op te tellen. ' +
      'Een apparaat wordt geteld als een gesleutelde hash van zijn adres, ' +
      'nooit op het adres zelf.',
    geLegend: '≥ ten minste: het vrijgegeven totaal is groter dan de som van ' +
      'de getoonde delen, en delen met – zijn 0 of groepen die te klein zijn ' +
      'om te tonen; een som daarover is een ondergrens.',
    sumLine: 'som van de delen {1} · vrijgegeven totaal {2}',
    drillSum: 'som van haar diensten · haar vrijgegeven totaal {1}',
    perDay: 'per vrijgegeven dag', inWeek: 'in de week',
    k_conns: 'Verbindingen', k_devices: 'Verschillende apparaten',
    k_devicesSub: 'in de week, alle afdelingen', k_services: 'Diensten in gebruik',
    k_servicesSub: '{1} goedgekeurd · {2} schaduw', k_share: 'Aandeel schaduw-AI',
    k_shareSub: '{1} verbindingen met schaduwdiensten', k_sensor: 'Sensor',
    capturing: 'Actief', offline: 'Offline', ifLost: 'Interface kwijt',
    upNoRelease: 'actief {1}, geen vrijgave sinds de start',
    lastRelease: 'laatste vrijgave {1}',
    agoS: '{1} s geleden', agoMin: '{1} min geleden', agoH: '{1} uur geleden',
    agoD: '{1} dagen geleden',
    dH: 'u',
    emptyZero: 'Elk vrijgegeven cijfer is 0 (of te weinig apparaten om te tonen)',
    emptyNone: 'Voor deze week is nog niets vrijgegeven',
    others: '{1} overige', partial: '(onvolledig)',
    donutSub: 'schaduw', sanctioned: 'goedgekeurd', shadow: 'schaduw',
    shadowLong: 'schaduw-AI (niet goedgekeurd)',
    noDept: 'Geen afdeling in het vrijgegeven raster.',
    topShadow: 'Meest gebruikte schaduwdiensten',
    noNew: 'Deze week is geen dienst voor het eerst gebruikt.',
    h_service: 'Dienst', h_category: 'Categorie', h_status: 'Status',
    h_conns: 'Verb.', h_devices: 'Apparaten', h_week: 'Week', h_total: 'Totaal',
    h_share: 'Aandeel schaduw',
    firstWeek: 'Dit is de eerste vrijgegeven week, dus elke dienst in gebruik is nieuw.',
    more: 'en nog {1}',
    serving: 'Levert', servingWhat: 'de vrijgave {1}', capture: 'Meting',
    captureOn: 'op {1}', uptime: 'Looptijd', lastPacket: 'Laatste pakket',
    noneYet: 'nog geen', packets: 'Pakketten sinds de start',
    drops: 'Verloren bij de meting', lastFlush: 'Laatst weggeschreven',
    lastReleased: 'Laatst vrijgegeven', minGroup: 'Min. groepsgrootte',
    blindHint: 'blinde vlekken, {1} vrijgegeven dag(en) van {2}',
    b_dropped: 'Verloren vóór het tellen', b_ech: 'ECH, dienst onbekend',
    b_nosni: 'ClientHello zonder naam', b_unreadable: 'ClientHello onleesbaar',
    b_overlap: 'Tegenstrijdige kopieën (niet geteld)',
    b_doh: 'DNS-over-HTTPS-verbindingen', b_malformed: 'Misvormde pakketten',
    b_lost: 'Tellingen verloren (geheugen vol)',
    b_ignored: 'Genegeerde zoekopdrachten (resolver)',
    b_late: 'Na de vrijgave binnengekomen', b_head: 'Wat de sensor niet kon tellen',
    b_of: 'van {1} pakketten',
    sitePrefix: 'Locatie {1}. ',
    privacy: 'Minimale groepsgrootte {1}: elk cijfer wordt eenmaal ' +
      'vrijgegeven, per afgesloten dag of ISO-week, met een kleine ' +
      'willekeurige verstoring (cell-key-methode); een groep van minder ' +
      'apparaten verschijnt als – (0) of als ten minste het minimum, en ' +
      'rijen hoeven niet op te tellen. ',
    released: '{1}: {2} cellen afdeling × dienst, vrijgegeven {3} UTC',
    partialWeek: ' (onvolledige week).',
    notReleased: '{1}: de week is nog niet vrijgegeven; de tot nu toe vrijgegeven dagen staan hier.',
    nothingYet: 'Er is nog niets vrijgegeven: cijfers verschijnen zodra de eerste dag is afgesloten.',
    loadFailed: 'De gegevens konden niet worden geladen: ',
    silent: ' (stil)', nothingReleased: ' – niets vrijgegeven',
    unassigned: 'niet toegewezen',
    cat_chat: 'Chatassistenten', cat_api: "API's", cat_code: 'Programmeren',
    cat_image: 'Beeld', cat_audio: 'Audio en spraak', cat_video: 'Video',
    cat_writing: 'Schrijven en vertalen', cat_search: 'Zoeken',
    cat_agent: 'Agents', cat_other: 'Overig',
  },
};

const LANGS = Object.keys(STR);

/* t('key', a, b): the string in the page's language, {1} {2} filled in */
function t(key, ...args) {
  const s = STR[state.lang][key] !== undefined ? STR[state.lang][key] :
    STR.en[key];
  return s.replace(/\{(\d)\}/g, (m, i) => String(args[Number(i) - 1]));
}

const unit = () => t('u_' + state.metric);
const deptName = (n) => (n === 'unassigned' ? t('unassigned') : n);
const catName = (c) => (STR.en['cat_' + c] ? t('cat_' + c) : c);

const state = {
  lang: 'en',
  langChosen: false,   /* chosen in this browser: the configuration yields */
  week: null,
  interval: 'day',
  metric: 'connections',
  dept: '',            /* the department drilled into, '' none */
  weeks: [],           /* released ISO weeks, ascending */
  days: [],            /* released days: period objects */
  services: new Map(), /* id -> service */
  deptColor: new Map(),
  svcColor: new Map(),
  site: '',            /* '' the organisation; or a site's name */
  data: null,          /* the answers for the current view */
  ge: false,           /* a "≥" is on the page: show the legend line */
  loading: 0,
};

/* --- numbers in the page's language ------------------------------------ */

const locale = () => (state.lang === 'nl' ? 'nl-NL' : 'en-GB');
const NF = {};
function nfmt(opts) {
  const k = state.lang + JSON.stringify(opts || {});
  if (!NF[k]) NF[k] = new Intl.NumberFormat(locale(), opts);
  return NF[k];
}
const num = (v) => nfmt().format(v);
/* one glyph for every zero: nothing, or too few devices to show */
const fig = (v) => (v ? num(v) : '–');
/* a share 0..1: "12.5%" or "12,5%" (as the Dutch report writes it) */
function pct(frac) {
  const s = nfmt({ minimumFractionDigits: 1, maximumFractionDigits: 1 })
    .format(100 * frac);
  return s + '%';
}

function short(v) {
  const one = nfmt({ maximumFractionDigits: 1 });
  if (v >= 1e9) return one.format(v / 1e9) + 'G';
  if (v >= 1e6) return one.format(v / 1e6) + 'M';
  if (v >= 1e4) return num(Math.round(v / 1e3)) + 'k';
  if (v >= 1e3) return one.format(v / 1e3) + 'k';
  return nfmt({ maximumFractionDigits: 2 }).format(v);
}

/*
 * "≥ " before a sum that is a lower bound, and the legend line shown.
 * Never before a zero: "≥ 0" says nothing a reader could use (the
 * parts are all "–" then, and the released total stands beside them).
 */
function ge(lower, v, fmt = fig) {
  if (!lower || !(v > 0)) return fmt(v);
  state.ge = true;
  return GE + fmt(v);
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

/* a table that scrolls inside its own box on a narrow screen */
function scroller(table) {
  const w = el('div', { class: 'tablewrap' });
  w.appendChild(table);
  return w;
}

/* --- the language: static strings, the switch ------------------------- */

function applyLang() {
  document.documentElement.lang = state.lang;
  for (const n of document.querySelectorAll('[data-i18n]')) {
    n.textContent = t(n.dataset.i18n);
  }
  for (const n of document.querySelectorAll('[data-i18n-aria]')) {
    n.setAttribute('aria-label', t(n.dataset.i18nAria));
  }
  for (const b of $('lang').querySelectorAll('button')) {
    b.classList.toggle('on', b.dataset.v === state.lang);
    b.setAttribute('aria-pressed', b.dataset.v === state.lang ? 'true' : 'false');
  }
  const o = $('site').querySelector('option[value=""]');
  if (o) o.textContent = t('wholeOrg');
}

function setLang(lang, chosen) {
  if (!LANGS.includes(lang)) return;
  state.lang = lang;
  if (chosen) {
    state.langChosen = true;
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode */ }
  }
  applyLang();
  if (state.data) {
    renderWeek();
    renderAll();
  }
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

const dayName = (d) => d.toLocaleDateString(locale(),
  { weekday: 'short', day: 'numeric', timeZone: 'UTC' });
const dateShort = (d) => d.toLocaleDateString(locale(),
  { day: 'numeric', month: 'short', timeZone: 'UTC' });

function ago(sec) {
  if (sec < 90) return t('agoS', Math.max(0, Math.round(sec)));
  if (sec < 5400) return t('agoMin', Math.round(sec / 60));
  if (sec < 172800) return t('agoH', Math.round(sec / 3600));
  return t('agoD', Math.round(sec / 86400));
}

function duration(sec) {
  const d = Math.floor(sec / 86400), h = Math.floor(sec % 86400 / 3600),
    m = Math.floor(sec % 3600 / 60);
  if (d) return d + ' d ' + h + ' ' + t('dH');
  if (h) return h + ' ' + t('dH') + ' ' + m + ' min';
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
  sel.appendChild(el('option', { value: '' }, t('wholeOrg')));
  for (const s of answer.sites) {
    const o = el('option', { value: s.name },
      s.name + (s.silent ? t('silent') : '') + (s.released ? '' : t('nothingReleased')));
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
  if (METRIC_KEYS.includes(p.get('metric'))) state.metric = p.get('metric');
  if (/^[^\u0000-\u001f]{1,64}$/.test(p.get('dept') || '')) state.dept = p.get('dept');
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
  if (state.dept) p.set('dept', state.dept);
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
 * Which sums of a chart are lower bounds.  slots: [{key}], series as
 * seriesFrom() gives them (zeros: the slots where a part is "–"),
 * totals: Map(slot -> the released total of that slot) or null.  A slot
 * is short when its total is more than the sum of its parts and one of
 * them is "–"; a series' sum is a lower bound when it is "–" in a short
 * slot, the sum of all parts when any slot is short.
 */
function lowerBounds(slots, series, zeroSlots, totals) {
  const lacking = new Set();
  if (totals) {
    for (const s of slots) {
      const parts = series.reduce((a, se) => a + (se.values.get(s.key) || 0), 0);
      if ((totals.get(s.key) || 0) > parts && zeroSlots.has(s.key)) lacking.add(s.key);
    }
  }
  for (const se of series) {
    se.lower = [...se.zeros].some((k) => lacking.has(k));
  }
  return lacking;
}

/*
 * Stacked bars.  slots: [{key, label, title, major}], series:
 * [{key, name, color, values: Map(key -> n), zeros: Set(key)}];
 * totals (optional): Map(key -> released total), for the sum line and
 * the "≥" marks; pick (optional): called with a series' key on a click.
 */
function stackedBars(box, o) {
  box.textContent = '';
  const W = Math.max(box.clientWidth || 600, 300), H = 236;
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
  /* labels thinned out so that they never collide on a narrow chart */
  const every = Math.max(1, Math.ceil(o.slots.length * 58 / iw));
  o.slots.forEach((s, i) => {
    const x = m.l + i * band + (band - bw) / 2;
    let acc = 0;
    for (const se of o.series) {
      const v = se.values.get(s.key) || 0;
      if (!v) continue;
      const y0 = y(acc), y1 = y(acc + v);
      acc += v;
      const r = titled(svg('rect', { class: 'bar' + (o.pick ? ' pick' : ''),
        x: x.toFixed(2), y: y1.toFixed(2), width: bw.toFixed(2),
        height: Math.max(0.5, y0 - y1).toFixed(2), fill: se.color,
        'data-chart': o.id, 'data-series': se.key, 'data-period': s.key,
        'data-value': v }), `${se.name} · ${s.title}: ${num(v)} ${o.unit}`);
      if (o.pick && se.key !== 'others') r.addEventListener('click', () => o.pick(se.key));
      bars.appendChild(r);
    }
    if (s.major && i % every === 0) {
      axis.appendChild(svg('text', { x: (m.l + i * band +
        (o.slots.length > 40 ? 2 : band / 2)).toFixed(1), y: H - 12,
      'text-anchor': o.slots.length > 40 ? 'start' : 'middle' }, s.label));
    }
  });
  root.appendChild(axis);
  root.appendChild(bars);
  if (!totals.some((v) => v > 0)) {
    root.appendChild(svg('text', { class: 'empty', x: m.l + iw / 2,
      y: m.t + ih / 2, 'text-anchor': 'middle' },
    o.slots.length ? t('emptyZero') : t('emptyNone')));
  }
  box.appendChild(root);

  const short_ = o.totals ? lowerBounds(o.slots, o.series, o.zeroSlots, o.totals)
    : new Set();
  const legend = el('div', { class: 'legend', 'data-legend': o.id });
  for (const se of o.series) {
    const total = o.slots.reduce((a, s) => a + (se.values.get(s.key) || 0), 0);
    const pick = o.pick && se.key !== 'others';
    const item = pick ? el('button', { type: 'button', class: 'pick',
      'data-series': se.key }) : el('span', { 'data-series': se.key });
    if (pick && se.key === o.picked) item.classList.add('on');
    const sw = el('i');
    sw.style.background = se.color;
    const b = el('b', {}, ge(se.lower, total, short));
    if (se.lower && total > 0) item.dataset.ge = '1';
    item.append(sw, document.createTextNode(se.name + ' '), b);
    if (pick) item.addEventListener('click', () => o.pick(se.key));
    legend.appendChild(item);
  }
  box.appendChild(legend);
  if (o.totals) {
    const parts = totals.reduce((a, v) => a + v, 0);
    const rel = o.slots.reduce((a, s) => a + (o.totals.get(s.key) || 0), 0);
    const line = el('p', { class: 'sumline', 'data-sum': o.id,
      'data-parts': parts, 'data-total': rel });
    const lower = rel > parts && short_.size > 0;
    if (lower && parts > 0) line.dataset.ge = '1';
    line.textContent = t('sumLine', ge(lower, parts), fig(rel));
    box.appendChild(line);
  }
}

function donut(parts, center, sub) {
  const R = 56, r = 38, C = 64;
  const root = svg('svg', { viewBox: '0 0 128 128', role: 'img',
    'aria-label': t('sanctTitle'), 'data-chart': 'sanction' });
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
      'data-series': p.key, 'data-value': p.value }),
    `${p.name}: ${num(p.value)} (${pct(frac)})`));
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
  const sum = a + b;
  root.appendChild(svg('rect', { x: 0, y: 0, width: 100, height: 12, rx: 2,
    fill: '#eef2f6' }));
  if (sum) {
    const wa = 100 * a / sum;
    root.appendChild(titled(svg('rect', Object.assign({ x: 0, y: 0,
      width: wa.toFixed(2), height: 12, fill: SANCTIONED,
      'data-series': 'sanctioned', 'data-value': a }, attrs)),
    `${t('sanctioned')}: ${num(a)}`));
    root.appendChild(titled(svg('rect', Object.assign({ x: wa.toFixed(2),
      y: 0, width: (100 - wa).toFixed(2), height: 12, fill: UNSANCTIONED,
      'data-series': 'unsanctioned', 'data-value': b }, attrs)),
    `${t('shadow')}: ${num(b)}`));
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

function colorKey() {
  const k = el('div', { class: 'key' });
  for (const [label, color] of [[t('sanctioned'), SANCTIONED],
    [t('shadowLong'), UNSANCTIONED]]) {
    const s = el('span');
    const sw = el('i');
    sw.style.background = color;
    s.append(sw, document.createTextNode(label));
    k.appendChild(s);
  }
  return k;
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
      (p.complete ? '' : ' ' + t('partial')), major: true };
  });
}

/* period -> the measure, from the rows keep() accepts */
function totalsFrom(rows, keep) {
  const m = new Map();
  for (const r of rows) {
    if (keep && !keep(r)) continue;
    m.set(r.period, (m.get(r.period) || 0) + metricOf(r, state.metric));
  }
  return m;
}

/*
 * Series per key (department, service, category), the largest first;
 * zeros: per series the periods where its cell is "–" (the answers hold
 * the whole grid, zeros included), zeroSlots: every such period.
 */
function seriesFrom(rows, keyOf, nameOf, colorOf) {
  const by = new Map();
  const zeroSlots = new Set();
  for (const row of rows) {
    const k = row.period;
    const key = keyOf(row);
    if (!by.has(key)) by.set(key, { values: new Map(), zeros: new Set() });
    const e = by.get(key);
    const v = metricOf(row, state.metric);
    e.values.set(k, (e.values.get(k) || 0) + v);
    if (!v) { e.zeros.add(k); zeroSlots.add(k); }
  }
  let series = [...by.entries()].map(([key, e]) => ({
    key, name: nameOf(key), values: e.values, zeros: e.zeros,
    color: colorOf(key),
    total: [...e.values.values()].reduce((a, b) => a + b, 0),
  })).filter((s) => s.total > 0).sort((a, b) => b.total - a.total);
  if (series.length > MAX_SERIES) {
    const rest = series.slice(MAX_SERIES - 1);
    const values = new Map(), zeros = new Set();
    for (const s of rest) {
      for (const [k, v] of s.values) values.set(k, (values.get(k) || 0) + v);
      for (const k of s.zeros) zeros.add(k);
    }
    series = series.slice(0, MAX_SERIES - 1);
    series.push({ key: 'others', name: t('others', rest.length), values,
      zeros, color: OTHER_COLOR, total: 0 });
  }
  return { series, zeroSlots };
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

const isSanctioned = (id) => !!(state.services.get(id) || {}).sanctioned;

function badge(id) {
  const ok = isSanctioned(id);
  return el('span', { class: 'badge ' + (ok ? 'yes' : 'no') },
    ok ? t('sanctioned') : t('shadow'));
}

/* --- rendering -------------------------------------------------------- */

function kpi(label, value, sub, tone) {
  const k = el('div', { class: 'kpi' + (tone ? ' ' + tone : '') });
  k.append(el('div', { class: 'label' }, label),
    el('div', { class: 'value' }, value), el('div', { class: 'sub', title: sub }, sub));
  return k;
}

function renderKpis(d) {
  const box = $('kpis');
  box.textContent = '';
  /* the week's own released total: a cell of its own, not a sum */
  const tot = d.total.rows[0] || {};
  const svcs = d.svcWeek.rows.filter((r) => r.devices > 0);
  const sanct = svcs.filter((r) => isSanctioned(r.service));
  const sumOf = (rows) => rows.reduce((a, r) => a + (r.connections || 0), 0);
  const s = sumOf(sanct), u = sumOf(svcs) - s;
  /* the shadow connections are a sum of service cells: a lower bound
   * when the week's total is more than all of them and a shadow
   * service's cell is "–" */
  const lowerU = (tot.connections || 0) > sumOf(d.svcWeek.rows) &&
    d.svcWeek.rows.some((r) => !isSanctioned(r.service) && !r.connections);
  box.append(
    kpi(t('k_conns'), fig(tot.connections), `TLS ${fig(tot.tls_conns)} · ` +
      `QUIC ${fig(tot.quic_conns)} · ECH ${fig(tot.ech_conns)}`),
    kpi(t('k_devices'), fig(tot.devices), t('k_devicesSub')),
    kpi(t('k_services'), fig(svcs.length), t('k_servicesSub', num(sanct.length),
      num(svcs.length - sanct.length))),
    kpi(t('k_share'), s + u ? pct(u / (s + u)) : '–',
      t('k_shareSub', ge(lowerU, u)),
      s + u && u / (s + u) >= 0.5 ? 'warn' : ''),
  );
  const st = d.status;
  const healthy = st.capture === 'running' &&
    (st.last_flush.time === null || st.last_flush.ok);
  box.append(kpi(t('k_sensor'), st.capture === 'running' ? t('capturing')
    : st.capture === 'offline' ? t('offline') : t('ifLost'),
  st.last_release === null ? t('upNoRelease', duration(st.uptime_seconds))
    : t('lastRelease', ago(st.now - st.last_release)), healthy ? 'ok' : 'bad'));
}

function pickDept(name) {
  state.dept = state.dept === name ? '' : name;
  writeFragment();
  renderAll();
  if (state.dept) $('drill').scrollIntoView({ block: 'nearest' });
}

function renderCharts(d) {
  const common = { unit: unit() };
  const slots = slotsFor();
  const totals = totalsFrom(d.slotTot.rows);
  const dept = seriesFrom(d.deptSeries.rows, (r) => r.department, deptName,
    (n) => colorFor(state.deptColor, n));
  stackedBars($('chart-dept'), Object.assign({ id: 'department',
    title: t('byDept'), slots, totals, pick: pickDept, picked: state.dept },
  dept, common));
  const svc = seriesFrom(d.svcSeries.rows, (r) => svcName(r.service),
    (n) => n, (n) => colorFor(state.svcColor, n));
  stackedBars($('chart-svc'), Object.assign({ id: 'service',
    title: t('bySvc'), slots, totals }, svc, common));
  const per = state.interval === 'day' ? t('perDay') : t('inWeek');
  $('dept-hint').textContent = `${unit()} ${per} · ${t('drillPick')}`;
  $('svc-hint').textContent = `${unit()} ${per}`;
}

/* Sanctioned against shadow use per released week, the last weeks. */
function renderTrend(d) {
  const weeks = state.weeks.filter((w) => w <= state.week &&
    w >= shiftWeek(state.week, -(TREND_WEEKS - 1)) &&
    d.trendTot.rows.some((r) => r.period === w));
  const slots = weeks.map((w) => ({ key: w, label: w.slice(5), title: w,
    major: true }));
  const tr = seriesFrom(d.trend.rows, (r) => (isSanctioned(r.service) ?
    'sanctioned' : 'unsanctioned'), (k) => t(k === 'sanctioned' ? 'sanctioned'
    : 'shadow'), (k) => (k === 'sanctioned' ? SANCTIONED : UNSANCTIONED));
  /* sanctioned first, at the bottom of each bar, as in the report */
  tr.series.sort((a, b) => (a.key === 'sanctioned' ? -1 : b.key === 'sanctioned' ? 1 : 0));
  const totals = totalsFrom(d.trendTot.rows);
  stackedBars($('chart-trend'), Object.assign({ id: 'trend',
    title: t('trendTitle'), slots, totals, unit: unit() }, tr));
  $('trend-hint').textContent = t('trendHint', unit());
  const box = $('trend-table');
  box.textContent = '';
  if (!slots.length) return;
  const short_ = lowerBounds(slots, tr.series, tr.zeroSlots, totals);
  const table = el('table', { 'data-table': 'trend' });
  const head = el('tr');
  for (const [h, c] of [[t('h_week'), ''], [t('sanctioned'), 'num'],
    [t('shadow'), 'num'], [t('h_share'), 'num'], [t('h_total'), 'num']]) {
    head.appendChild(el('th', { class: c }, h));
  }
  table.appendChild(head);
  const val = (key, w) => {
    const se = tr.series.find((x) => x.key === key);
    return se ? se.values.get(w) || 0 : 0;
  };
  const zero = (key, w) => {
    const se = tr.series.find((x) => x.key === key);
    return se ? se.zeros.has(w) : true;
  };
  for (const s of slots.slice().reverse()) {
    const a = val('sanctioned', s.key), b = val('unsanctioned', s.key);
    const row = el('tr', { 'data-week': s.key });
    const cell = (v, key) => {
      const lower = short_.has(s.key) && zero(key, s.key) && v > 0;
      const c = el('td', { class: 'num' }, ge(lower, v));
      if (lower) c.dataset.ge = '1';
      return c;
    };
    row.append(el('td', {}, s.key), cell(a, 'sanctioned'), cell(b, 'unsanctioned'),
      el('td', { class: 'num' }, a + b ? pct(b / (a + b)) : '–'),
      el('td', { class: 'num' }, fig(totals.get(s.key) || 0)));
    table.appendChild(row);
  }
  box.appendChild(scroller(table));
}

/* One department: its categories per period, its services in the week. */
function renderDrill(d) {
  const card = $('drill');
  const name = state.dept;
  const rows = name ? d.cells.rows.filter((r) => r.department === name) : [];
  if (!name || !rows.length) {
    card.hidden = true;
    return;
  }
  card.hidden = false;
  card.dataset.department = name;
  $('drill-title').textContent = t('drillTitle', deptName(name));
  $('drill-hint').textContent = t('drillHint', t('m_' + state.metric), state.week);
  const slots = slotsFor();
  const catColor = new Map();
  const cats = seriesFrom(d.deptCat.rows.filter((r) => r.department === name),
    (r) => r.service.replace(/^cat:/, ''), catName, (c) => colorFor(catColor, c));
  const own = totalsFrom(d.deptSeries.rows, (r) => r.department === name);
  stackedBars($('chart-drill'), Object.assign({ id: 'drill', title:
    t('drillTitle', deptName(name)), slots, totals: own, unit: unit() }, cats));

  const box = $('drill-table');
  box.textContent = '';
  const used = rows.filter((r) => metricOf(r, state.metric) > 0)
    .sort((a, b) => metricOf(b, state.metric) - metricOf(a, state.metric));
  const table = el('table', { 'data-table': 'department-services' });
  const head = el('tr');
  for (const [h, c] of [[t('h_service'), ''], [t('h_category'), ''],
    [t('h_status'), ''], [t('m_' + state.metric), 'num']]) {
    head.appendChild(el('th', { class: c }, h));
  }
  table.appendChild(head);
  for (const r of used) {
    const s = state.services.get(r.service) || { name: r.service };
    const row = el('tr', { 'data-drill-service': r.service });
    const cat = el('td');
    cat.appendChild(el('span', { class: 'badge cat' }, catName(s.category || '')));
    const st = el('td');
    st.appendChild(badge(r.service));
    row.append(el('td', { class: 'svcname' }, s.name), cat, st,
      el('td', { class: 'num' }, fig(metricOf(r, state.metric))));
    table.appendChild(row);
  }
  /* the services' sum against the department's own weekly cell */
  const sum = used.reduce((a, r) => a + metricOf(r, state.metric), 0);
  const week = d.deptTot.rows.find((r) => r.department === name) || {};
  const whole = metricOf(week, state.metric);
  const lower = whole > sum && rows.some((r) => !metricOf(r, state.metric));
  const foot = el('tr', { class: 'sum' });
  const sc = el('td', { class: 'num' }, ge(lower, sum));
  if (lower && sum > 0) sc.dataset.ge = '1';
  foot.append(el('td', { colspan: 3 }, t('drillSum', fig(whole))), sc);
  table.appendChild(foot);
  box.appendChild(scroller(table));
  if (!used.length) box.appendChild(el('p', { class: 'muted' }, t('emptyZero')));
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
  const sum = s + u;
  wrap.appendChild(donut([
    { key: 'sanctioned', name: t('sanctioned'), value: s, color: SANCTIONED },
    { key: 'unsanctioned', name: t('shadow'), value: u, color: UNSANCTIONED },
  ], sum ? pct(u / sum) : '–', t('donutSub')));
  const bars = el('div', { class: 'hbars' });
  const rows = [...per.entries()].filter(([, [a, b]]) => a + b > 0)
    .sort((a, b) => (b[1][0] + b[1][1]) - (a[1][0] + a[1][1]));
  for (const [name, [a, b]] of rows) {
    const line = el('button', { type: 'button', class: 'hbar pick' +
      (name === state.dept ? ' on' : ''), 'data-department': name });
    line.append(el('span', { class: 'name', title: deptName(name) }, deptName(name)),
      splitBar(a, b, { 'data-department': name }),
      el('span', { class: 'pct' }, a + b ? pct(b / (a + b)) : '–'));
    line.addEventListener('click', () => pickDept(name));
    bars.appendChild(line);
  }
  if (!rows.length) bars.appendChild(el('p', { class: 'muted' }, t('noDept')));
  wrap.appendChild(bars);
  box.appendChild(wrap);
  /* the department × service cells against the week's own total */
  const whole = (d.total.rows[0] || {}).connections || 0;
  const lower = whole > sum && d.cells.rows.some((r) => !r.connections);
  const line = el('p', { class: 'sumline', 'data-sum': 'sanction',
    'data-parts': sum, 'data-total': whole });
  if (lower && sum > 0) line.dataset.ge = '1';
  line.textContent = t('sumLine', ge(lower, sum), fig(whole));
  box.appendChild(line);
  box.appendChild(colorKey());
  /* shadow AI: the unsanctioned services with the most use */
  const ranked = d.svcWeek.rows.filter((r) => !isSanctioned(r.service) &&
    r.connections > 0).sort((a, b) => b.connections - a.connections).slice(0, 4);
  if (ranked.length) {
    box.appendChild(el('h3', { class: 'sub' }, t('topShadow')));
    const list = el('div', { class: 'toplist' });
    for (const r of ranked) {
      const row = el('div', { class: 'hbar', 'data-unsanctioned': r.service });
      row.append(el('span', { class: 'name', title: svcName(r.service) }, svcName(r.service)),
        miniBar(r.connections / ranked[0].connections, UNSANCTIONED),
        el('span', { class: 'pct' }, short(r.connections)));
      list.appendChild(row);
    }
    box.appendChild(list);
  }
}

function renderNew(d) {
  const box = $('newsvc');
  box.textContent = '';
  const weeks = new Map();
  for (const r of d.history) {
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
    box.appendChild(el('p', { class: 'muted' }, t('noNew')));
    return;
  }
  const table = el('table', { 'data-table': 'new-services' });
  const head = el('tr');
  for (const [h, c] of [[t('h_service'), ''], [t('h_category'), ''],
    [t('h_status'), ''], [t('h_conns'), 'num'], [t('h_devices'), 'num']]) {
    head.appendChild(el('th', { class: c }, h));
  }
  table.appendChild(head);
  for (const r of fresh.slice(0, 7)) {
    const s = state.services.get(r.service) || { name: r.service, vendor: '' };
    const tr = el('tr', { 'data-service': r.service });
    const name = el('td');
    name.append(el('div', { class: 'svcname' }, s.name),
      el('div', { class: 'vendor' }, `${s.vendor}${s.jurisdiction ? ' · ' + s.jurisdiction : ''}`));
    const cat = el('td');
    cat.appendChild(el('span', { class: 'badge cat' }, catName(s.category || '')));
    const st = el('td');
    st.appendChild(badge(r.service));
    tr.append(name, cat, st, el('td', { class: 'num' }, fig(r.connections)),
      el('td', { class: 'num' }, fig(r.devices)));
    table.appendChild(tr);
  }
  box.appendChild(scroller(table));
  if (first) {
    box.appendChild(el('p', { class: 'muted' }, t('firstWeek')));
  } else if (fresh.length > 7) {
    box.appendChild(el('p', { class: 'muted' }, t('more', fresh.length - 7)));
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
    add(t('serving'), t('servingWhat', st.source) +
      (st.source === 'central' ? ` (${state.site || t('wholeOrg')})` : ''), 'ok');
  } else {
    add(t('capture'), st.capture === 'running' ? t('captureOn', st.interface || '?')
      : st.capture, st.capture === 'running' ? 'ok' : 'bad');
  }
  add(t('uptime'), duration(st.uptime_seconds));
  add(t('lastPacket'), st.last_packet === null ? t('noneYet') : ago(st.now - st.last_packet));
  add(t('packets'), num(st.packets));
  add(t('drops'), num(st.pcap_drops + st.if_drops),
    st.pcap_drops + st.if_drops ? 'warn' : 'ok');
  add(t('lastFlush'), st.last_flush.time === null ? t('noneYet')
    : ago(st.now - st.last_flush.time), st.last_flush.time === null ? ''
    : st.last_flush.ok ? 'ok' : 'bad');
  add(t('lastReleased'), `${st.last_released_week || '–'} · ${st.last_released_day || '–'}`);
  add(t('minGroup'), num(st.min_group_size));
  box.appendChild(kv);

  /* released B1 figures of the week's released days */
  const b = {};
  for (const day of d.blind.days) {
    for (const [k, v] of Object.entries(day)) {
      if (k !== 'day') b[k] = (b[k] || 0) + v;
    }
  }
  $('health-hint').textContent = t('blindHint', d.blind.days.length, state.week);
  const items = [
    ['dropped', (b.pcap_drops || 0) + (b.if_drops || 0)],
    ['ech', b.ech_unattributed || 0],
    ['nosni', b.nosni_conns || 0],
    ['unreadable', b.unreadable_hellos || 0],
    ['overlap', b.overlap_conflicts || 0],
    ['doh', b.doh_conns || 0],
    ['malformed', b.parse_failures || 0],
    ['lost', b.lost || 0],
    ['ignored', b.ignored || 0],
    ['late', b.late || 0],
  ];
  const max = Math.max(1, ...items.map((i) => i[1]));
  const table = el('table', { class: 'blind', 'data-table': 'blind-spots' });
  const head = el('tr');
  head.append(el('th', {}, t('b_head')), el('th'),
    el('th', { class: 'num' }, t('b_of', short(b.packets || 0))));
  table.appendChild(head);
  for (const [key, v] of items) {
    const tr = el('tr', { 'data-blind': key });
    const bar = el('td', { class: 'bar-cell' });
    bar.appendChild(miniBar(v / max, v ? '#c98b4a' : '#cfd6dd'));
    tr.append(el('td', {}, t('b_' + key)), bar, el('td', { class: 'num' }, fig(v)));
    table.appendChild(tr);
  }
  box.appendChild(scroller(table));
}

function renderAll() {
  const d = state.data;
  if (!d) return;
  state.ge = false;
  renderKpis(d);
  renderCharts(d);
  renderDrill(d);
  renderTrend(d);
  renderSanction(d);
  renderNew(d);
  renderHealth(d);
  $('ge-legend').hidden = !state.ge;
  $('ge-legend').textContent = t('geLegend');
  const p = d.cells.periods[0];
  $('privacy').className = 'notice';
  $('privacy').textContent = (state.site ? t('sitePrefix', state.site) : '') +
    t('privacy', d.minGroup) +
    (p ? t('released', state.week, num(d.cells.rows.length),
      new Date(p.released_at * 1000).toISOString().slice(0, 16).replace('T', ' ')) +
      (p.complete ? '.' : t('partialWeek'))
      : t('notReleased', state.week));
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
  const from = shiftWeek(w, -(TREND_WEEKS - 1));
  const [deptSeries, svcSeries, cells, total, svcWeek, trend, trendTot,
    slotTot, deptCat, deptTot, status, blind] = await Promise.all([
    usage({ week: w, by: 'department,' + lvl }),
    usage({ week: w, by: 'service,' + lvl }),
    usage({ week: w, by: 'department,service,week' }),
    usage({ week: w, by: 'week' }),
    usage({ week: w, by: 'service,week' }),
    usage({ from, to: w, by: 'service,week' }),
    usage({ from, to: w, by: 'week' }),
    usage({ week: w, by: lvl }),
    usage({ week: w, by: 'department,category,' + lvl }),
    usage({ week: w, by: 'department,week' }),
    api('/api/v1/status'),
    api(withSite('/api/v1/blind', { week: w })),
  ]);
  if (ticket !== state.loading) return;  /* a newer view won */
  /* new services: not seen in the 4 weeks before */
  const since = shiftWeek(w, -4);
  const history = trend.rows.filter((r) => r.period >= since);
  state.data = { deptSeries, svcSeries, cells, total, svcWeek, trend,
    trendTot, slotTot, deptCat, deptTot, history, status, blind,
    minGroup: cells.min_group_size || status.min_group_size };
  renderAll();
  $('main').setAttribute('aria-busy', 'false');
  document.body.dataset.ready = '1';
}

async function start() {
  try {
    await loadSites();
    const [periods, services, depts, status] = await Promise.all([
      api(withSite('/api/v1/periods')), api(withSite('/api/v1/services')),
      api(withSite('/api/v1/departments')), api('/api/v1/status')]);
    /* the configured language, unless one was chosen in this browser */
    if (!state.langChosen && LANGS.includes(status.language)) {
      setLang(status.language, false);
    }
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
      $('privacy').textContent = t('nothingYet');
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
    showLogin(e.message === 'rejected' ? t('tokenRejected') : '');
    return;
  }
  if (e instanceof CentralError) {
    $('privacy').className = 'notice';
    $('privacy').textContent = e.message;
    document.body.dataset.ready = '1';
    return;
  }
  $('privacy').className = 'notice error';
  $('privacy').textContent = t('loadFailed') + e.message;
}

function go(fn) {
  return () => { fn(); loadView().catch(fail); };
}

function step(n) {
  const i = state.weeks.indexOf(state.week) + n;
  if (i >= 0 && i < state.weeks.length) state.week = state.weeks[i];
}

function init() {
  let saved = null;
  try { saved = localStorage.getItem(LANG_KEY); } catch (e) { saved = null; }
  if (LANGS.includes(saved)) {
    state.lang = saved;
    state.langChosen = true;
  }
  applyLang();
  $('privacy').textContent = t('loading');
  readFragment();
  $('login-form').addEventListener('submit', onLogin);
  $('prev').addEventListener('click', go(() => step(-1)));
  $('next').addEventListener('click', go(() => step(1)));
  for (const b of $('interval').querySelectorAll('button')) {
    b.addEventListener('click', go(() => { state.interval = b.dataset.v; }));
  }
  for (const b of $('lang').querySelectorAll('button')) {
    b.addEventListener('click', () => setLang(b.dataset.v, true));
  }
  $('metric').addEventListener('change', go(() => { state.metric = $('metric').value; }));
  $('drill-close').addEventListener('click', () => pickDept(state.dept));
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
  let tm = null;
  window.addEventListener('resize', () => {
    clearTimeout(tm);
    tm = setTimeout(() => { if (state.data) renderAll(); }, 150);
  });
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    showLogin('');
    return;
  }
  start();
}

document.addEventListener('DOMContentLoaded', init);
