// score.js - "Score a row": one input per student feature, POST
// /runs/{id}/predict?explain=1, and the answer drawn: the class
// probabilities (regression: the value), then the explanation - exact
// attributions as bars in the model's margin space, or an SBDT's most
// probable path with its filters and the leaf it reaches. Every value
// typed is checked here first (a bad number is outlined and named); the
// server's 422 is shown against the field it names.
import {api} from './api.js';
import {h, clear, num, pct, table, errorBox} from './dom.js';
import {bars, destroyIn, COLORS} from './charts.js';
import {filterPicture} from './student.js';

const TOP = 10;   // contributions drawn one by one; the rest are summed

// The inputs a student needs, from its artifact's `features`: objects
// {name, kind, levels} (tree, GAM) or plain names (logistic/linear, SBDT).
// One-hot names "col=level" whose column is not itself a feature become one
// categorical input for the column: the server binds {"col": "level"} to
// every "col=level" feature (docs/API.md, predict).
export function studentInputs(student) {
  const raw = (student.features || []).map((f) => (typeof f === 'string' ? {name: f, kind: 'numeric'} : {name: f.name, kind: f.kind === 'categorical' ? 'categorical' : 'numeric', levels: f.levels || []}));
  const plain = new Set(raw.map((f) => f.name));
  const out = [];
  const groups = new Map();
  for (const f of raw) {
    const eq = f.name.indexOf('=');
    const col = eq > 0 ? f.name.slice(0, eq) : null;
    if (typeof (student.features || [])[0] === 'string' && col && !plain.has(col)) {
      let g = groups.get(col);
      if (!g) {
        g = {name: col, kind: 'categorical', levels: [], onehot: true};
        groups.set(col, g);
        out.push(g);
      }
      g.levels.push(f.name.slice(eq + 1));
    } else {
      out.push(f);
    }
  }
  return out;
}

function argmax(values) {
  let k = 0;
  values.forEach((v, i) => { if (v > values[k]) k = i; });
  return k;
}

// The value a row holds for a contribution's feature, as text.
function valueText(feature, row) {
  if (Object.prototype.hasOwnProperty.call(row, feature)) return row[feature] === null ? 'missing' : String(row[feature]);
  const eq = feature.indexOf('=');
  if (eq > 0 && Object.prototype.hasOwnProperty.call(row, feature.slice(0, eq))) {
    const v = row[feature.slice(0, eq)];
    return v === null ? 'missing' : v === feature.slice(eq + 1) ? 'yes' : 'no';
  }
  return '';
}

function predictionBlock(resp, student) {
  const p = resp.predictions[0];
  if (!Array.isArray(p)) {
    return h('div', {class: 'stats'}, h('div', {class: 'stat', id: 'score-value', 'data-value': String(p)},
      h('div', {class: 'stat-label'}, 'Prediction'), h('div', {class: 'stat-value'}, num(p, 4))));
  }
  const classes = resp.classes || student.classes || p.map((_, k) => String(k));
  const k = argmax(p);
  return h('div', {},
    h('div', {class: 'stats'}, h('div', {class: 'stat', id: 'score-predicted'},
      h('div', {class: 'stat-label'}, 'Most probable class'), h('div', {class: 'stat-value'}, String(classes[k])), h('div', {class: 'stat-sub'}, pct(p[k])))),
    table(['Class', 'Probability', ''], p.map((v, i) => [
      h('td', {class: i === k ? 'better' : ''}, String(classes[i])),
      h('td', {class: 'numeric' + (i === k ? ' better' : ''), 'data-p': String(v)}, num(v, 4)),
      h('td', {class: 'barcell'}, h('meter', {min: 0, max: 1, value: v, 'aria-label': `probability of ${classes[i]}`}))]), {class: 'compact score-probs', id: 'score-probs'}));
}

// ---- attributions --------------------------------------------------------------

function marginSentence(resp, block, classes, cls, margin) {
  const b = num(block.bias, 4);
  if (resp.task === 'regression') return `In the output's units: the bias (${b}) plus every feature's contribution adds up to the prediction, ${num(margin, 4)}.`;
  if (resp.task === 'multiclass') return `In the margin (softmax score) of class "${cls}": the bias (${b}) plus every feature's contribution adds up to its margin, ${num(margin, 4)}; the probabilities are the softmax of all classes' margins.`;
  return `In log-odds of "${classes[1]}": the bias (${b}) plus every feature's contribution adds up to the margin ${num(margin, 4)} = log(P(${classes[1]}) / P(${classes[0]})); positive pushes towards "${classes[1]}".`;
}

