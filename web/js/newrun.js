// newrun.js - the new-run form: dataset, teacher (model file(s) or score
// columns), student type with its documented parameter defaults, the
// distillation settings; every field is checked here before POST /runs
// (the server checks again and answers 422 naming the field).
import {api, listAll} from './api.js';
import {h, clear, errorBox} from './dom.js';

// [name, default, check(value) -> error text or null, help]
const int = (lo, hi) => (v) => (Number.isInteger(v) && v >= lo && v <= hi ? null : `a whole number from ${lo} to ${hi}`);
const atLeast = (lo, strict = false) => (v) => (Number.isFinite(v) && (strict ? v > lo : v >= lo) ? null : `a number ${strict ? '>' : '>='} ${lo}`);
const within = (lo, hi) => (v) => (Number.isFinite(v) && v > lo && v <= hi ? null : `a number in (${lo}, ${hi}]`);

export const STUDENT_PARAMS = {
  tree: [
    ['max_depth', 6, int(1, 32), 'longest root-to-leaf path'],
    ['min_samples_leaf', 1, int(1, 1e9), 'fewest training rows per leaf'],
    ['max_leaves', 0, (v) => (Number.isInteger(v) && (v === 0 || v >= 2) ? null : '0 (no limit) or a whole number >= 2'), '0 = no limit'],
    ['max_bins', 255, int(2, 255), 'quantile bins per numeric feature'],
  ],
  logistic: [
    ['l2', 1e-4, atLeast(0), 'L2 penalty (standardised weights)'],
    ['l1', 0, atLeast(0), 'L1 penalty; > 0 selects features'],
    ['max_iter', 500, int(1, 100000), 'optimiser iterations'],
    ['tol', 1e-7, within(0, 1), 'gradient tolerance'],
    ['pdo', 20, atLeast(0, true), 'scorecard points to double the odds'],
    ['base_score', 600, (v) => (Number.isFinite(v) ? null : 'a finite number'), 'scorecard score at base_odds'],
    ['base_odds', 50, atLeast(0, true), 'odds at base_score'],
  ],
  linear: [
    ['l2', 1e-4, atLeast(0), 'L2 penalty (standardised weights)'],
    ['l1', 0, atLeast(0), 'L1 penalty'],
    ['max_iter', 500, int(1, 100000), 'optimiser iterations'],
    ['tol', 1e-7, within(0, 1), 'gradient tolerance'],
  ],
  sbdt: [
    ['max_depth', 4, int(1, 10), '2^d leaves, 2^d - 1 filters'],
    ['epochs', 40, int(1, 100000), 'passes over the training rows'],
    ['batch_size', 64, int(1, 1000000), 'rows per Adam step'],
    ['learning_rate', 0.01, within(0, 10), 'Adam step size'],
    ['penalty', 0.1, (v) => (Number.isFinite(v) && v >= 0 && v <= 1e6 ? null : 'a number in [0, 1e6]'), 'balancing penalty lambda'],
    ['beta', 'learned', (v) => (v === 'learned' || (Number.isFinite(v) && v > 0) ? null : '"learned" or a number > 0'), 'inverse temperature of the splits'],
  ],
  gam: [
    ['rounds', 5000, int(1, 100000), 'most boosting rounds per bag'],
    ['learning_rate', 0.02, within(0, 1), 'step size of every update'],
    ['max_bins', 255, int(2, 255), 'quantile bins per numeric feature'],
    ['bags', 4, int(1, 64), 'bags averaged; their spread is the error band'],
    ['interactions', 0, int(0, 1000), 'pairwise terms'],
    ['monotone', null, (v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === 1 || x === -1) ? null : 'JSON like {"age": 1}'), 'JSON {"feature": 1 or -1}'],
  ],
};

function parseValue(name, text) {
  const t = text.trim();
  if (t === '') return undefined;
  if (name === 'beta' && t === 'learned') return 'learned';
  if (name === 'monotone') { try { return JSON.parse(t); } catch { return null; } }
  return t === '' ? undefined : Number(t);
}

