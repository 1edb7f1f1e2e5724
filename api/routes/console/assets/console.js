/* global document, setInterval */
// stockhold console: keeps every countdown ("in 4m 12s", "12s ago") ticking between
// refreshes. Served as a file (CSP script-src 'self'): no inline script anywhere.
(function () {
  'use strict';
  function relative(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    var text =
      s >= 3600
        ? Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm'
        : s >= 60
          ? Math.floor(s / 60) + 'm ' + (s % 60) + 's'
          : s + 's';
    return ms >= 0 ? 'in ' + text : text + ' ago';
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-until]').forEach(function (el) {
      var until = Date.parse(el.getAttribute('data-until'));
      if (!isNaN(until)) el.textContent = relative(until - now);
    });
  }
  setInterval(tick, 1000);
})();
