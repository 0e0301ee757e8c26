// upload.js - dataset (CSV) and teacher (model file) uploads with a
// progress bar; the target column is picked from the CSV's header row,
// read in the browser before anything is sent.
import {upload, listAll} from './api.js';
import {h, clear, errorBox, num, when} from './dom.js';

// The fields of a CSV header line (RFC 4180 quoting, BOM tolerated).
export function parseHeader(text) {
  let line = text.replace(/^\uFEFF/, '');
  const fields = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(cur); cur = ''; }
    else if (c === '\n' || c === '\r') break;
    else cur += c;
  }
  fields.push(cur);
  return fields;
}

function progressRow(id) {
  const bar = h('progress', {id, max: 1, value: 0, hidden: true});
  const label = h('span', {class: 'note'});
  return {
    el: h('div', {class: 'progress-wrap'}, bar, label),
    set(f) { bar.hidden = false; bar.value = f; label.textContent = `${Math.round(f * 100)}% sent`; },
    done(text) { bar.value = 1; label.textContent = text; },
  };
}

function datasetForm() {
  const file = h('input', {type: 'file', id: 'ds-file', accept: '.csv,text/csv', required: true});
  const name = h('input', {type: 'text', id: 'ds-name', required: true, size: 30});
  const target = h('select', {id: 'ds-target', required: true}, h('option', {value: ''}, '— choose a file first —'));
  const task = h('select', {id: 'ds-task'}, ['', 'binary', 'multiclass', 'regression'].map((t) => h('option', {value: t}, t || 'infer')));
  const out = h('div', {id: 'ds-result', 'aria-live': 'polite'});
  const prog = progressRow('ds-progress');
  file.addEventListener('change', async () => {
    clear(target);
    const f = file.files[0];
    if (!f) return;
    if (!name.value) name.value = f.name.replace(/\.[^.]*$/, '');
    const cols = parseHeader(await f.slice(0, 65536).text());
    for (const c of cols) target.append(h('option', {value: c, selected: /^(target|label|default|y|class)$/i.test(c)}, c));
  });
  const form = h('form', {class: 'card', id: 'dataset-upload'},
    h('h2', {}, 'Upload a dataset'),
    h('p', {class: 'note'}, 'CSV with a header row; empty, NA, NaN and null are missing values. The same bytes uploaded twice give the existing dataset.'),
    h('div', {class: 'grid-form'},
      h('label', {for: 'ds-file'}, 'CSV file'), file, h('span'),
      h('label', {for: 'ds-name'}, 'Name'), name, h('span'),
      h('label', {for: 'ds-target'}, 'Target column'), target, h('span'),
      h('label', {for: 'ds-task'}, 'Task'), task, h('span')),
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'ds-submit'}, 'Upload dataset'), prog.el), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(out);
    const f = file.files[0];
    if (!f || !name.value.trim() || !target.value) {
      out.append(errorBox({code: 'invalid_input', message: 'choose a CSV file, a name and the target column'}));
      return;
    }
    const q = new URLSearchParams({name: name.value.trim(), target: target.value});
    if (task.value) q.set('task', task.value);
    try {
      const {status, json} = await upload('/datasets?' + q, f, 'text/csv', prog.set);
      prog.done(status === 200 ? 'already uploaded' : 'uploaded');
      out.append(h('div', {class: 'ok'},
        h('strong', {}, `${json.name}: `), `${json.rows} rows, ${json.columns.length} columns, task ${json.task}`,
        json.classes ? `, classes ${json.classes.join(', ')}` : '', ' — ',
        h('a', {href: '#/new?dataset=' + encodeURIComponent(json.id)}, 'start a run on it')));
      renderDatasetList();
    } catch (err) {
      out.append(errorBox(err));
    }
  });
  return form;
}