export async function newRunView(root, params) {
  const [datasets, teachers] = await Promise.all([listAll('/datasets'), listAll('/teachers')]);
  const errors = h('div', {id: 'form-errors', 'aria-live': 'assertive'});
  const fieldError = new Map();

  const dsSel = h('select', {id: 'dataset', name: 'dataset', required: true},
    h('option', {value: ''}, '— choose a dataset —'),
    datasets.map((d) => h('option', {value: d.id, selected: d.id === params.get('dataset')}, `${d.name} (${d.rows} rows, target ${d.target})`)));
  const modeModel = h('input', {type: 'radio', name: 'tmode', value: 'model', id: 'tmode-model', checked: true});
  const modeScores = h('input', {type: 'radio', name: 'tmode', value: 'scores', id: 'tmode-scores'});
  const tSel = h('select', {id: 'teacher', name: 'teacher', multiple: true, size: Math.min(6, Math.max(2, teachers.length))},
    teachers.map((t) => h('option', {value: t.id}, `${t.name} (${t.kind}, ${t.features ? t.features.length : '?'} features)`)));
  const scoreBox = h('div', {id: 'score-columns', class: 'checks'});
  const teacherNote = h('p', {class: 'note', id: 'teacher-note'});
  const stSel = h('select', {id: 'student', name: 'student'},
    Object.keys(STUDENT_PARAMS).map((k) => h('option', {value: k}, k)));
  const paramBox = h('div', {id: 'params', class: 'grid-form'});
  const num = (id, value, step = 'any') => h('input', {id, name: id, type: 'text', inputmode: 'decimal', value: String(value), size: 8, 'data-step': step});
  const temperature = num('temperature', 1);
  const alphaIn = num('alpha', 0);
  const testFraction = num('test_fraction', 0.25);
  const splitSeed = num('split_seed', 0);
  const seed = num('seed', 0);
  const explainSel = h('select', {id: 'explain'}, ['fast', 'full', 'none'].map((v) => h('option', {value: v}, v)));
  const frontier = h('input', {type: 'checkbox', id: 'frontier', checked: true});
  let dataset = null;

  function renderParams() {
    clear(paramBox);
    for (const [name, def, , help] of STUDENT_PARAMS[stSel.value]) {
      const input = h('input', {id: 'p-' + name, name, type: 'text', size: 10,
        value: def === null ? '' : String(def), placeholder: def === null ? 'none' : ''});
      paramBox.append(h('label', {for: 'p-' + name}, name), input, h('span', {class: 'note'}, help));
    }
  }

  async function loadDataset() {
    clear(scoreBox);
    dataset = null;
    if (!dsSel.value) return;
    dataset = await api('GET', '/datasets/' + encodeURIComponent(dsSel.value));
    for (const c of dataset.columns || []) {
      if (c.type !== 'numeric' || c.name === dataset.target) continue;
      scoreBox.append(h('label', {class: 'check'}, h('input', {type: 'checkbox', value: c.name, name: 'scores'}), c.name));
    }
    if (!scoreBox.firstChild) scoreBox.append(h('span', {class: 'note'}, 'this dataset has no numeric columns besides the target'));
    checkTeacher();
  }

  function checkTeacher() {
    teacherNote.textContent = '';
    if (!dataset || !modeModel.checked) return;
    const cols = new Set((dataset.columns || []).map((c) => c.name));
    for (const opt of tSel.selectedOptions) {
      const t = teachers.find((x) => x.id === opt.value);
      // One-hot inputs are named "column=level".
      const missing = (t.features || []).filter((f) => !cols.has(f) && !(f.includes('=') && cols.has(f.slice(0, f.indexOf('=')))));
      if (missing.length) teacherNote.textContent = `${t.name} expects columns this dataset may lack: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? '…' : ''} (the server checks when you start the run)`;
    }
  }

  function setFieldError(el, text) {
    el.setAttribute('aria-invalid', text ? 'true' : 'false');
    el.classList.toggle('invalid', !!text);
    if (text) fieldError.set(el.id, text); else fieldError.delete(el.id);
  }

  function collect() {
    fieldError.clear();
    for (const el of root.querySelectorAll('.invalid')) setFieldError(el, null);
    const body = {};
    if (!dsSel.value) setFieldError(dsSel, 'choose a dataset');
    body.dataset_id = dsSel.value;
    if (modeModel.checked) {
      const ids = [...tSel.selectedOptions].map((o) => o.value);
      if (ids.length === 0) setFieldError(tSel, 'choose a teacher (several form an ensemble)');
      body.teacher = ids.length === 1 ? {id: ids[0]} : {ids};
    } else {
      const cols = [...scoreBox.querySelectorAll('input:checked')].map((i) => i.value);
      if (cols.length === 0) setFieldError(scoreBox, 'tick the score column(s) holding the teacher\'s probabilities');
      body.teacher = {scores: cols};
    }
    const p = {};
    for (const [name, , check] of STUDENT_PARAMS[stSel.value]) {
      const input = root.querySelector('#p-' + name);
      const v = parseValue(name, input.value);
      if (v === undefined) continue;
      const problem = v === null ? 'not valid JSON' : check(v);
      if (problem) setFieldError(input, `${name} must be ${problem}`);
      else p[name] = v;
    }
    body.student = {type: stSel.value, params: p};
    const numeric = (el, check, label) => {
      const v = Number(el.value.trim());
      const problem = el.value.trim() === '' ? 'a number' : check(v);
      if (problem) setFieldError(el, `${label} must be ${problem}`);
      return v;
    };
    body.distill = {
      temperature: numeric(temperature, atLeast(0, true), 'temperature'),
      alpha: numeric(alphaIn, (v) => (v >= 0 && v <= 1 ? null : 'in [0, 1]'), 'alpha'),
    };
    body.split = {
      test_fraction: numeric(testFraction, (v) => (v > 0 && v < 1 ? null : 'in (0, 1)'), 'test fraction'),
      seed: numeric(splitSeed, int(0, Number.MAX_SAFE_INTEGER), 'split seed'),
    };
    body.seed = numeric(seed, int(0, Number.MAX_SAFE_INTEGER), 'seed');
    body.explain = {level: explainSel.value, frontier: frontier.checked};
    return body;
  }

  const form = h('form', {id: 'new-run', class: 'card', novalidate: true},
    h('h1', {}, 'New distillation run'),
    h('fieldset', {}, h('legend', {}, 'Data'),
      h('label', {for: 'dataset'}, 'Dataset'), dsSel,
      datasets.length ? null : h('p', {class: 'note'}, 'No datasets yet: ', h('a', {href: '#/upload'}, 'upload one'), '.')),
    h('fieldset', {}, h('legend', {}, 'Teacher'),
      h('div', {class: 'checks'}, h('label', {class: 'check'}, modeModel, 'model file(s)'), h('label', {class: 'check'}, modeScores, 'score columns of the dataset')),
      h('div', {id: 'teacher-model'}, h('label', {for: 'teacher'}, 'Teacher (select several for an ensemble)'), tSel, teacherNote),
      h('div', {id: 'teacher-scores', hidden: true}, h('p', {class: 'note'}, 'Columns holding the teacher\'s probabilities: P(class 1), or one per class.'), scoreBox)),
    h('fieldset', {}, h('legend', {}, 'Student'),
      h('label', {for: 'student'}, 'Type'), stSel, paramBox),
    h('fieldset', {}, h('legend', {}, 'Distillation and evaluation'),
      h('div', {class: 'grid-form'},
        h('label', {for: 'temperature'}, 'temperature'), temperature, h('span', {class: 'note'}, 'T > 0 softens the teacher\'s probabilities'),
        h('label', {for: 'alpha'}, 'alpha'), alphaIn, h('span', {class: 'note'}, 'weight of the hard labels, 0..1'),
        h('label', {for: 'test_fraction'}, 'test fraction'), testFraction, h('span', {class: 'note'}, 'share of rows held out'),
        h('label', {for: 'split_seed'}, 'split seed'), splitSeed, h('span'),
        h('label', {for: 'seed'}, 'seed'), seed, h('span', {class: 'note'}, 'student and bootstrap'),
        h('label', {for: 'explain'}, 'explanations'), explainSel, h('span'),
        h('label', {for: 'frontier'}, 'frontier'), frontier, h('span', {class: 'note'}, 'refit at increasing complexity'))),
    errors,
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'start-run'}, 'Start run')));

  modeModel.addEventListener('change', () => { form.querySelector('#teacher-model').hidden = false; form.querySelector('#teacher-scores').hidden = true; });
  modeScores.addEventListener('change', () => { form.querySelector('#teacher-model').hidden = true; form.querySelector('#teacher-scores').hidden = false; });
  dsSel.addEventListener('change', () => loadDataset().catch((e) => errors.append(errorBox(e))));
  tSel.addEventListener('change', checkTeacher);
  stSel.addEventListener('change', renderParams);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(errors);
    const body = collect();
    if (fieldError.size) {
      errors.append(h('div', {class: 'error', role: 'alert'}, h('strong', {}, 'Please fix: '),
        h('ul', {}, [...fieldError.values()].map((t) => h('li', {}, t)))));
      return;
    }
    const button = form.querySelector('#start-run');
    button.disabled = true;
    try {
      const run = await api('POST', '/runs', body);
      location.hash = '#/runs/' + encodeURIComponent(run.id);
    } catch (err) {
      errors.append(errorBox(err));
      if (err.details && Array.isArray(err.details.missing)) errors.append(h('p', {class: 'note'}, 'Missing: ' + err.details.missing.join(', ')));
      // The server names the field (e.g. "student.params.max_depth", "distill.alpha").
      if (err.details && typeof err.details.field === 'string') {
        const f = err.details.field;
        const last = f.split('.').pop();
        const el = (f.startsWith('student.params') && form.querySelector('#p-' + CSS.escape(last))) ||
          (f.startsWith('teacher') && (modeModel.checked ? tSel : scoreBox)) ||
          (f.startsWith('dataset') && dsSel) ||
          (f === 'split.seed' && splitSeed) ||
          form.querySelector(`[name="${CSS.escape(last)}"]`);
        if (el) setFieldError(el, err.message);
      }
    } finally {
      button.disabled = false;
    }
  });
  renderParams();
  root.append(form);
  if (dsSel.value) await loadDataset();
  return null;
}
