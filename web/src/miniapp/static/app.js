// tochen's Mini App: calendar, library, a post's detail and the dashboard. Plain DOM, no framework.
// Signs every call with Telegram.WebApp.initData (`Authorization: tma …`); every text comes from /app/api/me.
(function () {
  'use strict';

  var tg = (window.Telegram && window.Telegram.WebApp) || null;
  var initData = (tg && tg.initData) || '';
  var me = null;
  var T = {};
  var S = { tab: 'calendar', view: 'week', date: null, lib: { status: '', platform: '', q: '', page: 0 }, days: 7, back: null };
  var colours = {};

  function $(id) { return document.getElementById(id); }

  function tr(key, args) {
    var s = Object.prototype.hasOwnProperty.call(T, key) ? T[key] : key;
    if (args) { Object.keys(args).forEach(function (k) { s = s.split('{' + k + '}').join(String(args[k])); }); }
    return s;
  }

  function item(key, i) { return (tr(key).split(',')[i] || '').trim(); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { Authorization: 'tma ' + initData } };
    if (body) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    return fetch('/app/api/' + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error(data.detail || r.statusText); e.status = r.status; e.problem = data; throw e; }
        return data;
      });
    });
  }

  var PROBLEMS = {
    stale: 'miniapp.err_stale', 'not-movable': 'miniapp.err_not_movable',
    'in-the-past': 'miniapp.err_past', role: 'miniapp.err_role', unauthenticated: 'miniapp.err_auth'
  };

  function errorText(e) {
    var kind = e && e.problem && typeof e.problem.type === 'string' ? e.problem.type.split('/').pop() : '';
    if (PROBLEMS[kind] && T[PROBLEMS[kind]]) return tr(PROBLEMS[kind]);
    return (T['miniapp.err_generic'] ? tr('miniapp.err_generic') + ' ' : '') + ((e && e.message) || '');
  }

  function haptic(kind, value) {
    try {
      var h = tg && tg.HapticFeedback;
      if (!h) return;
      if (kind === 'impact') h.impactOccurred(value);
      else if (kind === 'notify') h.notificationOccurred(value);
      else h.selectionChanged();
    } catch (_) { /* older clients */ }
  }

  var toastTimer = null;
  function toast(msg, isError) {
    var t = $('toast');
    t.textContent = msg;
    t.className = isError ? 'error' : '';
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  function fatal(msg) {
    var s = $('status');
    s.textContent = msg;
    s.className = 'status error';
    s.hidden = false;
  }

  function num(v) {
    if (v === null || v === undefined) return '—';
    try { return new Intl.NumberFormat(me.lang).format(v); } catch (_) { return String(v); }
  }

  function platformDot(p) {
    var d = el('span', 'dot');
    d.style.setProperty('--c', colours[p] || '#888');
    d.title = tr('bot.platform.' + p);
    return d;
  }

  // ---- theme, back button ----
  function applyTheme() {
    if (!tg) return;
    var p = tg.themeParams || {};
    var root = document.documentElement;
    Object.keys(p).forEach(function (k) { root.style.setProperty('--tg-theme-' + k.replace(/_/g, '-'), p[k]); });
    root.dataset.scheme = tg.colorScheme || 'light';
  }

  function setBack(fn) {
    S.back = fn;
    if (!tg || !tg.BackButton) return;
    if (fn) tg.BackButton.show(); else tg.BackButton.hide();
  }

  function goBack() { var fn = S.back; if (fn) { setBack(null); fn(); } }

  // ---- tabs ----
  function show(screen) {
    ['calendar', 'library', 'post', 'stats'].forEach(function (n) { $('screen-' + n).hidden = n !== screen; });
    document.querySelectorAll('.tab').forEach(function (b) { b.classList.toggle('on', b.dataset.tab === screen); });
  }

  function openTab(tab) {
    S.tab = tab;
    setBack(null);
    show(tab);
    if (tab === 'calendar') loadCalendar();
    else if (tab === 'library') loadLibrary(false);
    else if (tab === 'stats') loadStats();
  }

  // ---- calendar ----
  function chip(p) {
    var c = el('div', 'chip ' + p.mark + (p.movable && me.can_move ? ' movable' : ''));
    c.dataset.post = p.id;
    c.dataset.mark = p.mark;
    c.style.setProperty('--c', colours[p.platforms[0]] || '#888');
    c.title = p.time + ' ' + p.title + ' · ' + tr('bot.status.' + p.status);
    c.appendChild(el('span', 'time', p.time));
    c.appendChild(el('span', 'title', p.title));
    var dots = el('span', 'dots');
    p.platforms.forEach(function (x) { dots.appendChild(platformDot(x)); });
    c.appendChild(dots);
    pointer(c, p);
    return c;
  }

  // Drag with pointer events (mouse and touch alike): a ghost follows the finger, the day under it lights up,
  // and letting go over another day moves the post there (same time of day). A tap opens the post.
  function pointer(c, p) {
    c.addEventListener('pointerdown', function (ev) {
      if (ev.button !== 0) return;
      var canDrag = p.movable && me.can_move;
      var x0 = ev.clientX, y0 = ev.clientY, ghost = null, over = null;
      try { c.setPointerCapture(ev.pointerId); } catch (_) { /* synthetic events */ }
      ev.preventDefault();
      function move(e) {
        if (!canDrag) return;
        if (!ghost) {
          if (Math.abs(e.clientX - x0) + Math.abs(e.clientY - y0) < 6) return;
          ghost = c.cloneNode(true);
          ghost.classList.add('ghost');
          document.body.appendChild(ghost);
          c.classList.add('dragging');
          haptic('impact', 'light');
        }
        ghost.style.left = e.clientX + 'px';
        ghost.style.top = e.clientY + 'px';
        var under = document.elementFromPoint(e.clientX, e.clientY);
        var cell = under && under.closest ? under.closest('.day[data-date]') : null;
        if (cell !== over) {
          if (over) over.classList.remove('drop');
          over = cell;
          if (over) { over.classList.add('drop'); haptic('select'); }
        }
      }
      function end(e) {
        c.removeEventListener('pointermove', move);
        c.removeEventListener('pointerup', end);
        c.removeEventListener('pointercancel', end);
        if (over) over.classList.remove('drop');
        c.classList.remove('dragging');
        if (ghost) {
          ghost.remove();
          if (e.type === 'pointerup' && over && over.dataset.date !== p.date) reschedule(p, over.dataset.date);
        } else if (e.type === 'pointerup') {
          openPost(p.id, function () { openTab('calendar'); });
        }
      }
      c.addEventListener('pointermove', move);
      c.addEventListener('pointerup', end);
      c.addEventListener('pointercancel', end);
    });
  }

  function reschedule(p, date) {
    api('POST', 'posts/' + encodeURIComponent(p.id) + '/reschedule', { version: p.version, date: date })
      .then(function (r) {
        haptic('notify', 'success');
        toast(r.message);
        loadCalendar();
      })
      .catch(function (e) {
        haptic('notify', 'error');
        toast(errorText(e), true);
        loadCalendar();
      });
  }

  function loadCalendar() {
    var q = 'calendar?view=' + S.view + (S.date ? '&date=' + S.date : '');
    return api('GET', q).then(drawCalendar).catch(function (e) { toast(errorText(e), true); });
  }

  function drawCalendar(cal) {
    S.date = cal.date;
    var grid = $('cal-grid');
    grid.textContent = '';
    grid.className = cal.view;
    grid.dataset.view = cal.view;
    grid.dataset.from = cal.days[0].date;
    $('cal-title').textContent = cal.title;
    $('cal-week').classList.toggle('on', cal.view === 'week');
    $('cal-month').classList.toggle('on', cal.view === 'month');
    $('cal-prev').onclick = function () { S.date = cal.prev; haptic('select'); loadCalendar(); };
    $('cal-next').onclick = function () { S.date = cal.next; haptic('select'); loadCalendar(); };
    if (cal.view === 'month') {
      for (var i = 0; i < 7; i++) grid.appendChild(el('div', 'wd', cal.days[i].weekday));
    }
    var byDay = {};
    cal.posts.forEach(function (p) { (byDay[p.date] = byDay[p.date] || []).push(p); });
    cal.days.forEach(function (d) {
      var cell = el('div', 'day' + (d.in_period ? '' : ' out') + (d.today ? ' today' : ''));
      cell.dataset.date = d.date;
      var head = el('div', 'head');
      if (cal.view === 'week') { head.appendChild(document.createTextNode(d.weekday)); head.appendChild(el('b', null, String(d.day))); }
      else head.textContent = String(d.day);
      cell.appendChild(head);
      var chips = el('div', 'chips');
      (byDay[d.date] || []).forEach(function (p) { chips.appendChild(chip(p)); });
      cell.appendChild(chips);
      grid.appendChild(cell);
    });
    var hint = $('cal-hint');
    hint.textContent = cal.posts.length === 0 ? tr('miniapp.no_posts_period')
      : (me.can_move ? tr('miniapp.drag_hint') : tr('miniapp.viewer_hint'));
    hint.textContent += ' (' + cal.tz + ')';
  }

  function drawLegend() {
    var lg = $('cal-legend');
    lg.textContent = '';
    me.platforms.forEach(function (p) {
      var s = el('span', null);
      s.appendChild(platformDot(p.id));
      s.appendChild(document.createTextNode(' ' + p.name));
      lg.appendChild(s);
    });
    ['published', 'scheduled', 'pending', 'failed'].forEach(function (m) {
      var c = el('span', 'chip ' + m, tr('bot.calendar.mark_' + m));
      c.style.setProperty('--c', '#8a8a90');
      lg.appendChild(c);
    });
  }

  // ---- library ----
  var STATUS_CHOICES = [
    ['', 'bot.library.status_any'], ['draft,rejected', 'bot.library.status_drafts'],
    ['pending_approval', 'bot.library.status_waiting'], ['scheduled', 'bot.library.status_scheduled'],
    ['published,partially_published', 'bot.library.status_published'], ['failed', 'bot.library.status_failed']
  ];

  function fillFilters() {
    var st = $('lib-status');
    STATUS_CHOICES.forEach(function (c) { var o = el('option', null, tr(c[1])); o.value = c[0]; st.appendChild(o); });
    var pf = $('lib-platform');
    var any = el('option', null, tr('miniapp.any_platform'));
    any.value = '';
    pf.appendChild(any);
    me.platforms.forEach(function (p) { var o = el('option', null, p.name); o.value = p.id; pf.appendChild(o); });
    $('lib-q').placeholder = tr('miniapp.search');
    var timer = null;
    function changed() { S.lib.status = st.value; S.lib.platform = pf.value; S.lib.q = $('lib-q').value; S.lib.page = 0; loadLibrary(false); }
    st.addEventListener('change', changed);
    pf.addEventListener('change', changed);
    $('lib-q').addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(changed, 300); });
    $('lib-form').addEventListener('submit', function (e) { e.preventDefault(); clearTimeout(timer); changed(); });
    $('lib-more').addEventListener('click', function () { S.lib.page += 1; loadLibrary(true); });
  }

  function loadLibrary(append) {
    var l = S.lib;
    var q = 'library?page=' + l.page + '&status=' + encodeURIComponent(l.status) + '&platform=' + encodeURIComponent(l.platform) +
      '&q=' + encodeURIComponent(l.q);
    var list = $('lib-list');
    list.dataset.loading = '1';
    return api('GET', q).then(function (r) {
      if (!append) list.textContent = '';
      r.posts.forEach(function (p) { list.appendChild(libraryItem(p)); });
      $('lib-more').hidden = !r.has_more;
      $('lib-empty').hidden = list.children.length > 0;
      delete list.dataset.loading;
    }).catch(function (e) { delete list.dataset.loading; toast(errorText(e), true); });
  }

  function badge(status) { return el('span', 'badge ' + status, tr('bot.status.' + status)); }

  function libraryItem(p) {
    var li = el('li');
    li.dataset.post = p.id;
    li.appendChild(el('div', 't', p.title || '—'));
    var m = el('div', 'm');
    m.appendChild(badge(p.status));
    if (p.when) m.appendChild(el('span', null, p.when));
    p.targets.forEach(function (t) { var d = platformDot(t.platform); d.title += ': ' + t.status; m.appendChild(d); });
    li.appendChild(m);
    li.addEventListener('click', function () { openPost(p.id, function () { openTab('library'); }); });
    return li;
  }

  // ---- a post ----
  function openPost(id, back) {
    haptic('select');
    api('GET', 'posts/' + encodeURIComponent(id)).then(function (p) {
      var a = $('post');
      a.textContent = '';
      a.dataset.post = p.id;
      a.appendChild(el('h2', null, p.title || '—'));
      var m = el('div', 'm');
      m.appendChild(badge(p.status));
      if (p.when) m.appendChild(el('span', 'hint', ' ' + p.when));
      a.appendChild(m);
      if (p.tags && p.tags.length) a.appendChild(el('div', 'hint', tr('miniapp.tags') + ': #' + p.tags.join(' #')));
      a.appendChild(el('div', 'body', p.body));
      if (p.targets.length) a.appendChild(el('h3', null, tr('miniapp.platforms')));
      p.targets.forEach(function (t) {
        var box = el('div', 'target');
        box.dataset.platform = t.platform;
        box.style.setProperty('--c', colours[t.platform] || '#888');
        var head = el('div');
        head.appendChild(el('b', null, tr('bot.platform.' + t.platform)));
        if (t.account) head.appendChild(document.createTextNode(' · ' + t.account + ' · '));
        head.appendChild(el('span', 'tstatus', t.status));
        if (t.permalink) {
          var link = el('a', null, tr('bot.history.open'));
          link.href = t.permalink;
          link.target = '_blank';
          link.rel = 'noopener noreferrer';
          link.addEventListener('click', function (e) { if (tg && tg.openLink) { e.preventDefault(); tg.openLink(t.permalink); } });
          head.appendChild(document.createTextNode(' · '));
          head.appendChild(link);
        }
        box.appendChild(head);
        if (t.error) box.appendChild(el('div', 'err', t.error));
        if (t.metrics) {
          var tbl = el('table', 'numbers');
          ['views', 'reach', 'likes', 'comments', 'shares', 'saves'].forEach(function (k) {
            if (t.metrics[k] === null || t.metrics[k] === undefined) return;
            var tr_ = el('tr');
            tr_.appendChild(el('td', null, tr('miniapp.' + k)));
            var v = el('td', null, num(t.metrics[k]));
            v.dataset.metric = k;
            v.dataset.value = t.metrics[k];
            tr_.appendChild(v);
            tbl.appendChild(tr_);
          });
          box.appendChild(tbl);
          box.appendChild(el('div', 'hint', tr('miniapp.measured', { when: t.metrics.measured })));
        } else if (t.status === 'published') {
          box.appendChild(el('div', 'hint', tr('bot.library.no_numbers')));
        }
        a.appendChild(box);
      });
      show('post');
      window.scrollTo(0, 0);
      setBack(back);
    }).catch(function (e) { toast(errorText(e), true); });
  }

  // ---- dashboard ----
  function loadStats() {
    var seg = $('stats-days');
    seg.querySelectorAll('button').forEach(function (b) { b.classList.toggle('on', Number(b.dataset.days) === S.days); });
    return api('GET', 'stats?days=' + S.days).then(drawStats).catch(function (e) { toast(errorText(e), true); });
  }

  function drawStats(r) {
    var rep = r.report, tot = rep.totals;
    var cards = $('stats-cards');
    cards.textContent = '';
    cards.dataset.start = rep.period.start;
    cards.dataset.end = rep.period.end;
    cards.dataset.days = r.days;
    var rate = tot.engagement_rate === null || tot.engagement_rate === undefined ? null : tot.engagement_rate;
    [['published', tot.published, 'miniapp.published'], ['views', tot.views, 'miniapp.views'],
      ['likes', tot.likes, 'miniapp.likes'], ['comments', tot.comments, 'miniapp.comments'],
      ['shares', tot.shares, 'miniapp.shares'], ['followers', tot.followers, 'miniapp.followers']
    ].forEach(function (c) {
      var card = el('div', 'card');
      card.dataset.key = c[0];
      card.dataset.value = c[1] === null || c[1] === undefined ? '' : String(c[1]);
      card.appendChild(el('div', 'k', tr(c[2])));
      card.appendChild(el('div', 'v', num(c[1])));
      cards.appendChild(card);
    });
    var er = el('div', 'card');
    er.dataset.key = 'engagement_rate';
    er.dataset.value = rate === null ? '' : String(rate);
    er.appendChild(el('div', 'k', tr('miniapp.engagement')));
    er.appendChild(el('div', 'v', rate === null ? '—' : (rate * 100).toFixed(1) + '%'));
    cards.appendChild(er);
    $('stats-chart-title').textContent = tr('report.chart_title');
    drawChart($('stats-chart'), rep.daily_views);
    $('stats-text').textContent = r.text;
  }

  // Stacked bars: a column per day, a block per platform in its colour.
  function drawChart(box, daily) {
    var NS = 'http://www.w3.org/2000/svg';
    box.textContent = '';
    var days = daily.days || [], series = daily.series || [];
    var W = 340, H = 160, pad = 22;
    var totals = days.map(function (_, i) { return series.reduce(function (s, x) { return s + (x[1][i] || 0); }, 0); });
    var max = Math.max(1, Math.max.apply(null, totals.concat([0])));
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', tr('report.chart_title'));
    var bw = days.length ? (W - pad) / days.length : 0;
    var axis = document.createElementNS(NS, 'line');
    axis.setAttribute('x1', pad); axis.setAttribute('x2', W); axis.setAttribute('y1', H - 14); axis.setAttribute('y2', H - 14);
    axis.setAttribute('stroke', 'currentColor'); axis.setAttribute('stroke-opacity', '0.3');
    svg.appendChild(axis);
    var top = document.createElementNS(NS, 'text');
    top.setAttribute('x', 0); top.setAttribute('y', 10); top.setAttribute('font-size', '9'); top.setAttribute('fill', 'currentColor');
    top.textContent = num(max);
    svg.appendChild(top);
    days.forEach(function (d, i) {
      var y = H - 14;
      series.forEach(function (s) {
        var v = s[1][i] || 0;
        if (v <= 0) return;
        var h = (H - 30) * v / max;
        var r = document.createElementNS(NS, 'rect');
        r.setAttribute('x', pad + i * bw + bw * 0.1);
        r.setAttribute('width', Math.max(1, bw * 0.8));
        r.setAttribute('y', y - h);
        r.setAttribute('height', h);
        r.setAttribute('fill', colours[s[0]] || '#888');
        r.dataset.platform = s[0];
        r.dataset.value = v;
        svg.appendChild(r);
        y -= h;
      });
      if (days.length <= 10 || i % Math.ceil(days.length / 8) === 0) {
        var lbl = document.createElementNS(NS, 'text');
        lbl.setAttribute('x', pad + i * bw + bw / 2);
        lbl.setAttribute('y', H - 2);
        lbl.setAttribute('font-size', '8');
        lbl.setAttribute('text-anchor', 'middle');
        lbl.setAttribute('fill', 'currentColor');
        var dt = new Date(d);
        lbl.textContent = dt.getUTCDate() + '.' + (dt.getUTCMonth() + 1);
        svg.appendChild(lbl);
      }
    });
    box.appendChild(svg);
  }

  // ---- start ----
  function start() {
    if (tg) {
      applyTheme();
      if (tg.onEvent) tg.onEvent('themeChanged', applyTheme);
      if (tg.BackButton && tg.BackButton.onClick) tg.BackButton.onClick(goBack);
      try { if (tg.isVersionAtLeast && tg.isVersionAtLeast('7.7') && tg.disableVerticalSwipes) tg.disableVerticalSwipes(); } catch (_) { /* old */ }
    }
    if (!initData) { fatal('Open this app from the tochen bot in Telegram.'); return; }
    api('GET', 'me').then(function (m) {
      me = m;
      T = m.texts;
      document.documentElement.lang = m.lang;
      m.platforms.forEach(function (p) { colours[p.id] = p.colour; });
      $('tab-calendar').textContent = tr('miniapp.tab_calendar');
      $('tab-library').textContent = tr('miniapp.tab_library');
      $('tab-stats').textContent = tr('miniapp.tab_stats');
      $('cal-week').textContent = tr('miniapp.week');
      $('cal-month').textContent = tr('miniapp.month');
      $('cal-today').textContent = tr('miniapp.today');
      $('lib-more').textContent = tr('miniapp.more');
      $('lib-empty').textContent = tr('miniapp.no_posts');
      document.querySelectorAll('.tab').forEach(function (b) { b.addEventListener('click', function () { haptic('select'); openTab(b.dataset.tab); }); });
      $('cal-week').addEventListener('click', function () { S.view = 'week'; loadCalendar(); });
      $('cal-month').addEventListener('click', function () { S.view = 'month'; loadCalendar(); });
      $('cal-today').addEventListener('click', function () { S.date = null; loadCalendar(); });
      var seg = $('stats-days');
      [7, 30, 90].forEach(function (n) {
        var b = el('button', null, tr('miniapp.days', { n: n }));
        b.type = 'button';
        b.dataset.days = n;
        b.addEventListener('click', function () { S.days = n; haptic('select'); loadStats(); });
        seg.appendChild(b);
      });
      fillFilters();
      drawLegend();
      $('status').hidden = true;
      $('tabs').hidden = false;
      // The bot's buttons name the screen to open (`?screen=library`); the menu button opens the calendar.
      var first = new URLSearchParams(location.search).get('screen');
      openTab(['calendar', 'library', 'stats'].indexOf(first) >= 0 ? first : 'calendar');
      if (tg) { tg.ready(); if (tg.expand) tg.expand(); }
    }).catch(function (e) { fatal(e.message || 'sign-in failed'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
