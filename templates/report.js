(function () {
  'use strict';
  var PAGE = 100;
  var SEVN = ['info', 'low', 'medium', 'high', 'critical'];
  var SVG = 'http://www.w3.org/2000/svg';
  var D;
  try {
    D = JSON.parse(document.getElementById('fs-data').textContent);
  } catch (e) {
    // Keep the markup rows (the no-JavaScript view) rather than nothing.
    document.documentElement.classList.remove('js');
    return;
  }
  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function fmt(n) { return n.toLocaleString('en-US'); }
  function debounce(fn, ms) { var t; return function () { clearTimeout(t); t = setTimeout(fn, ms); }; }
  function words(s) { return s.toLowerCase().split(/\s+/).filter(Boolean); }
  function hasAll(hay, ws) { for (var i = 0; i < ws.length; i++) if (hay.indexOf(ws[i]) < 0) return false; return true; }
  // Elements are built with textContent / setAttribute only: data is never parsed as HTML.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent) { for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(typeof arguments[i] === 'string' ? document.createTextNode(arguments[i]) : arguments[i]); return parent; }
  function td(cls, text) { return el('td', cls, text); }
  function link(href, cls, text) { var a = el('a', cls, text); a.setAttribute('href', href); return a; }
  function shortArn(arn) { var i = arn.lastIndexOf(':'); return i < 0 ? arn : arn.slice(i + 1); }
  function titled(e, title) { e.setAttribute('title', title); return e; }
  function nameCell(name, id) { return add(td(null, name), el('small', null, id)); }

  // A table whose rows live in an array; one page at a time is in the DOM.
  function Table(table, items, build, key, hay) {
    var self = this;
    this.table = table; this.body = table.tBodies[0];
    this.items = items; this.view = items; this.build = build; this.key = key; this.hay = hay;
    this.page = 0; this.countEl = null; this.noun = 'rows'; this.pred = null;
    this.pager = el('div', 'pager');
    var wrap = table.parentNode;
    wrap.parentNode.insertBefore(this.pager, wrap.nextSibling);
    this.pager.addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b) return;
      var last = Math.max(0, Math.ceil(self.view.length / PAGE) - 1);
      var go = { first: 0, prev: self.page - 1, next: self.page + 1, last: last }[b.getAttribute('data-go')];
      self.page = Math.min(Math.max(go, 0), last);
      self.render();
      wrap.scrollTop = 0;
    });
    all('th[data-sort]', table).forEach(function (th) {
      var col = Array.prototype.indexOf.call(th.parentNode.children, th);
      th.tabIndex = 0;
      var go = function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        if (!th.hasAttribute('aria-sort') && th.getAttribute('data-sort') !== '') dir = -1;
        all('th[aria-sort]', table).forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        self.sort(col, dir);
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    });
    table.classList.add('ready');
  }
  Table.prototype.sort = function (col, dir) {
    var key = this.key;
    var keyed = this.items.map(function (it, i) { return [key(it, col), i, it]; });
    keyed.sort(function (a, b) { return a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1]; });
    this.items = keyed.map(function (x) { return x[2]; });
    this.filter(this.pred);
  };
  Table.prototype.filter = function (pred) {
    this.pred = pred;
    this.view = pred ? this.items.filter(pred) : this.items;
    this.page = 0;
    this.render();
  };
  Table.prototype.search = function (text) {
    var ws = words(text), hay = this.hay;
    this.filter(ws.length ? function (it) { return hasAll(hay(it), ws); } : null);
  };
  Table.prototype.render = function () {
    var start = this.page * PAGE, slice = this.view.slice(start, start + PAGE), build = this.build;
    var frag = document.createDocumentFragment();
    slice.forEach(function (it) { frag.appendChild(it._tr || (it._tr = build(it))); });
    this.body.replaceChildren(frag);
    var n = this.view.length, pages = Math.ceil(n / PAGE);
    this.pager.replaceChildren();
    if (pages > 1) {
      this.pager.appendChild(el('span', null, 'Rows ' + fmt(start + 1) + '–' + fmt(start + slice.length) + ' of ' + fmt(n)));
      var page = this.page, pager = this.pager;
      [['first', '« First', page === 0], ['prev', '‹ Prev', page === 0], ['next', 'Next ›', page >= pages - 1], ['last', 'Last »', page >= pages - 1]].forEach(function (b) {
        var btn = el('button', null, b[1]);
        btn.type = 'button'; btn.setAttribute('data-go', b[0]); btn.disabled = b[2];
        pager.appendChild(btn);
      });
    }
    if (this.countEl) {
      this.countEl.textContent = n === this.items.length ? fmt(n) + ' ' + this.noun : fmt(n) + ' of ' + fmt(this.items.length) + ' ' + this.noun;
    }
  };

  // ---- Findings: [sev, check, account, region, suppressed, new, arn, subject, title, detail, evidence, id, suppression, cause]
  function findingRow(f) {
    var sev = SEVN[f[0]], ck = D.checks[f[1]], ac = D.accounts[f[2]];
    var summary = el('summary', null, f[8]);
    if (f[5]) add(summary, ' ', el('span', 'tag new', 'new'));
    if (f[4]) add(summary, ' ', el('span', 'tag sup', 'suppressed'));
    var fd = add(el('div', 'fd'), el('p', null, f[9]));
    if (f[10].length) {
      var dl = el('dl', 'ev');
      f[10].forEach(function (e) { add(dl, el('dt', null, e[0]), el('dd', null, e[1])); });
      fd.appendChild(dl);
    }
    if (f[12]) fd.appendChild(el('p', 'supp', 'Suppressed: ' + f[12]));
    if (f[13] !== null && f[13] !== undefined) {
      var cz = D.causes[f[13]];
      add(fd, add(el('p', 'doc'), 'Cause: ', link('#cause-' + cz[0], null, cz[1]), ' ', add(el('span', 'muted'), '(cause ', el('code', null, cz[0]), ')')));
    }
    add(fd, add(el('p', 'meta'), el('code', null, f[6]), f[7] ? ' · ' + f[7] : '', ' · id ', el('code', null, f[11])));
    add(fd, add(el('p', 'doc'), 'About this check: ', link('#check-' + ck[0], null, ck[1]), ' ', el('span', 'muted', '(' + ck[2] + ')')));
    add(fd, add(el('p', 'doc'), el('b', null, 'Why it matters: '), ck[3]));
    add(fd, add(el('p', 'doc'), el('b', null, 'How to fix: '), ck[4]));
    return add(el('tr'),
      add(td(), el('span', 'sev sev-' + sev, sev)),
      add(td(), link('#check-' + ck[0], 'ck', ck[0])),
      nameCell(ac[1], ac[0]),
      titled(td('ou', ac[2]), ac[2]),
      td('rg', D.regions[f[3]]),
      titled(td('res', shortArn(f[6])), f[6]),
      add(td(), add(el('details'), summary, fd)));
  }
  function findingKey(f, col) {
    var ac = D.accounts[f[2]];
    switch (col) {
      case 0: return f[0] * 2 + (f[4] ? 0 : 1); // open before suppressed at one severity
      case 1: return D.checks[f[1]][0];
      case 2: return ac[1].toLowerCase();
      case 3: return ac[2];
      case 4: return D.regions[f[3]];
      case 5: return shortArn(f[6]);
      default: return f[8];
    }
  }
  function findingHay(f) {
    if (f._t === undefined) {
      var ac = D.accounts[f[2]];
      f._t = [ac[0], ac[1], ac[2], D.regions[f[3]], D.checks[f[1]][0], f[6], f[7], f[8], f[9], f[11], SEVN[f[0]], f[13] !== null ? D.causes[f[13]][0] : '']
        .concat(f[10].map(function (e) { return e[0] + ' ' + e[1]; })).join(' ').toLowerCase();
    }
    return f._t;
  }

  // ---- Apps: [account, region, name, arn, status, runtime, cp, interval, pause, cfg, snaps, latest,
  //            failed, failed_n, maxdur, maxdur_n, role, boundary, key_type, key_arn, findings, chart, health]
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function spark(c) {
    var s = svg('svg', { 'class': 'spark', viewBox: '0 0 120 34', width: '120', height: '34', role: 'img' });
    var title = svg('title', {}); title.textContent = c[3]; s.appendChild(title);
    if (c[1] !== null) s.appendChild(svg('line', { 'class': 'iv', x1: '0', x2: '120', y1: c[1], y2: c[1] }));
    if (c[2]) c[2].split(' ').forEach(function (r) {
      var p = r.split(',');
      s.appendChild(svg('rect', { 'class': 'fl', x: p[0], y: p[1], width: '2', height: p[2] }));
    });
    s.appendChild(svg('path', { 'class': 'du', d: c[0] }));
    return s;
  }
  function onOff(on) { return el('span', on ? 'on' : 'off', on ? 'on' : 'off'); }
  function appRow(a) {
    var ac = D.accounts[a[0]];
    var dl = el('dl', 'kv');
    [['ARN', a[3]], ['Execution role', a[16] || '–'], ['Permissions boundary', a[17] || 'none']].forEach(function (kv) {
      add(dl, el('dt', null, kv[0]), add(el('dd'), el('code', null, kv[1])));
    });
    add(dl, el('dt', null, 'Encryption'), add(el('dd', null, a[18]), a[19] ? ' ' : '', a[19] ? el('code', null, a[19]) : null));
    add(dl, el('dt', null, 'Checkpoint config'), el('dd', null, a[9]));
    if (a[22] && a[22].length) {
      var hd = el('dd', 'health');
      a[22].forEach(function (h) { hd.appendChild(el('span', 'hev', h)); });
      add(dl, el('dt', null, 'AWS Health'), hd);
    }
    var cp = a[6] ? add(td(), onOff(true), ' ' + a[7], el('small', null, 'min pause ' + a[8])) : add(td(), onOff(false));
    var sn = a[10] ? add(td(), onOff(true), el('small', null, a[11] || 'no READY snapshot')) : add(td(), onOff(false));
    var failed = td('num' + (a[13] > 0 ? ' bad' : ''), a[12]);
    var found = td('num');
    if (a[20] > 0) {
      var l = link('#findings', null, String(a[20]));
      l.setAttribute('data-find', a[2]);
      found.appendChild(l);
    } else found.textContent = '0';
    return add(el('tr'),
      add(td(), add(el('details'), el('summary', null, a[2]), dl), a[22] && a[22].length ? titled(el('span', 'tag health', 'AWS Health'), 'AWS Health events in this account and region') : null),
      nameCell(ac[1], ac[0]),
      td('rg', D.regions[a[1]]),
      add(td(), el('span', 'st st-' + a[4], a[4])),
      td(null, a[5]),
      cp, sn, failed,
      td('num', a[14]),
      add(td(), a[21] ? spark(a[21]) : el('span', 'muted', 'no metrics')),
      found);
  }
  function appKey(a, col) {
    switch (col) {
      case 0: return a[2].toLowerCase();
      case 1: return D.accounts[a[0]][1].toLowerCase();
      case 2: return D.regions[a[1]];
      case 3: return a[4];
      case 4: return a[5];
      case 5: return a[6] ? a[7] : '';
      case 6: return a[10] ? a[11] : '';
      case 7: return a[13];
      case 8: return a[15];
      default: return a[20];
    }
  }
  function appHay(a) {
    if (a._t === undefined) {
      var ac = D.accounts[a[0]];
      a._t = [ac[0], ac[1], ac[2], D.regions[a[1]], a[2], a[3], a[4], a[5], a[9], a[16], a[17], a[18], a[19]].join(' ').toLowerCase();
    }
    return a._t;
  }

  // ---- Markup tables (coverage): rows are the items.
  function domKey(row, col) {
    var cell = row.cells[col];
    if (!cell) return '';
    return cell.hasAttribute('data-v') ? parseFloat(cell.getAttribute('data-v')) : cell.textContent.trim().toLowerCase();
  }
  function domHay(row) { if (row._t === undefined) row._t = row.textContent.toLowerCase(); return row._t; }

  var tables = {};
  all('table[data-src], table[data-paged]').forEach(function (t) {
    var src = t.getAttribute('data-src');
    if (src === 'findings') tables[t.id] = new Table(t, D.findings, findingRow, findingKey, findingHay);
    else if (src === 'apps') tables[t.id] = new Table(t, D.apps, appRow, appKey, appHay);
    else tables[t.id] = new Table(t, Array.prototype.slice.call(t.tBodies[0].rows), function (r) { return r; }, domKey, domHay);
    tables[t.id].noun = t.getAttribute('data-noun') || src || 'rows';
  });

  // ---- Findings filters.
  var form = document.getElementById('ff');
  var ft = tables.ft;
  if (form && ft) {
    ft.countEl = form.querySelector('[data-count]');
    var apply = function () {
      var v = function (n) { return form.elements[n].value.trim(); };
      var sev = SEVN.indexOf(v('sev')), check = v('check'), region = v('region'), status = v('status'), ou = v('ou');
      var acct = v('acct').toLowerCase(), ws = words(v('q'));
      var any = sev >= 0 || check || region || status || ou || acct || ws.length;
      ft.filter(any ? function (f) {
        var ac = D.accounts[f[2]];
        if (sev >= 0 && f[0] !== sev) return false;
        if (check && D.checks[f[1]][0] !== check) return false;
        if (region && D.regions[f[3]] !== region) return false;
        if (status === 'open' && f[4]) return false;
        if (status === 'suppressed' && !f[4]) return false;
        if (status === 'new' && !f[5]) return false;
        if (ou && ac[2] !== ou && ac[2].indexOf(ou + '/') !== 0) return false;
        if (acct && (ac[1] + ' (' + ac[0] + ')').toLowerCase().indexOf(acct) < 0) return false;
        return !ws.length || hasAll(findingHay(f), ws);
      } : null);
    };
    var later = debounce(apply, 120);
    form.addEventListener('input', later);
    form.addEventListener('change', later);
    form.addEventListener('reset', function () { setTimeout(apply, 0); });
    form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
    all('.bars .bar').forEach(function (g) {
      g.addEventListener('click', function () {
        form.reset();
        form.elements.sev.value = g.getAttribute('data-sev');
        apply();
        document.getElementById('findings').scrollIntoView();
      });
    });
    document.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('a[data-find]');
      if (!a) return;
      form.reset();
      form.elements.q.value = a.getAttribute('data-find');
      apply();
    });
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) {
        e.preventDefault();
        form.elements.q.focus();
      }
    });
  }

  // ---- One search box for each other table.
  all('input[data-search]').forEach(function (input) {
    var t = tables[input.getAttribute('data-search')];
    if (!t) return;
    t.countEl = document.querySelector('[data-count-for="' + input.getAttribute('data-search') + '"]');
    input.addEventListener('input', debounce(function () { t.search(input.value); }, 120));
  });

  Object.keys(tables).forEach(function (id) { tables[id].render(); });
})();
