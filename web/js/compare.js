// compare.js - two or more runs side by side: metrics, fidelity and
// complexity in one table, global importance aligned feature by feature.
// Uses GET /compare?runs=...; a server without that route (404) gets the
// same view built from each run's report (GET /runs/{id}).
import {api, listAll} from './api.js';
import {h, clear, num, short, section, table, errorBox} from './dom.js';
import {bars} from './charts.js';
import {runWithReport, studentLabel, headline} from './lookup.js';

const PALETTE = ['#d9622b', '#1f5fa8', '#5a8f3c', '#8e44ad', '#c0392b', '#16a085'];

// One row per run: {id, label, metrics, fidelity, complexity, global}.
function fromReports(runs) {
  return runs.map((run) => {
    const r = run.report || {};
    return {id: run.id, label: `${short(run.id)} ${studentLabel(run)}`, metrics: r.metrics || {}, fidelity: r.fidelity || {},
      ci95: (r.fidelity && r.fidelity.ci95) || {},
      complexity: r.complexity || {}, global: (r.explanations && r.explanations.global) || []};
  });
}

// The compare route: {"runs":[{id, student, metrics, fidelity, complexity,
// ...}], "features":[{feature, teacher:[..], student:[..], baseline:[..]}]}
// with one entry per run (in the order asked) in each feature's arrays.
// Column-wise answers ({"metrics":{model:{metric:[per run]}}, ...,
// "explanations":{"global":[..]}}) are read too.
function fromCompare(resp, base) {
  if (!resp || !Array.isArray(resp.runs)) return base;
  const at = (obj, i) => Object.fromEntries(Object.entries(obj || {}).map(([k, v]) => [k, Array.isArray(v) ? v[i] : null]));
  const global = resp.features || (resp.explanations && resp.explanations.global) || [];
  return resp.runs.map((r, i) => {
    const b = base.find((x) => x.id === r.id) || {};
    let metrics = r.metrics;
    if (!metrics) {
      metrics = {};
      for (const [model, vals] of Object.entries(resp.metrics || {})) metrics[model] = at(vals, i);
    }
    const fidelity = r.fidelity || at(resp.fidelity, i);
    const ci95 = (r.fidelity && r.fidelity.ci95) || at(resp.fidelity_ci95, i);
    const complexity = r.complexity || at(resp.complexity, i);
    const pick = (g, k) => (Array.isArray(g[k]) ? g[k][i] : null);
    return {
      id: r.id,
      label: `${short(r.id)} ${r.student && r.student.type ? r.student.type : (b.label || '')}`,
      metrics: metrics || {}, fidelity: fidelity || {}, ci95: ci95 || {},
      complexity: Object.fromEntries(Object.entries(complexity || {}).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')),
      global: global.map((g) => ({feature: g.feature, teacher: pick(g, 'teacher'), student: pick(g, 'student'), baseline: pick(g, 'baseline')}))
        .filter((g) => g.student !== null || g.teacher !== null),
    };
  });
}

async function picker(root, chosen) {
  const runs = (await listAll('/runs?status=succeeded', 200));
  const boxes = runs.map((r) => h('label', {class: 'check'}, h('input', {type: 'checkbox', value: r.id, checked: chosen.includes(r.id)}), `${short(r.id)} · ${studentLabel(r)} · ${r.created_at}`));
  const go = h('button', {type: 'submit', id: 'compare-go'}, 'Compare');
  const form = h('form', {class: 'card', id: 'compare-pick'}, h('h2', {}, 'Choose runs to compare'), runs.length ? h('div', {class: 'checks column'}, boxes) : h('p', {class: 'note'}, 'No succeeded runs yet.'), h('div', {class: 'actions'}, go));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const ids = [...form.querySelectorAll('input:checked')].map((i) => i.value);
    location.hash = '#/compare?runs=' + ids.join(',');
  });
  root.append(form);
}

