// Accessible inline SVG bar charts. Each chart is a <figure>: a caption, the SVG (role="img", named
// by the caption and described as a summary) and a data table with the same figures, so nothing
// is available only as a picture. Suppressed figures ("*", "group too small") draw no bar.

import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
let chartCount = 0;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function niceMax(values) {
  const top = Math.max(1, ...values.filter((v) => typeof v === 'number'));
  const step = 10 ** Math.floor(Math.log10(top));
  return Math.ceil(top / step) * step;
}

const LABEL_MAX = 58; // characters of a horizontal chart's label (the table below has them whole)
const LABEL_LINE = 20; // the height of a horizontal chart's label line, in SVG units

function shortLabel(category) {
  return category.length > LABEL_MAX ? `${category.slice(0, LABEL_MAX - 1)}…` : category;
}

/**
 * A grouped bar chart.
 * categories: labels along the axis; series: [{name, values: [number|null], shown: [string]}].
 * Options: horizontal (bars across), max (axis maximum), unit (appended to values, e.g. "%").
 */
function drawBars({ categories, series, horizontal = false, max = null, unit = '' }) {
  const all = series.flatMap((s) => s.values);
  const top = max ?? niceMax(all);
  const band = horizontal ? 30 : 56;
  // Horizontal charts put each category's label on its own line above its bars, so that a long
  // label is never cut off and the bars keep the whole width.
  const groupSize = horizontal ? LABEL_LINE + band * series.length : band;
  const left = horizontal ? 10 : 40;
  const width = horizontal ? 440 : Math.max(320, 80 + categories.length * (series.length * 22 + 30));
  const height = horizontal ? 30 + categories.length * (groupSize + 10) : 260;
  const plotW = width - left - 60;
  const plotH = height - 60;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart__svg', focusable: 'false' });
  root.append(svg('line', { x1: left, y1: 10, x2: left, y2: horizontal ? height - 20 : plotH + 10, class: 'chart__axis' }));
  if (!horizontal) root.append(svg('line', { x1: left, y1: plotH + 10, x2: width - 10, y2: plotH + 10, class: 'chart__axis' }));
  categories.forEach((category, ci) => {
    series.forEach((s, si) => {
      const value = s.values[ci];
      const shown = s.shown[ci];
      const mark = shown.length > 6 ? '–' : `${shown}${typeof value === 'number' ? unit : ''}`; // long notes: table
      const label = `${category}, ${s.name}: ${shown}${typeof value === 'number' ? unit : ''}`;
      if (horizontal) {
        const rowTop = 15 + ci * (groupSize + 10);
        const y = rowTop + LABEL_LINE + si * band * 0.8;
        const w = typeof value === 'number' ? (plotW * value) / top : 0;
        root.append(svg('rect', { x: left, y, width: Math.max(w, 0), height: band * 0.7, class: `chart__bar chart__bar--${si}` }, svg('title', {}, label)));
        root.append(svg('text', { x: left + w + 6, y: y + band * 0.35, class: 'chart__value' }, mark));
        if (si === 0) root.append(svg('text', { x: left + 4, y: rowTop + LABEL_LINE / 2, class: 'chart__label' }, shortLabel(category)));
      } else {
        const groupW = series.length * 22;
        const x = left + 20 + ci * (groupW + 30) + si * 22;
        const hgt = typeof value === 'number' ? (plotH * value) / top : 0;
        root.append(svg('rect', { x, y: plotH + 10 - hgt, width: 18, height: Math.max(hgt, 0), class: `chart__bar chart__bar--${si}` }, svg('title', {}, label)));
        root.append(svg('text', { x: x + 9, y: plotH + 2 - hgt, class: 'chart__value chart__value--middle' }, mark));
        if (si === 0) root.append(svg('text', { x: left + 20 + ci * (groupW + 30) + groupW / 2, y: plotH + 28, class: 'chart__label chart__label--middle' }, category));
      }
    });
  });
  return root;
}

function legend(series) {
  if (series.length < 2) return null;
  return h(
    'ul',
    { class: 'chart__legend' },
    series.map((s, i) => h('li', {}, h('span', { class: `chart__key chart__bar--${i}`, 'aria-hidden': 'true' }), s.name)),
  );
}

/** A figure with caption, chart and the same figures as a table. */
export function chartFigure({ title, summary, categories, series, horizontal = false, max = null, unit = '', rowHeader = '' }) {
  chartCount += 1;
  const id = `chart-${chartCount}`;
  const chart = drawBars({ categories, series, horizontal, max, unit });
  chart.setAttribute('role', 'img');
  chart.setAttribute('aria-labelledby', `${id}-title`);
  chart.setAttribute('aria-describedby', `${id}-desc`);
  const table = h(
    'table',
    { class: 'table table--figures' },
    h('caption', { class: 'visually-hidden' }, `${title}: figures`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, rowHeader), series.map((s) => h('th', { scope: 'col' }, s.name)))),
    h(
      'tbody',
      {},
      categories.map((category, ci) =>
        h('tr', {}, h('th', { scope: 'row' }, category), series.map((s) => h('td', {}, s.shown[ci])))),
    ),
  );
  return h(
    'figure',
    { class: 'chart', 'aria-labelledby': `${id}-title` },
    h('figcaption', { id: `${id}-title`, class: 'chart__title' }, title),
    h('p', { id: `${id}-desc`, class: 'hint' }, summary),
    legend(series),
    h('div', { class: 'chart__frame' }, chart),
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': `${title}: table`, tabindex: '0' }, table),
  );
}
