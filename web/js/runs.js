// runs.js - the runs list: newest first, filters, live progress bars for
// queued and running jobs (polled every second while any is active),
// headline fidelity and AUC of finished runs, and a selection to compare.
import {api} from './api.js';
import {h, clear, num, when, short, badge, errorBox} from './dom.js';
import {namesById, runWithReport, teacherLabel, studentLabel, headline} from './lookup.js';

const STATUSES = ['', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
const STUDENTS = ['', 'tree', 'sbdt', 'logistic', 'linear', 'gam'];

export async function runsView(root, params) {
  const {datasets, teachers, names} = await namesById();
  const filters = {
    status: params.get('status') || '',
    dataset_id: params.get('dataset_id') || '',
    teacher_id: params.get('teacher_id') || '',
    student: params.get('student') || '',
  };
  const select = (name, options, label) => {
    const el = h('select', {name, id: 'f-' + name},
      options.map(([v, text]) => h('option', {value: v, selected: v === filters[name]}, text)));
    el.addEventListener('change', () => {
      filters[name] = el.value;
      const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
      history.replaceState(null, '', '#/runs' + (q.toString() ? '?' + q : ''));
      refresh();
    });
    return h('label', {class: 'filter'}, label, el);
  };
  const compareBtn = h('button', {type: 'button', id: 'compare-selected', disabled: true}, 'Compare selected');
  const body = h('tbody');
  const status = h('p', {class: 'note', id: 'runs-count'});
  const errors = h('div');
  const selected = new Set();
  compareBtn.addEventListener('click', () => {
    location.hash = '#/compare?runs=' + [...selected].join(',');
  });
  root.append(h('section', {class: 'card'},
    h('div', {class: 'row-between'}, h('h1', {}, 'Runs'), h('a', {class: 'button', href: '#/new'}, 'New run')),
    h('div', {class: 'filters'},
      select('status', STATUSES.map((s) => [s, s || 'any']), 'Status'),
      select('dataset_id', [['', 'any'], ...datasets.map((d) => [d.id, d.name])], 'Dataset'),
      select('teacher_id', [['', 'any'], ...teachers.map((t) => [t.id, t.name])], 'Teacher'),
      select('student', STUDENTS.map((s) => [s, s || 'any']), 'Student'),
      compareBtn),
    errors,
    h('table', {class: 'runs', id: 'runs-table'},
      h('thead', {}, h('tr', {}, ['', 'Created', 'Status', 'Dataset', 'Teacher', 'Student', 'Fidelity', 'AUC', 'Run'].map((x) => h('th', {scope: 'col'}, x)))),
      body),
    status));

  let timer = null;
  let stopped = false;
  async function refresh() {
    clearTimeout(timer);
    clear(errors);
    const q = new URLSearchParams({limit: '100'});
    for (const k of ['status', 'dataset_id', 'teacher_id']) if (filters[k]) q.set(k, filters[k]);
    let page;
    try {
      page = await api('GET', '/runs?' + q);
    } catch (err) {
      if (err.status !== 401) errors.append(errorBox(err));
      return;
    }
    if (stopped) return;
    const runs = page.items.filter((r) => !filters.student || studentLabel(r) === filters.student);
    const rows = await Promise.all(runs.map(async (run) => {
      let report = null;
      if (run.status === 'succeeded') {
        try { report = (await runWithReport(run.id)).report; } catch { report = null; }
      }
      return {run, report};
    }));
    if (stopped) return;
    clear(body);
    for (const {run, report} of rows) {
      const hl = headline(report);
      const active = run.status === 'queued' || run.status === 'running';
      const frac = run.progress && typeof run.progress.fraction === 'number' ? run.progress.fraction : 0;
      const box = h('input', {type: 'checkbox', 'aria-label': 'select run ' + short(run.id), checked: selected.has(run.id), disabled: run.status !== 'succeeded'});
      box.addEventListener('change', () => {
        if (box.checked) selected.add(run.id); else selected.delete(run.id);
        compareBtn.disabled = selected.size < 2;
      });
      body.append(h('tr', {dataset: {run: run.id, status: run.status}},
        h('td', {}, box),
        h('td', {}, when(run.created_at)),
        h('td', {class: 'status-cell'}, badge(run.status),
          active ? h('div', {class: 'progress-wrap'},
            h('progress', {max: 1, value: frac, 'aria-label': 'progress'}),
            h('span', {class: 'phase'}, `${run.progress.phase || run.status} ${Math.round(frac * 100)}%`)) : null,
          run.error && run.error.message ? h('div', {class: 'note'}, run.error.message) : null),
        h('td', {}, names.get(run.dataset_id) || short(run.dataset_id)),
        h('td', {}, teacherLabel(run, names)),
        h('td', {}, studentLabel(run)),
        h('td', {class: 'numeric'}, num(hl.fidelity)),
        h('td', {class: 'numeric'}, num(hl.auc)),
        h('td', {}, h('a', {href: '#/runs/' + encodeURIComponent(run.id)}, short(run.id)))));
    }
    status.textContent = `${runs.length} of ${page.total} runs, newest first`;
    if (runs.length === 0) body.append(h('tr', {}, h('td', {colspan: 9, class: 'empty'}, 'No runs yet. Upload a dataset and a teacher, then start a run.')));
    const anyActive = page.items.some((r) => r.status === 'queued' || r.status === 'running');
    timer = setTimeout(refresh, anyActive ? 1000 : 5000);
  }
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}