function teacherForm(datasets) {
  const file = h('input', {type: 'file', id: 't-file', required: true, accept: '.json,.ubj,.txt,.model'});
  const name = h('input', {type: 'text', id: 't-name', required: true, size: 30});
  const checkDs = h('select', {id: 't-check-dataset'}, h('option', {value: ''}, 'none'), datasets.map((d) => h('option', {value: d.id}, d.name)));
  const checkScores = h('input', {type: 'text', id: 't-check-scores', size: 20, placeholder: 'p_1 or p_0,p_1'});
  const out = h('div', {id: 't-result', 'aria-live': 'polite'});
  const prog = progressRow('t-progress');
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && !name.value) name.value = f.name.replace(/\.[^.]*$/, '');
  });
  const form = h('form', {class: 'card', id: 'teacher-upload'},
    h('h2', {}, 'Upload a teacher'),
    h('p', {class: 'note'}, 'glassbox-mlp JSON, XGBoost JSON or UBJSON, or a LightGBM text model; the format is detected. Optionally re-score a dataset to check the file reproduces the bank\'s own scores.'),
    h('div', {class: 'grid-form'},
      h('label', {for: 't-file'}, 'Model file'), file, h('span'),
      h('label', {for: 't-name'}, 'Name'), name, h('span'),
      h('label', {for: 't-check-dataset'}, 'Check against dataset'), checkDs, h('span'),
      h('label', {for: 't-check-scores'}, 'Its score columns'), checkScores, h('span', {class: 'note'}, 'with a check dataset')),
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 't-submit'}, 'Upload teacher'), prog.el), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(out);
    const f = file.files[0];
    if (!f || !name.value.trim()) {
      out.append(errorBox({code: 'invalid_input', message: 'choose a model file and a name'}));
      return;
    }
    if (checkDs.value && !checkScores.value.trim()) {
      out.append(errorBox({code: 'invalid_input', message: 'name the dataset\'s score columns to check against'}));
      return;
    }
    const q = new URLSearchParams({name: name.value.trim()});
    if (checkDs.value) { q.set('check_dataset', checkDs.value); q.set('check_scores', checkScores.value.trim()); }
    const type = /\.json$/i.test(f.name) ? 'application/json' : 'application/octet-stream';
    try {
      const {json} = await upload('/teachers?' + q, f, type, prog.set);
      prog.done('uploaded');
      const ck = json.check || json.score_check;
      const check = ck ? ` — re-scored ${ck.rows} rows: largest difference from the supplied scores ${num(ck.max_abs_diff)} (line ${ck.worst_line}), mean ${num(ck.mean_abs_diff)}` : '';
      out.append(h('div', {class: 'ok'}, h('strong', {}, `${json.name}: `),
        `${json.kind}, task ${json.task}, ${json.features ? json.features.length : 0} features${check}`));
      renderDatasetList();
    } catch (err) {
      out.append(errorBox(err));
    }
  });
  return form;
}

const listBox = h('div', {id: 'dataset-list'});

async function renderDatasetList() {
  const [datasets, teachers] = await Promise.all([listAll('/datasets'), listAll('/teachers')]);
  clear(listBox);
  listBox.append(h('section', {class: 'card'}, h('h2', {}, 'Datasets and teachers'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Kind', 'Name', 'Details', 'Uploaded'].map((x) => h('th', {}, x)))),
      h('tbody', {},
        datasets.map((d) => h('tr', {}, h('td', {}, 'dataset'), h('td', {}, d.name), h('td', {}, `${d.rows} rows × ${d.columns ? d.columns.length : '?'} columns, target ${d.target} (${d.task})`), h('td', {}, when(d.created_at)))),
        teachers.map((t) => h('tr', {}, h('td', {}, 'teacher'), h('td', {}, t.name), h('td', {}, `${t.kind}, ${t.task}, ${t.features ? t.features.length : '?'} features`), h('td', {}, when(t.created_at))))))));
}

export async function uploadView(root) {
  const datasets = await listAll('/datasets');
  root.append(h('h1', {}, 'Upload'), h('div', {class: 'two-col'}, datasetForm(), teacherForm(datasets)), listBox);
  await renderDatasetList();
  return null;
}
