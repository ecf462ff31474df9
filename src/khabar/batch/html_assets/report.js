// khabar HTML report: fact <-> evidence navigation, the highlight popover, index filters.
// It reads the page's own markup and writes only with textContent and cloned nodes,
// so nothing in a record can become markup or code here. The CSP admits this exact
// script by its hash: keep it static.
(() => {
  'use strict';
  const pop = document.getElementById('pop');

  const tokens = (el, name) => (el.getAttribute(name) || '').split(' ').filter(Boolean);

  // The marks of `art` carrying `token` in `name`; a sentence token ("en.1") also
  // matches each of its citations ("en.1.0", "en.1.1").
  function marks(art, name, token) {
    return Array.from(art.querySelectorAll('.text mark[' + name + ']')).filter((m) =>
      tokens(m, name).some((t) => t === token || t.startsWith(token + '.')));
  }

  function flash(els) {
    els.forEach((el) => {
      el.classList.remove('flash');
      void el.offsetWidth; // restarts the animation
      el.classList.add('flash');
    });
  }

  function select(els) {
    document.querySelectorAll('.on').forEach((el) => el.classList.remove('on'));
    els.forEach((el) => el.classList.add('on'));
  }

  // A hover scrolls only the article's own pane, so the list under the pointer stays
  // put; a click also brings the evidence into the window.
  function reveal(el, click) {
    if (click) {
      el.scrollIntoView({ block: 'center', inline: 'nearest' });
      return;
    }
    const pane = el.closest('.text');
    if (!pane || pane.scrollHeight <= pane.clientHeight) return;
    const p = pane.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    if (r.top < p.top || r.bottom > p.bottom) {
      pane.scrollTop += r.top - p.top - (pane.clientHeight - r.height) / 2;
    }
  }

  function go(source, click) {
    const art = source.closest('article');
    if (!art) return;
    const name = source.hasAttribute('data-f') ? 'data-f' : 'data-c';
    const found = marks(art, name, source.getAttribute(name));
    if (!found.length) return;
    reveal(found[0], click);
    flash(found);
    if (click) select(found.concat([source]));
  }

  function hidePop() {
    pop.hidden = true;
    pop.textContent = '';
  }

  function item(kindFrom, content, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    const kind = kindFrom && Array.from(kindFrom.classList).find((c) => c.startsWith('k-'));
    if (kind) b.classList.add(kind);
    b.appendChild(content);
    b.addEventListener('click', onClick);
    pop.appendChild(b);
  }

  // Clicking a highlight lists every fact and citation that covers it.
  function showPop(mark) {
    const art = mark.closest('article');
    hidePop();
    const head = document.createElement('div');
    head.className = 'ph';
    head.textContent = 'At this place in the article:';
    pop.appendChild(head);
    tokens(mark, 'data-f').forEach((t) => {
      const li = art.querySelector('li.fact[data-f="' + CSS.escape(t) + '"]');
      const label = li ? li.querySelector('.lbl').cloneNode(true) : document.createTextNode(t);
      item(li, label, () => {
        hidePop();
        if (!li) return;
        li.scrollIntoView({ block: 'center' });
        const found = marks(art, 'data-f', t);
        flash([li]);
        select(found.concat([li]));
      });
    });
    tokens(mark, 'data-c').forEach((t) => {
      const parts = t.split('.');
      const sent = art.querySelector('.sent[data-c="' + CSS.escape(parts[0] + '.' + parts[1]) + '"]');
      const span = document.createElement('span');
      const which = parts[0] === 'en' ? 'English' : 'Source-language';
      span.textContent = which + ' summary, sentence ' + (+parts[1] + 1) + ', citation ' +
        (+parts[2] + 1) + ': ';
      if (sent) {
        const quote = document.createElement('bdi');
        quote.textContent = sent.textContent;
        span.appendChild(quote);
      }
      item(null, span, () => {
        hidePop();
        if (!sent) return;
        sent.scrollIntoView({ block: 'center' });
        flash([sent]);
        select(marks(art, 'data-c', t).concat([sent]));
      });
    });
    pop.hidden = false;
    const r = mark.getBoundingClientRect();
    const left = Math.min(window.scrollX + r.left, window.scrollX + window.innerWidth - pop.offsetWidth - 8);
    pop.style.left = Math.max(8, left) + 'px';
    pop.style.top = (window.scrollY + r.bottom + 6) + 'px';
  }

  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!(t instanceof Element) || pop.contains(t)) return;
    const mark = t.closest('.text mark');
    if (mark) {
      showPop(mark);
      return;
    }
    hidePop();
    const src = t.closest('li.fact, .sent, button.cn');
    if (src) go(src, true);
  });

  let hovered = null;
  document.addEventListener('mouseover', (e) => {
    const src = e.target instanceof Element ? e.target.closest('li.fact, .sent') : null;
    if (src === hovered) return;
    hovered = src;
    if (src) go(src, false);
  });

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hidePop();
    const t = e.target;
    if ((e.key === 'Enter' || e.key === ' ') && t instanceof Element && t.matches('li.fact, .sent')) {
      e.preventDefault();
      go(t, true);
    }
  });

  // Index filters: rows of the index and, on a one-page report, the articles themselves.
  const selects = Array.from(document.querySelectorAll('select[data-filter]'));
  function filter() {
    const want = selects.filter((s) => s.value).map((s) => [s.getAttribute('data-filter'), s.value]);
    let shown = 0;
    let total = 0;
    document.querySelectorAll('tr[data-status], article.rec').forEach((el) => {
      const ok = want.every(([key, value]) => el.getAttribute('data-' + key) === value);
      el.hidden = !ok;
      if (el.tagName === 'TR') {
        total += 1;
        if (ok) shown += 1;
      }
    });
    const count = document.getElementById('shown');
    if (count) count.textContent = shown + ' of ' + total + ' shown';
  }
  selects.forEach((s) => s.addEventListener('change', filter));
})();
