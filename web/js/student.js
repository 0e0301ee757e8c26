// student.js - the student itself, from GET /runs/{id}/student: a tree as
// a diagram with its rules, a logistic/linear model's coefficients and
// scorecard, a GAM's shape functions with error bands, an SBDT's filters
// (as pictures when the artifact carries "image") and leaf distributions.
import {h, s, num, pct, section, table} from './dom.js';
import {bars, band, lines, COLORS} from './charts.js';

// ---- tree ------------------------------------------------------------------

function splitText(node) {
  if (node.left_levels) return `${node.feature_name} ∈ {${node.left_levels.join(', ')}}`;
  return `${node.feature_name} ≤ ${num(node.threshold, 4).replace(/\.?0+$/, '')}`;
}

function leafScore(node, classes) {
  if (Array.isArray(node.value)) {
    if (node.value.length === 2) return {text: `P(${classes ? classes[1] : '1'}) = ${num(node.value[1])}`, p: node.value[1]};
    let k = 0;
    node.value.forEach((v, i) => { if (v > node.value[k]) k = i; });
    return {text: `${classes ? classes[k] : k}: ${num(node.value[k])}`, p: node.value[k]};
  }
  return {text: `value ${num(node.value)}`, p: null};
}

function heat(p) {
  // 0 -> orange (class 0 side), 1 -> blue (class 1 side), white in the middle
  const t = Math.max(0, Math.min(1, p));
  const a = t < 0.5 ? [217, 98, 43] : [31, 95, 168];
  const w = Math.abs(t - 0.5) * 2 * 0.6;
  const c = a.map((x) => Math.round(255 + (x - 255) * w));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export function treeDiagram(student) {
  const nodes = new Map(student.nodes.map((n) => [n.id, n]));
  const root = student.nodes[0];
  const W = 138, H = 44, GX = 8, GY = 40;
  const pos = new Map();
  let nextLeaf = 0;
  let maxDepth = 0;
  (function place(n, depth) {
    maxDepth = Math.max(maxDepth, depth);
    if (n.left === undefined) {
      pos.set(n.id, {x: nextLeaf++ * (W + GX), y: depth * (H + GY)});
      return;
    }
    place(nodes.get(n.left), depth + 1);
    place(nodes.get(n.right), depth + 1);
    const l = pos.get(n.left), r = pos.get(n.right);
    pos.set(n.id, {x: (l.x + r.x) / 2, y: depth * (H + GY)});
  })(root, 0);
  const width = Math.max(1, nextLeaf) * (W + GX);
  const height = (maxDepth + 1) * (H + GY);
  const g = s('g', {transform: 'translate(4, 4)'});
  for (const n of student.nodes) {
    if (n.left === undefined) continue;
    const p = pos.get(n.id);
    for (const [child, label] of [[n.left, 'yes'], [n.right, 'no']]) {
      const c = pos.get(child);
      const miss = (n.missing === 'left') === (child === n.left) ? ' (+missing)' : '';
      g.append(s('path', {class: 'edge', d: `M${p.x + W / 2},${p.y + H} C${p.x + W / 2},${p.y + H + GY / 2} ${c.x + W / 2},${c.y - GY / 2} ${c.x + W / 2},${c.y}`}));
      g.append(s('text', {class: 'edge-label', x: (p.x + c.x) / 2 + W / 2, y: p.y + H + GY / 2, 'text-anchor': 'middle'}, label + miss));
    }
  }
  for (const n of student.nodes) {
    const p = pos.get(n.id);
    const leaf = n.left === undefined;
    const box = s('g', {class: leaf ? 'node leaf' : 'node split', transform: `translate(${p.x}, ${p.y})`, 'data-node': n.id});
    let fill = '#f4f6f9';
    let line1, line2;
    if (leaf) {
      const sc = leafScore(n, student.classes);
      if (sc.p !== null) fill = heat(sc.p);
      line1 = sc.text;
      line2 = `n = ${n.n}`;
    } else {
      line1 = splitText(n);
      line2 = `n = ${n.n}${n.n_missing ? `, ${n.n_missing} missing` : ''}`;
    }
    box.append(s('rect', {width: W, height: H, rx: 5, fill}),
      s('text', {x: W / 2, y: 19, 'text-anchor': 'middle', class: 'node-main'}, line1.length > 22 ? line1.slice(0, 21) + '…' : line1),
      s('text', {x: W / 2, y: 36, 'text-anchor': 'middle', class: 'node-sub'}, line2),
      s('title', {}, `${line1}\n${line2}`));
    g.append(box);
  }
  const svg = s('svg', {class: 'tree', id: 'tree-diagram', viewBox: `0 0 ${width + 8} ${height}`, width: width + 8, height, role: 'img', 'aria-label': `decision tree with ${nextLeaf} leaves`}, g);
  const scroller = h('div', {class: 'tree-scroll'}, svg);
  // Wide trees scroll sideways: start with the root in view.
  requestAnimationFrame(() => { scroller.scrollLeft = Math.max(0, (scroller.scrollWidth - scroller.clientWidth) / 2); });
  return scroller;
}

// Detail (readable boxes, scroll sideways) or the whole tree fitted to the width.
function treeToolbar() {
  const btn = h('button', {type: 'button', id: 'tree-fit', class: 'noprint', 'aria-pressed': 'false'}, 'Fit the whole tree');
  btn.addEventListener('click', () => {
    const box = btn.closest('section').querySelector('.tree-scroll');
    const fit = box.classList.toggle('fit');
    btn.setAttribute('aria-pressed', String(fit));
    btn.textContent = fit ? 'Show at full size' : 'Fit the whole tree';
  });
  return h('div', {class: 'actions'}, btn);
}

function treeSection(student) {
  const rules = student.rules || [];
  return [
    h('p', {class: 'note'}, 'Each box tests one feature: rows that satisfy the test go left ("yes"). Leaves show the predicted probability, shaded from orange (low) to blue (high).'),
    treeToolbar(),
    treeDiagram(student),
    rules.length ? h('details', {open: true, id: 'tree-rules'}, h('summary', {}, `${rules.length} rules, one per leaf`),
      h('ol', {class: 'rules'}, rules.map((r) => h('li', {}, h('code', {}, typeof r === 'string' ? r : (r.rule || JSON.stringify(r))))))) : null,
  ];
}

// ---- logistic / linear -------------------------------------------------------

function linearSection(student) {
  const coefs = (student.coefficients || []).filter((c) => typeof c.coef === 'number');
  const out = [];
  if (coefs.length) {
    const sorted = coefs.slice().sort((a, b) => Math.abs(b.coef_std ?? b.coef) - Math.abs(a.coef_std ?? a.coef));
    out.push(bars(sorted.map((c) => c.feature), [{label: 'standardised coefficient', values: sorted.map((c) => c.coef_std ?? c.coef),
      colors: sorted.map((c) => ((c.coef_std ?? c.coef) >= 0 ? COLORS.teacher : COLORS.student))}],
    {horizontal: true, valueTitle: student.type === 'logistic' ? 'coefficient per standard deviation (logit)' : 'coefficient per standard deviation', label: 'coefficients', height: Math.max(200, 24 * sorted.length + 60), id: 'coefficients'}));
    out.push(table(['Feature', 'Coefficient', 'Per std. dev.', student.type === 'logistic' ? 'Odds ratio' : 'Mean', 'Range'],
      [['(intercept)', num(student.intercept, 4), num(student.intercept_std, 4), '', ''],
        ...coefs.map((c) => [c.feature, num(c.coef, 4), num(c.coef_std, 4), student.type === 'logistic' ? num(c.odds_ratio, 4) : num(c.mean), `${num(c.min)} – ${num(c.max)}`])],
      {class: 'compact', id: 'coef-table'}));
  }
  const sc = student.scorecard;
  if (sc && sc.points) {
    out.push(h('h3', {}, 'Scorecard'),
      h('p', {class: 'note'}, `Score = ${num(sc.base_points, 1)} base points plus each feature's points; ${sc.pdo} points double the odds ${sc.odds || ''}; ${sc.base_score} points at odds ${sc.base_odds}.`),
      table(['Feature', 'Points per unit', 'Reference', 'Points at min', 'Points at max', 'If missing'],
        sc.points.map((p) => [p.feature, num(p.points_per_unit, 4), num(p.reference), num(p.points_at_min, 1), num(p.points_at_max, 1), num(p.points_if_missing, 1)]),
        {class: 'compact', id: 'scorecard'}));
  }
  return out;
}

// ---- GAM ---------------------------------------------------------------------

// A numeric shape as a step function: bin b spans (edges[b-1], edges[b]];
// the outer bins are drawn as wide as their neighbours.
function stepPoints(edges, values) {
  const n = edges.length;
  const w = n > 1 ? edges[n - 1] - edges[0] : Math.max(1, Math.abs(edges[0] || 1));
  const pad = n > 1 ? w / Math.max(4, n) : w;
  const xs = [edges[0] - pad, ...edges, edges[n - 1] + pad];
  return {x: xs, y: [...values, values[values.length - 1]]};
}

function gamSection(student) {
  const shapes = student.shapes || [];
  const classes = student.classes || [];
  const margins = student.task === 'multiclass' ? classes.length : 1;
  const palette = [COLORS.student, COLORS.teacher, COLORS.baseline, '#8e44ad', '#c0392b', '#16a085'];
  const figs = [];
  for (const sh of shapes) {
    if (!Array.isArray(sh.scores)) continue;
    const col = (rows, k) => rows.map((r) => (Array.isArray(r) ? r[k] : r));
    const yTitle = student.task === 'regression' ? 'contribution' : 'contribution (logit)';
    let fig;
    if (sh.kind === 'numeric' && Array.isArray(sh.edges) && sh.edges.length > 0) {
      if (margins === 1) {
        const y = col(sh.scores, 0);
        const sd = Array.isArray(sh.std) ? col(sh.std, 0) : null;
        const p = stepPoints(sh.edges, y);
        const lo = sd ? stepPoints(sh.edges, y.map((v, i) => v - 2 * sd[i])).y : null;
        const hi = sd ? stepPoints(sh.edges, y.map((v, i) => v + 2 * sd[i])).y : null;
        fig = band(p.x, p.y, lo, hi, COLORS.student, {xTitle: sh.feature, yTitle, stepped: 'after', lineLabel: 'shape', bandLabel: '±2 s.d. across bags', height: 220, label: 'shape of ' + sh.feature});
      } else {
        fig = lines(classes.map((c, k) => ({label: String(c), ...stepPoints(sh.edges, col(sh.scores, k)), color: palette[k % palette.length], points: 0, stepped: 'after'})),
          {xTitle: sh.feature, yTitle, height: 220, label: 'shape of ' + sh.feature});
      }
    } else if (sh.kind === 'numeric') {
      continue;   // a feature with no split: a flat shape
    } else {
      const levels = sh.levels || sh.scores.map((_, i) => String(i));
      const groups = (margins === 1 ? [0] : classes.map((_, k) => k)).map((k) => ({
        label: margins === 1 ? 'contribution' : String(classes[k]), values: col(sh.scores, k), color: palette[k % palette.length]}));
      if (margins === 1 && Array.isArray(sh.std)) {
        // the error band as a thin floating bar over each level's bar
        const y = col(sh.scores, 0), sd = col(sh.std, 0);
        groups.unshift({label: '±2 s.d. across bags', values: y.map((v, i) => [v - 2 * sd[i], v + 2 * sd[i]]), color: 'rgba(29, 36, 48, 0.55)',
          extra: {grouped: false, barPercentage: 0.12, order: -1}});
      }
      fig = bars(levels, groups, {categoryTitle: sh.feature, valueTitle: yTitle, height: 220, label: 'shape of ' + sh.feature});
    }
    const miss = Array.isArray(sh.missing_score) ? sh.missing_score[0] : null;
    fig.prepend(h('h3', {}, sh.feature, sh.monotone ? ` (monotone ${sh.monotone > 0 ? 'increasing' : 'decreasing'})` : ''));
    if (miss !== null && miss !== undefined) fig.append(h('p', {class: 'note'}, `missing values: ${num(miss, 3)}`));
    figs.push(fig);
  }
  const out = [];
  const b0 = Array.isArray(student.intercept) ? student.intercept.map((v) => num(v, 4)).join(', ') : num(student.intercept, 4);
  out.push(h('p', {class: 'note'}, `Score = intercept (${b0}) plus one function per feature, each centred on the training rows; the band is ±2 standard deviations of the bin's score across bags — wide where the data are thin.`));
  out.push(figs.length ? h('div', {class: 'grid-charts', id: 'gam-shapes'}, figs) : h('p', {class: 'note'}, 'Every shape is flat.'));
  const pairs = student.interactions || [];
  if (pairs.length) out.push(h('p', {class: 'note'}, `Interaction terms: ${pairs.map((p) => p.features.join(' × ')).join('; ')} (tables in the artifact).`));
  return out;
}

// ---- SBDT --------------------------------------------------------------------

// One filter's weights as a height x width picture (also used by the
// "Score a row" panel for the nodes a row visits).
export function filterPicture(weights, image) {
  const w = image.width, hgt = image.height;
  const canvas = h('canvas', {width: w, height: hgt, class: 'filter-img', role: 'img', 'aria-label': 'filter weights as a picture'});
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(w, hgt);
  const m = Math.max(1e-12, ...weights.map(Math.abs));
  for (let i = 0; i < w * hgt && i < weights.length; i++) {
    const t = weights[i] / m;
    const c = t >= 0 ? [31, 95, 168] : [217, 98, 43];
    const a = Math.abs(t);
    data.data[4 * i] = Math.round(255 + (c[0] - 255) * a);
    data.data[4 * i + 1] = Math.round(255 + (c[1] - 255) * a);
    data.data[4 * i + 2] = Math.round(255 + (c[2] - 255) * a);
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

function sbdtSection(student) {
  const inner = (student.inner || []).filter((n) => Array.isArray(n.filter));
  const leaves = student.leaves || [];
  const image = student.image;
  const features = (student.features || []).map((f) => (typeof f === 'string' ? f : f.name));
  const out = [h('p', {class: 'note'}, `A soft tree of depth ${student.depth ?? '?'}: each inner node sends a row right with probability sigmoid(beta · (filter · x + bias)) on the standardised inputs (beta = ${num(student.beta)}${student.beta_learned ? ', learned' : ''}); a row is explained by its most probable path.`)];
  if (inner.length) {
    out.push(h('h3', {}, 'Filters of the inner nodes'), h('p', {class: 'note'}, image ? 'Each picture is one node\'s weights over the pixels: blue pushes right, orange pushes left.' : 'Each chart is one node\'s weight per feature: positive pushes right.'));
    out.push(h('div', {class: image ? 'filters' : 'grid-charts', id: 'sbdt-filters'}, inner.map((n, i) => {
      const title = `node ${n.node ?? i} (depth ${n.depth ?? '?'}), bias ${num(n.bias)}`;
      if (image) return h('figure', {class: 'filter'}, filterPicture(n.filter, image), h('figcaption', {}, title));
      const fig = bars(features.length === n.filter.length ? features : n.filter.map((_, k) => 'x' + k), [{label: 'weight', values: n.filter, colors: n.filter.map((v) => (v >= 0 ? COLORS.teacher : COLORS.student))}], {horizontal: true, height: Math.max(160, 18 * n.filter.length + 50), label: 'filter of ' + title});
      fig.prepend(h('h3', {}, title));
      return fig;
    })));
  }
  if (leaves.length) {
    out.push(h('h3', {}, 'Leaves'));
    const labels = leaves.map((l, i) => `leaf ${l.leaf ?? i}`);
    if (Array.isArray(leaves[0].distribution)) {
      const classes = student.classes || leaves[0].distribution.map((_, k) => String(k));
      const palette = [COLORS.student, COLORS.teacher, COLORS.baseline, '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#2c3e50', '#d35400', '#27ae60'];
      out.push(bars(labels, classes.map((c, k) => ({label: String(c), values: leaves.map((l) => l.distribution[k]), color: palette[k % palette.length]})),
        {valueTitle: 'probability', min: 0, max: 1, label: 'leaf class distributions', height: 260, id: 'sbdt-leaves'}));
    } else {
      out.push(bars(labels, [{label: 'value', values: leaves.map((l) => l.value), color: COLORS.student}], {valueTitle: 'prediction', label: 'leaf values', height: 240}));
    }
  }
  return out;
}

export function studentSection(student, report) {
  let body;
  if (student.type === 'tree') body = treeSection(student);
  else if (student.type === 'logistic' || student.type === 'linear') body = linearSection(student);
  else if (student.type === 'gam') body = gamSection(student);
  else if (student.type === 'sbdt') body = sbdtSection(student);
  else body = [h('p', {class: 'note'}, `No view for student type "${student.type}".`)];
  const cx = student.complexity || (report && report.complexity);
  return section(`The student: ${student.type}`, cx ? Object.entries(cx).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : null, body);
}

export {pct};