// The chart's entries: one per input of the form.  The one-hot columns
// "col=level" of one categorical input are summed into one bar for the
// column - together they are that feature's contribution (each level's
// column contributes even when the row does not hold that level).
export function groupedContributions(contributions, row) {
  const has = (k) => Object.prototype.hasOwnProperty.call(row, k);
  const out = new Map();
  for (const [f, v] of Object.entries(contributions || {})) {
    if (typeof v !== 'number') continue;
    const eq = f.indexOf('=');
    const col = eq > 0 && !has(f) && has(f.slice(0, eq)) ? f.slice(0, eq) : null;
    const key = col !== null ? col : f;
    let e = out.get(key);
    if (!e) {
      const vt = col !== null ? (row[col] === null ? 'missing' : String(row[col])) : valueText(f, row);
      e = {label: vt ? `${key} = ${vt}` : key, value: 0};
      out.set(key, e);
    }
    e.value += v;
  }
  return [...out.values()];
}

function attributionChart(resp, block, row, classes, cls) {
  const entries = Object.entries(block.contributions || {}).filter(([, v]) => typeof v === 'number');
  const grouped = groupedContributions(block.contributions, row);
  grouped.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.label.localeCompare(b.label));
  const top = grouped.slice(0, TOP);
  const rest = grouped.slice(TOP);
  const labels = ['bias'];
  const values = [block.bias];
  const colors = [COLORS.grey];
  for (const {label, value} of top) {
    labels.push(label);
    values.push(value);
    colors.push(value >= 0 ? COLORS.teacher : COLORS.student);
  }
  if (rest.length) {
    labels.push(`other ${rest.length} features`);
    values.push(rest.reduce((s, e) => s + e.value, 0));
    colors.push('#b8bec8');
  }
  const margin = block.bias + entries.reduce((s, [, v]) => s + v, 0);
  const unit = resp.task === 'regression' ? 'contribution to the prediction' : resp.task === 'multiclass' ? `contribution to the margin of "${cls}"` : `contribution to the log-odds of "${classes[1]}"`;
  const fig = bars(labels, [{label: 'contribution', values, colors}], {horizontal: true, valueTitle: unit,
    label: 'contributions to the margin', height: Math.max(180, 30 * labels.length + 60), id: 'score-contrib'});
  return [
    h('p', {class: 'note', id: 'score-sentence'}, marginSentence(resp, block, classes, cls, margin)),
    fig,
    h('details', {}, h('summary', {}, `All ${entries.length} contributions as a table`),
      table(['Feature', 'Value', 'Contribution'], [
        ['bias', '', h('td', {class: 'numeric'}, num(block.bias, 4))],
        ...entries.map(([f, v]) => [f, valueText(f, row), h('td', {class: 'numeric'}, num(v, 4))]),
        [h('td', {}, h('strong', {}, 'margin (sum)')), '', h('td', {class: 'numeric'}, h('strong', {}, num(margin, 4)))],
      ], {class: 'compact', id: 'score-contrib-table'})),
  ];
}

function attributionsBlock(resp, ex, row, student) {
  const p = resp.predictions[0];
  const classes = resp.classes || student.classes || [];
  const out = h('div', {id: 'score-explanation'});
  const chartBox = h('div');
  if (Array.isArray(ex.by_class) && ex.by_class.length) {
    const start = Array.isArray(p) ? argmax(p) : 0;
    const sel = h('select', {id: 'score-class'}, ex.by_class.map((b, i) => h('option', {value: String(i), selected: i === start}, String(b.class ?? classes[i] ?? i))));
    const draw = () => {
      destroyIn(chartBox);
      clear(chartBox);
      const i = Number(sel.value);
      chartBox.append(...attributionChart(resp, ex.by_class[i], row, classes, String(ex.by_class[i].class ?? classes[i] ?? i)));
    };
    sel.addEventListener('change', draw);
    out.append(h('div', {class: 'actions noprint'}, h('label', {for: 'score-class'}, 'Contributions towards class'), sel), chartBox);
    draw();
  } else {
    chartBox.append(...attributionChart(resp, ex, row, classes, classes[1]));
    out.append(chartBox);
  }
  return out;
}

// ---- SBDT path -----------------------------------------------------------------

// The row typed, as a picture (image students): darker is larger.
function rowPicture(row, student, image) {
  const names = (student.features || []).map((f) => (typeof f === 'string' ? f : f.name));
  const vals = names.map((n) => (typeof row[n] === 'number' ? row[n] : null));
  const lo = Math.min(0, ...vals.filter((v) => v !== null));
  const hi = Math.max(lo + 1e-12, ...vals.filter((v) => v !== null));
  const canvas = h('canvas', {width: image.width, height: image.height, class: 'filter-img', id: 'score-row-img', role: 'img', 'aria-label': 'the row as a picture'});
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(image.width, image.height);
  for (let i = 0; i < image.width * image.height && i < vals.length; i++) {
    // missing pixels are drawn in a pale orange
    const c = vals[i] === null ? [251, 224, 205] : Array(3).fill(Math.round(255 * (1 - (vals[i] - lo) / (hi - lo))));
    data.data.set([...c, 255], 4 * i);
  }
  ctx.putImageData(data, 0, 0);
  return h('figure', {class: 'filter'}, canvas, h('figcaption', {}, 'the row'));
}