export async function compareView(root, params) {
  const ids = (params.get('runs') || '').split(',').filter(Boolean);
  root.append(h('h1', {}, 'Compare runs'));
  if (ids.length < 2) {
    await picker(root, ids);
    return null;
  }
  const runs = await Promise.all(ids.map((id) => runWithReport(id)));
  let rows = fromReports(runs);
  try {
    const resp = await api('GET', '/compare?runs=' + ids.map(encodeURIComponent).join(','));
    rows = fromCompare(resp, rows);
  } catch (err) {
    if (err.status !== 404) root.append(errorBox(err));
  }
  const regression = runs.some((r) => r.report && r.report.task === 'regression');
  const metricKeys = regression ? ['rmse', 'mae', 'r2'] : ['auc', 'accuracy', 'logloss', 'brier', 'ks'];
  const fidKeys = regression ? ['r2', 'mae'] : ['agreement', 'auc_vs_teacher', 'spearman', 'r2', 'kl'];
  const cxKeys = [...new Set(rows.flatMap((r) => Object.keys(r.complexity || {})))];
  const head = ['', ...rows.map((r) => h('a', {href: '#/runs/' + encodeURIComponent(r.id)}, r.label))];
  const body = [];
  body.push([h('th', {colspan: rows.length + 1, class: 'group'}, 'Student on the test split')]);
  for (const k of metricKeys) body.push([k, ...rows.map((r) => num(r.metrics.student ? r.metrics.student[k] : null, 4))]);
  body.push([h('th', {colspan: rows.length + 1, class: 'group'}, 'Teacher on the test split')]);
  for (const k of metricKeys) body.push([k, ...rows.map((r) => num(r.metrics.teacher ? r.metrics.teacher[k] : null, 4))]);
  body.push([h('th', {colspan: rows.length + 1, class: 'group'}, 'Fidelity to the teacher')]);
  for (const k of fidKeys) body.push([k, ...rows.map((r) => num(r.fidelity[k], 4))]);
  if (rows.some((r) => r.ci95 && Array.isArray(r.ci95.agreement))) {
    body.push(['agreement 95% CI', ...rows.map((r) => (r.ci95 && Array.isArray(r.ci95.agreement) ? `${num(r.ci95.agreement[0])} – ${num(r.ci95.agreement[1])}` : '–'))]);
  }
  body.push([h('th', {colspan: rows.length + 1, class: 'group'}, 'Complexity')]);
  for (const k of cxKeys) body.push([k, ...rows.map((r) => num(r.complexity[k]))]);
  const tableEl = h('table', {class: 'compare', id: 'compare-table'},
    h('thead', {}, h('tr', {}, head.map((x) => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, body.map((r) => h('tr', {}, r.map((c, i) => (c instanceof Node && c.tagName === 'TH') ? c : h(i === 0 ? 'th' : 'td', i === 0 ? {scope: 'row'} : {class: 'numeric'}, c))))));
  root.append(section('Side by side', null, tableEl));

  const features = [...new Set(rows.flatMap((r) => r.global.map((g) => g.feature)))];
  const teacherImp = new Map();
  for (const r of rows) for (const g of r.global) if (!teacherImp.has(g.feature)) teacherImp.set(g.feature, g.teacher);
  features.sort((a, b) => (teacherImp.get(b) ?? 0) - (teacherImp.get(a) ?? 0));
  if (features.length) {
    const value = (r, f) => { const g = r.global.find((x) => x.feature === f); return g ? g.student : null; };
    root.append(section('Student importance, feature by feature', 'Each run\'s student importance per feature (features sorted by the first teacher\'s importance); a missing bar means the feature is not in that run.',
      bars(features, [
        {label: 'teacher (' + rows[0].label + ')', values: features.map((f) => teacherImp.get(f) ?? null), color: '#9aa5b1'},
        ...rows.map((r, i) => ({label: r.label, values: features.map((f) => value(r, f)), color: PALETTE[i % PALETTE.length]})),
      ], {horizontal: true, valueTitle: 'importance', height: Math.max(240, 30 * features.length * Math.min(2, rows.length) + 80), label: 'importance compared', id: 'compare-importance'}),
      table(['Feature', ...rows.map((r) => r.label)], features.map((f) => [f, ...rows.map((r) => num(value(r, f)))]), {class: 'compact'})));
  }
  const hl = rows.map((r) => headline({fidelity: r.fidelity, metrics: r.metrics}));
  root.append(h('p', {class: 'note'}, rows.map((r, i) => `${r.label}: fidelity ${num(hl[i].fidelity)}, AUC ${num(hl[i].auc)}`).join(' · ')));
  return null;
}

export {clear};
