// perfcore's HTML report: the function table, the flamegraph, the latency histograms and
// the comparison table, drawn from the JSON in #perfcore-data. No dependency, no network.
function perfcoreFail(e) {
  document.body.dataset.error = String((e && (e.stack || e.message)) || e);
}
window.addEventListener('error', function (ev) { perfcoreFail(ev.error || ev.message); });
try {
(function () {
  'use strict';
  var body = document.body;
  var started = performance.now();

  // ---- formatting -------------------------------------------------------------------
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fmtNs(ns) {
    if (ns === null || ns === undefined || !isFinite(ns)) return '\u2014';
    var a = Math.abs(ns);
    if (a < 1e3) return ns.toFixed(0) + ' ns';
    if (a < 1e6) return (ns / 1e3).toFixed(1) + ' \u00b5s';
    if (a < 1e9) return (ns / 1e6).toFixed(2) + ' ms';
    return (ns / 1e9).toFixed(2) + ' s';
  }
  function fmtInt(n) {
    if (n === null || n === undefined) return '\u2014';
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  function fmtPct(f, digits) {
    if (f === null || f === undefined || !isFinite(f)) return '\u2014';
    return (f * 100).toFixed(digits === undefined ? 1 : digits) + '%';
  }
  function fmtBytes(b) {
    if (b === null || b === undefined || !isFinite(b)) return '\u2014';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return i === 0 ? b.toFixed(0) + ' B' : b.toFixed(1) + ' ' + units[i];
  }
  function fmtSigned(p) {
    if (p === null || p === undefined || !isFinite(p)) return '\u2014';
    return (p > 0 ? '+' : '') + p.toFixed(1) + '%';
  }
  function fmtP(p) {
    if (p === null || p === undefined || !isFinite(p)) return '\u2014';
    if (p === 0) return '< 1e-300';
    return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
  }

  // A stable warm colour per name (FNV-1a hash -> red, orange, yellow).
  function hash(s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }
  function warm(name) {
    var h = hash(name);
    var v1 = (h & 255) / 255, v2 = ((h >>> 8) & 255) / 255, v3 = ((h >>> 16) & 255) / 255;
    var r = 205 + Math.round(50 * v3), g = Math.round(90 + 130 * v1), b = Math.round(30 + 45 * v2);
    return 'rgb(' + r + ',' + g + ',' + b + ')';
  }

  // ---- a sortable, filterable table that renders one page of rows at a time ------------
  // spec: {table, filterInput, count, more, n, cols: [{key, label, value(i), html(i), text}],
  //        names: [lowercase name per row], sort: {key, desc}, rowAttrs(i), onRow(i)}
  var PAGE = 200;
  function Table(spec) {
    var self = this;
    self.spec = spec;
    self.order = [];
    self.shown = PAGE;
    self.sortKey = spec.sort.key;
    self.desc = spec.sort.desc;
    self.query = '';
    self.selected = -1;
    var head = '<tr>';
    spec.cols.forEach(function (c) {
      head += '<th data-key="' + esc(c.key) + '" class="' + (c.text ? 'text' : '') + '" title="Sort by ' +
        esc(c.label) + '">' + esc(c.label) + '</th>';
    });
    spec.table.tHead.innerHTML = head + '</tr>';
    spec.table.tHead.addEventListener('click', function (ev) {
      var th = ev.target.closest('th');
      if (!th) return;
      var key = th.dataset.key;
      self.sortBy(key, key === self.sortKey ? !self.desc : !self.col(key).text);
    });
    spec.table.tBodies[0].addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr && spec.onRow) spec.onRow(+tr.dataset.i);
    });
    if (spec.filterInput) {
      spec.filterInput.addEventListener('input', function () { self.filter(spec.filterInput.value); });
    }
    spec.more.addEventListener('click', function () { self.shown += PAGE; self.render(); });
    self.refresh();
  }
  Table.prototype.col = function (key) {
    for (var i = 0; i < this.spec.cols.length; i++) if (this.spec.cols[i].key === key) return this.spec.cols[i];
    throw new Error('no column ' + key);
  };
  Table.prototype.refresh = function () {
    var spec = this.spec, q = this.query, order = [];
    for (var i = 0; i < spec.n; i++) if (!q || spec.names[i].indexOf(q) >= 0) order.push(i);
    var col = this.col(this.sortKey), sign = this.desc ? -1 : 1, value = col.value;
    var keys = new Array(spec.n);
    order.forEach(function (i) { keys[i] = value(i); });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x === y) return a - b;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    });
    this.order = order;
    this.render();
  };
  Table.prototype.sortBy = function (key, desc) {
    this.col(key);
    this.sortKey = key;
    this.desc = desc === undefined ? true : !!desc;
    this.shown = PAGE;
    this.refresh();
  };
  Table.prototype.filter = function (text) {
    this.query = String(text || '').toLowerCase();
    this.shown = PAGE;
    this.refresh();
  };
  Table.prototype.render = function () {
    var spec = this.spec, self = this, rows = [];
    var end = Math.min(this.shown, this.order.length);
    for (var r = 0; r < end; r++) {
      var i = this.order[r];
      var extra = spec.rowAttrs ? spec.rowAttrs(i) : { attrs: '', cls: '' };
      var cls = (extra.cls + (i === this.selected ? ' selected' : '')).trim();
      var tr = '<tr data-i="' + i + '"' + extra.attrs + (cls ? ' class="' + cls + '"' : '') + '>';
      spec.cols.forEach(function (c) { tr += '<td class="' + (c.cls || '') + '">' + c.html(i) + '</td>'; });
      rows.push(tr + '</tr>');
    }
    spec.table.tBodies[0].innerHTML = rows.join('');
    Array.prototype.forEach.call(spec.table.tHead.rows[0].cells, function (th) {
      th.classList.toggle('sorted', th.dataset.key === self.sortKey);
      th.classList.toggle('asc', th.dataset.key === self.sortKey && !self.desc);
    });
    spec.more.hidden = end >= this.order.length;
    spec.more.textContent = 'Show ' + Math.min(PAGE, this.order.length - end) + ' more';
    if (spec.count) {
      spec.count.textContent = (this.order.length === spec.n ? fmtInt(spec.n) + ' functions'
        : fmtInt(this.order.length) + ' of ' + fmtInt(spec.n) + ' functions') +
        (end < this.order.length ? ', showing ' + fmtInt(end) : '');
    }
  };
  Table.prototype.select = function (i) {
    this.selected = i;
    var trs = this.spec.table.tBodies[0].rows;
    for (var r = 0; r < trs.length; r++) trs[r].classList.toggle('selected', +trs[r].dataset.i === i);
  };

  // ---- data -----------------------------------------------------------------------------
  var D = JSON.parse(document.getElementById('perfcore-data').textContent);
  var F = D.functions, T = D.tree;
  var nF = F.name.length;
  var lowerNames = F.name.map(function (s) { return s.toLowerCase(); });

  // ---- function table --------------------------------------------------------------------
  var totalSelf = D.total_self_ns || 0;
  function num(arr, fmt) {
    return { value: function (i) { return arr[i]; }, html: function (i) { return fmt(arr[i]); } };
  }
  function column(key, label, arr, fmt, extra) {
    var c = num(arr, fmt);
    c.key = key; c.label = label;
    for (var k in extra || {}) c[k] = extra[k];
    return c;
  }
  var fnCols = [
    { key: 'name', label: 'Function', text: true, cls: 'name text',
      value: function (i) { return lowerNames[i]; },
      html: function (i) {
        var where = F.module[i] + (F.file[i] ? ' \u2014 ' + F.file[i] + ':' + F.line[i] : '');
        return '<span title="' + esc(F.name[i] + '\n' + where) + '">' + esc(F.name[i]) + '</span>';
      } },
    column('calls', 'Calls', F.calls, fmtInt),
    column('errors', 'Errors', F.errors, fmtInt, { cls: 'errors' }),
    column('total', 'Total', F.total, fmtNs),
    column('self', 'Self', F.self, fmtNs),
    { key: 'self_pct', label: 'Self %',
      value: function (i) { return totalSelf ? F.self[i] / totalSelf : 0; },
      html: function (i) {
        var s = totalSelf ? F.self[i] / totalSelf : 0;
        return '<span class="share" style="width:' + Math.max(1, Math.round(s * 48)) + 'px"></span>' + fmtPct(s);
      } },
    column('mean', 'Mean', F.mean, fmtNs),
    column('p50', 'p50', F.p50, fmtNs),
    column('p95', 'p95', F.p95, fmtNs),
    column('p99', 'p99', F.p99, fmtNs),
    column('max', 'Max', F.max, fmtNs),
    column('bytes_per_call', 'Bytes/call', F.bytes_per_call, fmtBytes)
  ];
  var fnTable = new Table({
    table: document.getElementById('fn-table'),
    filterInput: document.getElementById('fn-filter'),
    count: document.getElementById('fn-count'),
    more: document.getElementById('fn-more'),
    n: nF, cols: fnCols, names: lowerNames, sort: { key: 'self', desc: true },
    rowAttrs: function (i) { return { attrs: ' data-testid="fn-row"', cls: F.errors[i] ? 'has-errors' : '' }; },
    onRow: function (i) { selectFunction(i); }
  });

  // ---- histogram -------------------------------------------------------------------------
  function bucketWidth(v) {
    if (v < 128) return 1;
    var k = Math.floor(Math.log2(v));
    return Math.pow(2, k - 6);
  }
  function drawHistogram(i) {
    var svg = document.getElementById('hist-svg');
    var flat = F.histogram[i] || [];
    document.getElementById('hist-title').textContent = F.name[i];
    var sub = fmtInt(F.calls[i]) + ' calls';
    if (F.errors[i]) sub += ', ' + fmtInt(F.errors[i]) + ' failed';
    document.getElementById('hist-sub').textContent = sub;
    var W = svg.clientWidth || 370, H = 260, L = 44, R = 12, TOP = 22, B = 34;
    var pw = W - L - R, ph = H - TOP - B;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    if (flat.length < 2) {
      svg.innerHTML = '<text x="' + (W / 2) + '" y="' + (H / 2) + '" text-anchor="middle" class="tick">No calls recorded</text>';
      svg.dataset.bars = '0';
      return;
    }
    var lo = Infinity, hi = 0;
    for (var k = 0; k < flat.length; k += 2) {
      var v = flat[k];
      lo = Math.min(lo, Math.max(1, v));
      hi = Math.max(hi, v + bucketWidth(v));
    }
    if (hi <= lo * 1.5) { lo = lo / 1.25; hi = hi * 1.25; }
    var llo = Math.log10(lo), lhi = Math.log10(hi);
    var nb = Math.max(24, Math.min(60, Math.round((lhi - llo) * 24)));
    var bins = new Array(nb).fill(0);
    for (k = 0; k < flat.length; k += 2) {
      var mid = Math.max(1, flat[k] + bucketWidth(flat[k]) / 2);
      var b = Math.floor((Math.log10(mid) - llo) / (lhi - llo) * nb);
      bins[Math.max(0, Math.min(nb - 1, b))] += flat[k + 1];
    }
    // A y axis of round steps (1, 2 or 5 times a power of ten), at least one call apart.
    var peak = Math.max.apply(null, bins) || 1;
    var raw = Math.max(1, peak / 4), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (v) { return v >= raw; })[0];
    var maxCount = Math.ceil(peak / step) * step;
    function x(ns) { return L + (Math.log10(Math.max(ns, lo)) - llo) / (lhi - llo) * pw; }
    var out = [];
    for (var g = 0; g <= maxCount + 1e-9; g += step) {
      var y = TOP + ph - ph * g / maxCount;
      out.push('<line class="grid" x1="' + L + '" x2="' + (L + pw) + '" y1="' + y + '" y2="' + y + '"/>');
      out.push('<text class="tick" x="' + (L - 6) + '" y="' + (y + 3) + '" text-anchor="end">' +
        fmtInt(Math.round(g)) + '</text>');
    }
    var bw = pw / nb, drawn = 0;
    bins.forEach(function (c, j) {
      if (!c) return;
      var h = Math.max(1, c / maxCount * ph);
      var from = Math.pow(10, llo + (lhi - llo) * j / nb), to = Math.pow(10, llo + (lhi - llo) * (j + 1) / nb);
      out.push('<rect class="bar" data-testid="hist-bar" x="' + (L + j * bw + 0.5).toFixed(1) + '" y="' +
        (TOP + ph - h).toFixed(1) + '" width="' + Math.max(1, bw - 1).toFixed(1) + '" height="' + h.toFixed(1) +
        '"><title>' + esc(fmtNs(from) + ' \u2013 ' + fmtNs(to) + ': ' + fmtInt(c) + ' calls') + '</title></rect>');
      drawn++;
    });
    // X axis: powers of ten, and 2x/5x when few decades are shown.
    out.push('<line class="axis" x1="' + L + '" x2="' + (L + pw) + '" y1="' + (TOP + ph) + '" y2="' + (TOP + ph) + '"/>');
    var steps = (lhi - llo) < 1 ? [1, 1.5, 2, 3, 5, 7] : (lhi - llo) < 2.2 ? [1, 2, 5] : [1];
    for (var e = Math.floor(llo); e <= Math.ceil(lhi); e++) {
      steps.forEach(function (m) {
        var t = m * Math.pow(10, e);
        if (t < lo || t > hi) return;
        var tx = x(t);
        out.push('<line class="axis" x1="' + tx + '" x2="' + tx + '" y1="' + (TOP + ph) + '" y2="' + (TOP + ph + 4) + '"/>');
        out.push('<text class="tick" x="' + tx + '" y="' + (TOP + ph + 16) + '" text-anchor="middle">' + esc(fmtNs(t).replace(/\.0+ /, ' ')) + '</text>');
      });
    }
    out.push('<text class="tick" x="' + (L + pw) + '" y="' + (H - 2) + '" text-anchor="end">latency (log scale)</text>');
    // Quantile markers, labels staggered so close ones stay readable.
    [['p50', F.p50[i]], ['p95', F.p95[i]], ['p99', F.p99[i]]].forEach(function (m, j) {
      var mx = x(m[1]);
      out.push('<line class="marker m-' + m[0] + '" data-testid="hist-marker" x1="' + mx + '" x2="' + mx +
        '" y1="' + (TOP - 4) + '" y2="' + (TOP + ph) + '"/>');
      var anchor = mx > L + pw - 60 ? 'end' : 'start';
      out.push('<text class="m-label m-' + m[0] + '" x="' + (mx + (anchor === 'end' ? -3 : 3)) + '" y="' +
        (TOP - 8 + j * 11) + '" text-anchor="' + anchor + '">' + m[0] + ' ' + esc(fmtNs(m[1])) + '</text>');
    });
    svg.innerHTML = out.join('');
    svg.dataset.bars = String(drawn);
    var aside = document.getElementById('hist');
    var dl = aside.querySelector('dl') || aside.appendChild(document.createElement('dl'));
    dl.innerHTML = [['min', fmtNs(F.min[i])], ['mean', fmtNs(F.mean[i])], ['p50', fmtNs(F.p50[i])],
      ['p95', fmtNs(F.p95[i])], ['p99', fmtNs(F.p99[i])], ['max', fmtNs(F.max[i])]]
      .map(function (p) { return '<dt>' + p[0] + '</dt><dd>' + p[1] + '</dd>'; }).join('');
  }
  function selectFunction(i) {
    if (!(i >= 0 && i < nF)) return;
    fnTable.select(i);
    drawHistogram(i);
    body.dataset.selected = F.name[i];
  }

  // ---- flamegraph ------------------------------------------------------------------------
  var nN = T.function.length, ROOT = nN;
  var parent = new Int32Array(nN + 1), depth = new Int32Array(nN + 1);
  var tot = new Float64Array(nN + 1);
  var rootTotal = 0, kids = [];
  for (var n = 0; n <= nN; n++) kids.push(null);
  parent[ROOT] = -1;
  for (n = 0; n < nN; n++) {
    var p = T.parent_back[n] ? n - T.parent_back[n] : ROOT;
    parent[n] = p;
    depth[n] = p === ROOT ? 1 : depth[p] + 1;
    tot[n] = T.total[n];
    if (p === ROOT) rootTotal += T.total[n];
    (kids[p] || (kids[p] = [])).push(n);
  }
  tot[ROOT] = rootTotal;
  kids.forEach(function (list) { if (list && list.length > 1) list.sort(function (a, b) { return tot[b] - tot[a]; }); });
  var maxDepth = 0;
  for (n = 0; n < nN; n++) if (depth[n] > maxDepth) maxDepth = depth[n];
  function nodeName(n) { return n === ROOT ? 'all' : F.name[T.function[n]]; }

  var flame = { zoom: ROOT, query: '', drawn: 0, matches: 0 };
  var svgF = document.getElementById('flame-svg'), tip = document.getElementById('flame-tip');
  var wrap = document.getElementById('flame-wrap');
  var ROW = 18;
  function drawFlame() {
    var W = Math.max(300, wrap.clientWidth - 2);
    var z = flame.zoom, q = flame.query;
    var chain = [];
    for (var a = z; a !== -1; a = parent[a]) chain.unshift(a);
    var base = chain.length - 1; // rows above the zoomed node
    var out = [], drawn = 0, matches = 0, deepest = base;
    function frame(n, x, w, row, above) {
      var name = nodeName(n);
      var cls = above ? 'above' : '';
      var isMatch = q && n !== ROOT && name.toLowerCase().indexOf(q) >= 0;
      if (isMatch) { cls += ' match'; matches++; }
      var y = row * ROW;
      var g = '<g data-n="' + n + '" data-testid="flame-frame"' + (cls ? ' class="' + cls.trim() + '"' : '') +
        '><rect x="' + x.toFixed(2) + '" y="' + y + '" width="' + w.toFixed(2) + '" height="' + (ROW - 1) +
        '" rx="1.5" fill="' + (n === ROOT ? '#f4c7a1' : warm(name)) + '"/>';
      if (w > 28) {
        var chars = Math.floor((w - 8) / 6.6);
        var label = name.length > chars ? name.slice(0, Math.max(1, chars - 1)) + '\u2026' : name;
        g += '<text x="' + (x + 4).toFixed(2) + '" y="' + (y + 12.5) + '">' + esc(label) + '</text>';
      }
      out.push(g + '</g>');
      drawn++;
    }
    for (var c = 0; c < base; c++) frame(chain[c], 0, W, c, true);
    if (tot[z] > 0) {
      var scale = W / tot[z];
      var stack = [[z, 0, base]];
      while (stack.length) {
        var item = stack.pop(), n0 = item[0], x0 = item[1], row0 = item[2];
        var w0 = tot[n0] * scale;
        if (w0 < 0.5) continue;
        frame(n0, x0, w0, row0, false);
        if (row0 > deepest) deepest = row0;
        var list = kids[n0];
        if (!list) continue;
        var cx = x0;
        for (var k = 0; k < list.length; k++) {
          var cw = tot[list[k]] * scale;
          if (cw < 0.5) break; // sorted widest first: the rest are narrower still
          stack.push([list[k], cx, row0 + 1]);
          cx += cw;
        }
      }
    } else {
      frame(z, 0, W, base, false);
    }
    var H = (deepest + 1) * ROW + 2;
    svgF.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svgF.setAttribute('height', String(H));
    svgF.innerHTML = out.join('');
    svgF.classList.toggle('searching', !!q);
    svgF.dataset.frames = String(drawn);
    svgF.dataset.nodes = String(nN);
    flame.drawn = drawn;
    flame.matches = matches;
    document.getElementById('flame-matches').textContent = q ? matches + ' frames match, ' + fmtPct(matchedShare(q)) + ' of the time' : '';
    var crumbs = chain.map(function (n, j) {
      return j === chain.length - 1 ? '<b>' + esc(nodeName(n)) + '</b>' : '<a data-n="' + n + '">' + esc(nodeName(n)) + '</a>';
    }).join(' \u203a ');
    document.getElementById('flame-crumbs').innerHTML = nN ? crumbs + ' \u00b7 ' + fmtNs(tot[z]) + ' wall time, ' + fmtInt(nN) + ' call paths' : 'No call tree was recorded (a snapshot built from measured results has none).';
  }
  // The share of the root's time inside frames that match (a match inside a match counts once).
  function matchedShare(q) {
    if (!rootTotal) return 0;
    var inMatch = new Uint8Array(nN + 1), sum = 0;
    for (var n = 0; n < nN; n++) {
      var p = parent[n];
      if (p !== ROOT && inMatch[p]) { inMatch[n] = 1; continue; }
      if (F.name[T.function[n]].toLowerCase().indexOf(q) >= 0) { inMatch[n] = 1; sum += tot[n]; }
    }
    return sum / rootTotal;
  }
  function zoom(n) {
    if (!(n >= 0 && n <= nN)) n = ROOT;
    flame.zoom = n;
    drawFlame();
  }
  function search(text) {
    flame.query = String(text || '').toLowerCase();
    drawFlame();
  }
  svgF.addEventListener('click', function (ev) {
    var g = ev.target.closest('g[data-n]');
    if (!g) return;
    var n = +g.dataset.n;
    zoom(n);
    if (n !== ROOT) selectFunction(T.function[n]);
  });
  svgF.addEventListener('mousemove', function (ev) {
    var g = ev.target.closest('g[data-n]');
    if (!g) { tip.hidden = true; return; }
    var n = +g.dataset.n, f = n === ROOT ? -1 : T.function[n];
    var rows = n === ROOT ? [['total', fmtNs(rootTotal)]] : [
      ['calls', fmtInt(T.calls[n])], ['total', fmtNs(T.total[n])], ['self', fmtNs(T.self[n])],
      ['of all', fmtPct(rootTotal ? T.total[n] / rootTotal : 0, 2)],
      ['of zoom', fmtPct(tot[flame.zoom] ? T.total[n] / tot[flame.zoom] : 0, 2)]];
    tip.innerHTML = '<div class="t-name">' + esc(nodeName(n)) + '</div><table>' +
      rows.map(function (r) { return '<tr><td>' + r[0] + '</td><td>' + r[1] + '</td></tr>'; }).join('') + '</table>' +
      (f >= 0 && F.module[f] ? '<div class="count">' + esc(F.module[f]) + '</div>' : '');
    tip.hidden = false;
    var box = wrap.getBoundingClientRect();
    var left = ev.clientX - box.left + wrap.scrollLeft + 14, top = ev.clientY - box.top + wrap.scrollTop + 14;
    if (left + tip.offsetWidth > wrap.clientWidth + wrap.scrollLeft) left = Math.max(0, left - tip.offsetWidth - 28);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  });
  svgF.addEventListener('mouseleave', function () { tip.hidden = true; });
  document.getElementById('flame-reset').addEventListener('click', function () { zoom(ROOT); });
  document.getElementById('flame-crumbs').addEventListener('click', function (ev) {
    var a = ev.target.closest('a[data-n]');
    if (a) zoom(+a.dataset.n);
  });
  var searchBox = document.getElementById('flame-search');
  searchBox.addEventListener('input', function () { search(searchBox.value); });
  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawFlame, 100);
  });

  // ---- comparison ------------------------------------------------------------------------
  var cmpTable = null, C = D.comparison;
  if (C && document.getElementById('cmp-table')) {
    var cmpNames = C.function.map(function (s) { return s.toLowerCase(); });
    var isLatency = function (m) { return m === 'median' || m === 'p95' || m === 'p99' || m === 'mean'; };
    var fmtValue = function (j, v) {
      var m = C.metric[j];
      if (v === null || v === undefined) return '\u2014';
      if (isLatency(m)) return fmtNs(v);
      if (m === 'error_rate') return fmtPct(v, 2);
      if (m === 'bytes_per_call') return fmtBytes(v);
      return String(v);
    };
    var verdictRank = { regressed: 0, improved: 1, new: 2, removed: 3, insufficient_data: 4, unchanged: 5 };
    cmpTable = new Table({
      table: document.getElementById('cmp-table'),
      filterInput: document.getElementById('cmp-filter'),
      count: document.getElementById('cmp-count'),
      more: document.getElementById('cmp-more'),
      n: C.function.length, names: cmpNames, sort: { key: 'rank', desc: false },
      cols: [
        { key: 'rank', label: '#', value: function (j) { return j; }, html: function (j) { return String(j + 1); } },
        { key: 'function', label: 'Function', text: true, cls: 'name text', value: function (j) { return cmpNames[j]; },
          html: function (j) { return '<span title="' + esc(C.function[j]) + '">' + esc(C.function[j]) + '</span>'; } },
        { key: 'verdict', label: 'Verdict', text: true, cls: 'text',
          value: function (j) { return verdictRank[C.verdict[j]]; },
          html: function (j) { return '<span class="badge v-' + esc(C.verdict[j]) + '">' + esc(C.verdict[j].replace('_', ' ')) + '</span>'; } },
        { key: 'metric', label: 'Metric', text: true, cls: 'text', value: function (j) { return C.metric[j]; },
          html: function (j) { return esc(C.metric[j] || '\u2014'); } },
        { key: 'before', label: 'Baseline', value: function (j) { return C.before[j]; }, html: function (j) { return fmtValue(j, C.before[j]); } },
        { key: 'after', label: 'Current', value: function (j) { return C.after[j]; }, html: function (j) { return fmtValue(j, C.after[j]); } },
        { key: 'change', label: 'Change', cls: 'change', value: function (j) { return C.change[j]; }, html: function (j) { return fmtSigned(C.change[j]); } },
        { key: 'interval', label: '95% interval', value: function (j) { return C.low[j]; },
          html: function (j) { return C.low[j] === null ? '\u2014' : '[' + fmtSigned(C.low[j]) + ', ' + fmtSigned(C.high[j]) + ']'; } },
        { key: 'p', label: 'p', value: function (j) { return C.p[j]; }, html: function (j) { return fmtP(C.p[j]); } },
        { key: 'q', label: 'q', value: function (j) { return C.q[j]; }, html: function (j) { return fmtP(C.q[j]); } },
        { key: 'calls', label: 'Calls', value: function (j) { return C.current_calls[j]; },
          html: function (j) { return fmtInt(C.baseline_calls[j]) + ' \u2192 ' + fmtInt(C.current_calls[j]); } },
        { key: 'reason', label: 'Why', text: true, cls: 'reason', value: function (j) { return C.reason[j]; },
          html: function (j) { return '<span title="' + esc(C.reason[j]) + '">' + esc(C.reason[j]) + '</span>'; } }
      ],
      rowAttrs: function (j) {
        var v = C.verdict[j];
        return { attrs: ' data-testid="cmp-row" data-verdict="' + esc(v) + '"',
          cls: C.regression[j] ? 'regressed' : v === 'improved' ? 'improved' : '' };
      },
      onRow: function (j) {
        var i = F.name.indexOf(C.function[j]);
        if (i >= 0) { selectFunction(i); document.getElementById('functions').scrollIntoView(); }
      }
    });
  }

  // ---- start -----------------------------------------------------------------------------
  // The histogram first: its layout is cheap before the flamegraph's frames exist.
  if (fnTable.order.length) selectFunction(fnTable.order[0]);
  drawFlame();

  var api = {
    sortBy: function (key, desc) { fnTable.sortBy(key, desc); return fnTable.order.slice(0, fnTable.shown).map(function (i) { return F.name[i]; }); },
    filter: function (text) { fnTable.spec.filterInput.value = text; fnTable.filter(text); return fnTable.order.length; },
    showMore: function () { fnTable.shown += PAGE; fnTable.render(); return fnTable.spec.table.tBodies[0].rows.length; },
    select: selectFunction,
    zoom: function (node) { zoom(node); return flame.drawn; },
    zoomTo: function (name) {
      var best = -1;
      for (var n = 0; n < nN; n++) if (F.name[T.function[n]] === name && (best < 0 || tot[n] > tot[best])) best = n;
      zoom(best < 0 ? ROOT : best);
      return best;
    },
    reset: function () { zoom(ROOT); return flame.drawn; },
    search: function (text) { searchBox.value = text; search(text); return flame.matches; },
    state: function () { return { zoom: flame.zoom, drawn: flame.drawn, matches: flame.matches, rows: fnTable.order.length }; }
  };
  window.perfcoreReport = api;
  body.dataset.initMs = (performance.now() - started).toFixed(0);

  // A scripted check for tests: #test-sort=KEY&test-filter=TEXT&test-zoom=NAME&test-search=TEXT
  // runs in that order and records each result in a data attribute of <body>.
  var hash0 = location.hash.replace(/^#/, '');
  if (hash0.indexOf('test-') === 0) {
    hash0.split('&').forEach(function (kv) {
      var eq = kv.indexOf('='), key = kv.slice(0, eq), val = decodeURIComponent(kv.slice(eq + 1));
      if (key === 'test-sort') {
        var names = api.sortBy(val, true);
        body.dataset.testSortFirst = names[0] || '';
      } else if (key === 'test-sort-asc') {
        body.dataset.testSortAscFirst = api.sortBy(val, false)[0] || '';
      } else if (key === 'test-filter') {
        body.dataset.testFilterRows = String(api.filter(val));
      } else if (key === 'test-zoom') {
        body.dataset.testZoomNode = String(api.zoomTo(val));
        body.dataset.testZoomFrames = String(flame.drawn);
        body.dataset.testZoomRoot = svgF.querySelector('g:not(.above)') ? nodeName(+svgF.querySelector('g:not(.above)').dataset.n) : '';
      } else if (key === 'test-search') {
        body.dataset.testSearchMatches = String(api.search(val));
      } else if (key === 'test-hover') {
        var frames = svgF.querySelectorAll('g[data-n]'), hit = null;
        for (var h = 0; h < frames.length && !hit; h++) if (nodeName(+frames[h].dataset.n) === val) hit = frames[h];
        if (hit) {
          var r = hit.querySelector('rect').getBoundingClientRect();
          hit.querySelector('rect').dispatchEvent(new MouseEvent('mousemove',
            { bubbles: true, clientX: r.left + 2, clientY: r.top + 2 }));
        }
        body.dataset.testTip = tip.hidden ? '' : tip.textContent;
      } else if (key === 'test-select') {
        var i = F.name.indexOf(val);
        selectFunction(i);
        body.dataset.testHistBars = document.getElementById('hist-svg').dataset.bars || '0';
      }
    });
  }
})();
} catch (e) {
  perfcoreFail(e);
}
document.body.dataset.ready = '1';