function pathBlock(resp, ex, student, row) {
  const inner = new Map((student.inner || []).map((n, i) => [n.node ?? i, n]));
  const leaves = student.leaves || [];
  const leaf = leaves.find((l, i) => (l.leaf ?? i) === ex.leaf) || leaves[ex.leaf];
  const image = student.image && student.image.width && student.image.height ? student.image : null;
  const steps = Array.isArray(ex.path) ? ex.path : [];
  const out = h('div', {id: 'score-explanation'});
  out.append(h('p', {class: 'note', id: 'score-sentence'},
    `The row's most probable path through the soft tree: at each node it goes right with probability sigmoid(beta · (filter · z + bias)) on the standardised inputs z; the path probability is the product of the steps' probabilities${typeof ex.path_probability === 'number' ? `, here ${num(ex.path_probability, 4)}` : ''}.`));
  if (image) out.append(h('div', {class: 'filters'}, rowPicture(row, student, image)), h('p', {class: 'note'}, 'Each picture beside a step is the filter of the node visited: blue pushes right, orange pushes left.'));
  out.append(h('ol', {class: 'score-path', id: 'score-path'}, steps.map((st, i) => {
    const node = inner.get(st.node);
    const text = `${i + 1}. node ${st.node ?? '?'} (depth ${st.depth ?? '?'}): went ${st.direction || '?'} with probability ${num(st.probability, 4)}`;
    return h('li', {'data-node': st.node}, h('div', {class: 'step'},
      image && node && Array.isArray(node.filter) ? filterPicture(node.filter, image) : null,
      h('span', {}, text)));
  })));
  const leafTitle = `Leaf ${ex.leaf ?? '?'}${ex.leaf_node !== undefined ? ` (node ${ex.leaf_node})` : ''} reached${typeof ex.path_probability === 'number' ? ` with path probability ${num(ex.path_probability, 4)}` : ''}`;
  out.append(h('h3', {id: 'score-leaf'}, leafTitle));
  if (leaf && Array.isArray(leaf.distribution)) {
    const classes = resp.classes || student.classes || leaf.distribution.map((_, k) => String(k));
    const k = argmax(leaf.distribution);
    out.append(bars(classes.map(String), [{label: 'probability', values: leaf.distribution, colors: leaf.distribution.map((_, i) => (i === k ? COLORS.student : COLORS.grey))}],
      {valueTitle: 'probability', min: 0, max: 1, label: 'class distribution of the leaf reached', height: 220, id: 'score-leaf-dist'}));
  } else if (leaf && typeof leaf.value === 'number') {
    out.append(h('p', {}, `The leaf predicts ${num(leaf.value, 4)}.`));
  } else {
    out.append(h('p', {class: 'note'}, 'The artifact has no such leaf.'));
  }
  return out;
}

// ---- the panel -----------------------------------------------------------------

