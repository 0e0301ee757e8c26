// charts.js - every chart of the dashboard, drawn with Chart.js (loaded as
// its UMD build by index.html, so it lives on globalThis.Chart). Each
// function returns a <figure> holding one <canvas>; the Chart instance is
// kept on canvas.chart so tests and the print view can reach it.
import {h} from './dom.js';

export const COLORS = {
  teacher: '#1f5fa8',
  student: '#d9622b',
  baseline: '#5a8f3c',
  grey: '#8a8f98',
};

const registry = new Set();

// Destroys the charts of a view that is being replaced.
export function destroyAll() {
  for (const c of registry) c.destroy();
  registry.clear();
}

// Destroys the charts drawn inside el (a panel about to be redrawn).
export function destroyIn(el) {
  for (const c of [...registry]) {
    if (c.canvas && el.contains(c.canvas)) {
      c.destroy();
      registry.delete(c);
    }
  }
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function make(config, {height = 260, label = '', caption = null} = {}) {
  const canvas = h('canvas', {role: 'img', 'aria-label': label});
  const box = h('div', {class: 'chart-box'}, canvas);
  box.style.height = height + 'px';
  const fig = h('figure', {class: 'chart'}, box, caption ? h('figcaption', {}, caption) : null);
  config.options = Object.assign({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: {},
  }, config.options || {});
  config.options.plugins = Object.assign({legend: {position: 'bottom'}}, config.options.plugins);
  // Chart.js needs the canvas in the document to size it: draw on the next frame.
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    const chart = new globalThis.Chart(canvas, config);
    canvas.chart = chart;
    registry.add(chart);
  });
  return fig;
}

function axis(title, extra = {}) {
  return Object.assign({title: {display: !!title, text: title}}, extra);
}

// lines([{label, x:[..], y:[..], color, dash, width, fill, hidden}], {xTitle, yTitle})
export function lines(series, opts = {}) {
  if (series.length && typeof series[0].x[0] === 'string') return categoryLines(series, opts);
  const datasets = series.map((sr) => ({
    label: sr.label,
    data: sr.x.map((x, i) => ({x, y: sr.y[i]})),
    borderColor: sr.color,
    backgroundColor: sr.fillColor || alpha(sr.color, 0.15),
    borderWidth: sr.width ?? 2,
    borderDash: sr.dash || [],
    pointRadius: sr.points ?? 2,
    fill: sr.fill ?? false,
    stepped: sr.stepped || false,
    showLine: true,
    order: sr.order ?? 0,
    hidden: sr.hidden || false,
    tension: 0,
  }));
  return make({
    type: 'scatter',
    data: {datasets},
    options: {
      scales: {
        x: axis(opts.xTitle, {type: opts.xType || 'linear', min: opts.xMin, max: opts.xMax}),
        y: axis(opts.yTitle, {min: opts.yMin, max: opts.yMax}),
      },
      plugins: {legend: {position: 'bottom', labels: {filter: (item) => !item.text.startsWith('_')}}},
    },
  }, opts);
}

// Lines over categories (PDP of a categorical feature): points joined in
// the grid's order on a category axis.
function categoryLines(series, opts) {
  const datasets = series.map((sr) => ({
    label: sr.label, data: sr.y, borderColor: sr.color, backgroundColor: sr.color,
    borderWidth: sr.width ?? 2, borderDash: sr.dash || [], pointRadius: sr.points ?? 2, order: sr.order ?? 0,
  }));
  return make({
    type: 'line',
    data: {labels: series[0].x, datasets},
    options: {
      scales: {x: axis(opts.xTitle, {type: 'category'}), y: axis(opts.yTitle, {min: opts.yMin, max: opts.yMax})},
      plugins: {legend: {position: 'bottom', labels: {filter: (item) => !item.text.startsWith('_')}}},
    },
  }, opts);
}

// bars(labels, [{label, values, color}], {horizontal, xTitle})
export function bars(labels, groups, opts = {}) {
  const datasets = groups.map((g) => ({
    label: g.label,
    data: g.values,
    backgroundColor: g.colors || g.color,
    borderColor: g.colors || g.color,
    borderWidth: 1,
    ...(g.extra || {}),
  }));
  const horizontal = !!opts.horizontal;
  return make({
    type: 'bar',
    data: {labels, datasets},
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      scales: {
        x: axis(horizontal ? opts.valueTitle : opts.categoryTitle, horizontal ? {min: opts.min, max: opts.max} : {}),
        y: axis(horizontal ? opts.categoryTitle : opts.valueTitle, horizontal ? {} : {min: opts.min, max: opts.max}),
      },
      plugins: {legend: {display: groups.length > 1, position: 'bottom'}},
    },
  }, opts);
}

// A band between lower and upper plus a centre line: GAM shapes with their
// error band, intervals along a grid.
export function band(x, y, lower, upper, color, opts = {}) {
  const series = [];
  if (lower && upper) {
    series.push({label: '_lower', x, y: lower, color: alpha(color, 0.0), width: 0, points: 0, stepped: opts.stepped});
    series.push({label: opts.bandLabel || '±2 s.e.', x, y: upper, color: alpha(color, 0.0), fillColor: alpha(color, 0.2), width: 0, points: 0, fill: '-1', stepped: opts.stepped});
  }
  series.push({label: opts.lineLabel || 'shape', x, y, color, points: 0, stepped: opts.stepped});
  return lines(series, opts);
}

export {alpha};
