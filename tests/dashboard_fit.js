/*
 * Test harness for tests/e2e/dashboard.sh, never installed: loaded after
 * app.js by a copy of the dashboard's index.html (check.html), it waits
 * for the page, measures whether anything is wider than the window, then
 * switches the language with the EN/NL control and drills into the first
 * department by clicking its legend entry, measuring again each time.
 * The results go into <pre id="fitcheck"> as JSON, for --dump-dom.
 */
'use strict';
(function () {
  const res = [];

  function out() {
    let p = document.getElementById('fitcheck');
    if (!p) {
      p = document.createElement('pre');
      p.id = 'fitcheck';
      p.hidden = true;
      document.body.appendChild(p);
    }
    p.textContent = JSON.stringify(res);
  }

  /* what is wider than the window, outside a box that scrolls itself */
  function measure(tag) {
    const de = document.documentElement;
    const wide = [];
    for (const e of document.querySelectorAll('body *')) {
      if (e.closest('.tablewrap') || e.id === 'fitcheck') continue;
      const r = e.getBoundingClientRect();
      if (r.width > 0 && (r.right > de.clientWidth + 0.5 || r.left < -0.5)) {
        wide.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
          (typeof e.className === 'string' && e.className ?
            '.' + e.className.split(' ')[0] : ''));
      }
    }
    return { tag, lang: de.lang, innerWidth: window.innerWidth,
      clientWidth: de.clientWidth, scrollWidth: de.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth, wide: wide.slice(0, 8),
      nwide: wide.length, ge: document.querySelectorAll('[data-ge]').length,
      text: document.body.textContent.slice(0, 20000) };
  }

  function wait(cond, then, n) {
    if (cond()) then();
    else if (n > 0) setTimeout(() => wait(cond, then, n - 1), 50);
    else { res.push({ tag: 'timeout' }); out(); }
  }

  document.addEventListener('DOMContentLoaded', () => {
    wait(() => document.body.dataset.ready === '1', () => {
      res.push(measure('first'));
      const other = document.documentElement.lang === 'nl' ? 'en' : 'nl';
      document.querySelector('#lang button[data-v="' + other + '"]').click();
      res.push(measure('switched'));
      res.push({ tag: 'stored', value: localStorage.getItem('aicensus.lang') });
      const b = document.querySelector('#chart-dept [data-legend] button.pick');
      if (b) b.click();
      wait(() => !document.getElementById('drill').hidden, () => {
        const m = measure('drill');
        m.department = document.getElementById('drill').dataset.department;
        m.picked = b ? b.dataset.series : null;
        m.rows = document.querySelectorAll('[data-drill-service]').length;
        m.bars = document.querySelectorAll('rect[data-chart="drill"]').length;
        res.push(m);
        out();
      }, 40);
    }, 200);
  });
}());