// scoreSection(runId, student, dataset) -> <section>. dataset (may be null)
// gives each numeric feature's training range and mean as a hint.
export function scoreSection(runId, student, dataset) {
  const inputs = studentInputs(student);
  const cols = new Map(((dataset && dataset.columns) || []).map((c) => [c.name, c]));
  const fields = new Map();   // feature / column name -> input element
  const errors = h('div', {id: 'score-errors', 'aria-live': 'assertive'});
  const result = h('div', {id: 'score-result', 'aria-live': 'polite'});
  const grid = h('div', {class: 'score-fields', id: 'score-fields'});

  inputs.forEach((f, i) => {
    const id = 'score-f' + i;
    const c = cols.get(f.name);
    let el;
    let hint = null;
    if (f.kind === 'categorical') {
      el = h('select', {id, 'data-feature': f.name}, h('option', {value: ''}, '(missing)'), f.levels.map((l) => h('option', {value: l}, l)));
    } else {
      el = h('input', {id, 'data-feature': f.name, type: 'text', inputmode: 'decimal', size: 10, placeholder: 'missing', autocomplete: 'off'});
      if (c && c.type === 'numeric' && typeof c.min === 'number') hint = `${num(c.min)} – ${num(c.max)}, mean ${num(c.mean)}`;
    }
    el.setAttribute('aria-describedby', (hint ? id + '-hint ' : '') + id + '-err');
    fields.set(f.name, el);
    grid.append(h('div', {class: 'score-field'}, h('label', {for: id}, f.name), el,
      hint ? h('span', {class: 'note', id: id + '-hint'}, hint) : null, h('span', {class: 'field-error', id: id + '-err'})));
  });

  // Outlines a field and writes the problem under it (null clears both).
  function setFieldError(el, text) {
    el.setAttribute('aria-invalid', text ? 'true' : 'false');
    el.classList.toggle('invalid', !!text);
    const note = document.getElementById(el.id + '-err');
    if (note) { if (text) note.replaceChildren(text); else note.replaceChildren(); }
  }

  // The row as the API wants it, and the problems found (empty when none).
  function collect() {
    const row = {};
    const problems = [];
    for (const f of inputs) {
      const el = fields.get(f.name);
      setFieldError(el, null);
      const t = el.value.trim();
      if (t === '') { row[f.name] = null; continue; }
      if (f.kind === 'categorical') { row[f.name] = t; continue; }
      const v = Number(t);
      if (!Number.isFinite(v)) {
        setFieldError(el, 'not a number');
        problems.push(`${f.name} must be a number (leave it empty for missing), not "${t}"`);
      } else {
        row[f.name] = v;
      }
    }
    return {row, problems};
  }

  function fieldFor(name) {
    if (fields.has(name)) return fields.get(name);
    const eq = name.indexOf('=');
    return eq > 0 ? fields.get(name.slice(0, eq)) || null : null;
  }

  async function predict(row) {
    const path = `/runs/${encodeURIComponent(runId)}/predict`;
    try {
      return {resp: await api('POST', path + '?explain=1', {rows: [row]}), note: null};
    } catch (err) {
      // A student type without per-row explanations: the prediction alone.
      if (err.status !== 422 || (err.details && err.details.field)) throw err;
      return {resp: await api('POST', path, {rows: [row]}), note: err.message};
    }
  }

  const submit = h('button', {type: 'submit', id: 'score-submit'}, 'Score this row');
  const fill = h('button', {type: 'button', id: 'score-fill', class: 'link', disabled: !dataset}, 'Fill with the dataset\'s means');
  const blank = h('button', {type: 'button', id: 'score-clear', class: 'link'}, 'Clear (all missing)');
  fill.addEventListener('click', () => {
    for (const f of inputs) {
      const c = cols.get(f.name);
      if (f.kind === 'numeric' && c && typeof c.mean === 'number') fields.get(f.name).value = String(Number(c.mean.toPrecision(6)));
    }
  });
  blank.addEventListener('click', () => { for (const el of fields.values()) el.value = ''; });

  const form = h('form', {id: 'score-form', class: 'noprint', novalidate: true},
    grid, errors, h('div', {class: 'actions'}, submit, fill, blank));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errors);
    const {row, problems} = collect();
    if (problems.length) {
      errors.append(h('div', {class: 'error', role: 'alert'}, h('strong', {}, 'Please fix: '), h('ul', {}, problems.map((t) => h('li', {}, t)))));
      return;
    }
    submit.disabled = true;
    destroyIn(result);
    clear(result);
    try {
      const {resp, note} = await predict(row);
      result.append(h('h3', {}, student.task === 'regression' || resp.task === 'regression' ? 'Prediction' : 'Predicted probabilities'), predictionBlock(resp, student));
      const ex = Array.isArray(resp.explanations) ? resp.explanations[0] : null;
      // Answers from before explanation_kind carried attributions only.
      const kind = resp.explanation_kind || (ex && (ex.explanation_kind || (Array.isArray(ex.path) ? 'path' : null))) || 'attributions';
      if (!ex) {
        result.append(h('p', {class: 'note', id: 'score-no-explanation'}, `No per-row explanation for a ${student.type} student${note ? ` (the server says: ${note})` : ''}.`));
      } else if (kind !== 'path' && kind !== 'attributions') {
        result.append(h('p', {class: 'note', id: 'score-no-explanation'}, `The server explains this row as "${kind}", which this dashboard cannot draw yet.`));
      } else if (kind === 'path') {
        result.append(h('h3', {}, 'Why: the path it took'), pathBlock(resp, ex, student, row));
      } else {
        result.append(h('h3', {}, 'Why: each feature\'s contribution'), attributionsBlock(resp, ex, row, student));
      }
    } catch (err) {
      errors.append(errorBox(err));
      const el = err.details && typeof err.details.field === 'string' ? fieldFor(err.details.field) : null;
      if (el) setFieldError(el, err.message);
    } finally {
      submit.disabled = false;
    }
  });

  const section = h('section', {class: 'card', id: 'score'}, h('h2', {}, 'Score a row'),
    h('p', {class: 'note'}, `What does the student say for one applicant, and why? Enter a value per feature (empty = missing${inputs.some((f) => f.kind === 'categorical') ? '; categorical features offer the levels seen in training' : ''}); the row is scored by the server with this run's student (POST /runs/{id}/predict?explain=1).`),
    form, result);
  return section;
}
