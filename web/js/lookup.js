// lookup.js - names of datasets and teachers, and the headline numbers of
// finished runs (a succeeded run's report never changes, so it is fetched
// once per page load).
import {api, listAll} from './api.js';

const reports = new Map();

export async function namesById() {
  const [datasets, teachers] = await Promise.all([listAll('/datasets'), listAll('/teachers')]);
  const names = new Map();
  for (const d of datasets) names.set(d.id, d.name);
  for (const t of teachers) names.set(t.id, t.name);
  return {datasets, teachers, names};
}

export async function runWithReport(id) {
  if (reports.has(id)) return reports.get(id);
  const run = await api('GET', `/runs/${encodeURIComponent(id)}`);
  if (run.status === 'succeeded') reports.set(id, run);
  return run;
}

export function teacherLabel(run, names) {
  const t = run.config && run.config.teacher;
  if (t && Array.isArray(t.scores)) return 'scores: ' + t.scores.join(', ');
  const ids = run.teacher_ids && run.teacher_ids.length ? run.teacher_ids : (t && (t.ids || (t.id ? [t.id] : []))) || [];
  return ids.map((id) => names.get(id) || id).join(' + ') || '–';
}

export function studentLabel(run) {
  const st = run.config && run.config.student;
  return st && st.type ? st.type : (run.kind || '–');
}

// Headline metrics of a report: {fidelity, auc} (regression: r2 twice).
export function headline(report) {
  if (!report) return {fidelity: null, auc: null};
  const f = report.fidelity || {};
  const m = (report.metrics && report.metrics.student) || {};
  return {fidelity: f.agreement ?? f.r2 ?? null, auc: m.auc ?? m.r2 ?? null};
}
