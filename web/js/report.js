// report.js - one run: its progress while it runs, then the report
// (metrics, fidelity, importance, PDP/ICE, disagreement, reason codes,
// frontier), the student itself, scoring one row, reviews and printing.
import {api, apiBlob} from './api.js';
import {h, clear, num, pct, when, short, section, table, errorBox, badge} from './dom.js';
import {lines, bars, COLORS} from './charts.js';
import {studentSection} from './student.js';
import {scoreSection} from './score.js';
import {namesById, teacherLabel, studentLabel} from './lookup.js';

const CLASS_METRICS = [['auc', 'AUC'], ['accuracy', 'Accuracy'], ['logloss', 'Log loss'], ['brier', 'Brier'], ['ks', 'KS']];
const REG_METRICS = [['rmse', 'RMSE'], ['mae', 'MAE'], ['r2', 'R²']];
const LOWER_IS_BETTER = new Set(['logloss', 'brier', 'rmse', 'mae']);

function metricsSection(report) {
  const m = report.metrics || {};
  const defs = report.task === 'regression' ? REG_METRICS : CLASS_METRICS;
  const models = [['teacher', 'Teacher'], ['baseline', 'Baseline (hard labels)'], ['student', 'Distilled student']];
  // Further variants a student reports (SBDT: the mixture of all leaves).
  for (const k of Object.keys(m)) {
    if (!models.some(([mk]) => mk === k)) models.push([k, k.replace(/^(\w+?)_(\w+)$/, (_, a, b) => `${a[0].toUpperCase()}${a.slice(1)} (${b})`)]);
  }
  const rows = defs.map(([k, label]) => {
    const vals = models.map(([mk]) => (m[mk] ? m[mk][k] : null));
    const better = m.student && m.baseline && m.student[k] !== undefined && m.baseline[k] !== undefined &&
      (LOWER_IS_BETTER.has(k) ? m.student[k] < m.baseline[k] : m.student[k] > m.baseline[k]);
    return [label, ...vals.map((v, i) => h('td', {class: 'numeric' + (i === 2 && better ? ' better' : '')}, num(v, 4)))];
  });
  return section('Performance on the test split',
    `Each model against the true labels of ${report.split ? report.split.test_rows : '?'} test rows (${report.split ? report.split.train_rows : '?'} training rows). The baseline is the same student trained on hard labels only; green marks where the distilled student beats it.${m.student_mixture ? ' An SBDT predicts with its most probable leaf (the interpretable rule); "mixture" columns average all leaves by path probability.' : ''}`,
    table(['Metric', ...models.map(([, l]) => l)], rows, {class: 'metrics', id: 'metrics-table'}));
}

function stat(label, value, sub, id) {
  return h('div', {class: 'stat', id}, h('div', {class: 'stat-label'}, label), h('div', {class: 'stat-value'}, value), sub ? h('div', {class: 'stat-sub'}, sub) : null);
}

function fidelitySection(report) {
  const f = report.fidelity || {};
  const ci = f.ci95 || {};
  const ciText = (a) => (Array.isArray(a) ? `95% CI ${num(a[0])} – ${num(a[1])}` : null);
  const has = (v) => v !== undefined && v !== null;
  const regression = report.task === 'regression';
  const stats = h('div', {class: 'stats'},
    has(f.agreement) ? stat('Agreement with teacher', pct(f.agreement), ciText(ci.agreement), 'stat-agreement') : null,
    f.agreement_at_cutoff ? stat(`Agreement at cutoff ${num(f.agreement_at_cutoff.cutoff, 2)}`, pct(f.agreement_at_cutoff.value)) : null,
    has(f.auc_vs_teacher) ? stat('AUC vs teacher\'s decision', num(f.auc_vs_teacher)) : null,
    has(f.spearman) ? stat('Rank correlation (Spearman)', num(f.spearman)) : null,
    has(f.r2) ? stat(regression ? 'R² of teacher outputs' : 'R² of scores', num(f.r2)) : null,
    has(f.mae) ? stat(regression ? 'Mean abs. gap to teacher' : 'Mean abs. score gap', num(f.mae)) : null,
    has(f.kl) ? stat('KL(teacher ‖ student)', num(f.kl, 4)) : null,
    ci.auc ? stat('Student AUC interval', ciText(ci.auc)) : null);
  const children = [stats];
  const dec = f.deciles || [];
  if (dec.length) {
    const x = dec.map((d) => d.decile);
    const hasAgreement = dec.some((d) => has(d.agreement));
    children.push(h('div', {class: 'two-col'},
      lines([
        {label: 'teacher mean score', x, y: dec.map((d) => d.teacher_mean), color: COLORS.teacher, points: 3},
        {label: 'student mean score', x, y: dec.map((d) => d.student_mean), color: COLORS.student, points: 3},
      ], {xTitle: regression ? 'decile of teacher output' : 'decile of teacher score', yTitle: regression ? 'mean output' : 'mean score', label: 'mean teacher and student score per decile', caption: 'Calibration of the student against the teacher, decile by decile.', height: 240}),
      hasAgreement && bars(x.map(String), [{label: 'agreement', values: dec.map((d) => d.agreement), color: COLORS.student}],
        {categoryTitle: 'decile of teacher score', valueTitle: 'agreement', min: 0, max: 1, label: 'agreement per decile', caption: 'Where along the score range the student departs from the teacher.', height: 240})));
    children.push(h('details', {}, h('summary', {}, 'Decile table'),
      table(['Decile', 'Teacher mean', 'Student mean', ...(hasAgreement ? ['Agreement'] : [])],
        dec.map((d) => [d.decile, num(d.teacher_mean), num(d.student_mean), ...(hasAgreement ? [pct(d.agreement)] : [])]), {class: 'compact'})));
  }
  return section('Fidelity: does the student behave like the teacher?', 'Student against teacher on the test rows; intervals are bootstrap percentiles.', children);
}

// ROC curves when a report carries them ({model: {fpr:[..], tpr:[..]}});
// reports without them show the deciles above instead.
function rocSection(report) {
  const roc = report.roc || (report.metrics && report.metrics.roc);
  if (!roc || typeof roc !== 'object') return null;
  const series = [];
  for (const [k, color] of [['teacher', COLORS.teacher], ['student', COLORS.student], ['baseline', COLORS.baseline]]) {
    if (roc[k] && roc[k].fpr && roc[k].tpr) series.push({label: k, x: roc[k].fpr, y: roc[k].tpr, color, points: 0});
  }
  if (!series.length) return null;
  series.push({label: 'chance', x: [0, 1], y: [0, 1], color: COLORS.grey, dash: [4, 4], points: 0, width: 1});
  return section('ROC curves', null, lines(series, {xTitle: 'false positive rate', yTitle: 'true positive rate', xMin: 0, xMax: 1, yMin: 0, yMax: 1, label: 'ROC curves'}));
}

function importanceSection(ex) {
  const all = (ex.global || []).slice().sort((a, b) => (b.teacher ?? 0) - (a.teacher ?? 0));
  if (!all.length) return null;
  // Many features (pixels, wide bank data): the 25 that matter most to any model.
  const TOP = 25;
  const peak = (r) => Math.max(r.teacher ?? 0, r.student ?? 0, r.baseline ?? 0);
  const keep = new Set(all.slice().sort((a, b) => peak(b) - peak(a)).slice(0, TOP).map((r) => r.feature));
  const g = all.filter((r) => keep.has(r.feature));
  const ag = ex.agreement || {};
  const sb = ex.student_vs_baseline || {};
  return section('Global importance, side by side',
    `${ex.method === 'shap' ? 'Mean |SHAP|' : 'Permutation importance'} per feature, sorted by the teacher's. A faithful student ranks features as the teacher does.`,
    h('div', {class: 'stats'},
      stat('Rank agreement (Spearman)', num(ag.spearman)),
      stat('Top-5 overlap (Jaccard)', num(ag.top5_jaccard)),
      ag.local_cosine !== undefined ? stat('Local attributions (cosine)', num(ag.local_cosine)) : null,
      sb.spearman !== undefined ? stat('Student vs baseline ranks', num(sb.spearman), `top-5 Jaccard ${num(sb.top5_jaccard)}`) : null),
    bars(g.map((r) => r.feature), [
      {label: 'teacher', values: g.map((r) => r.teacher), color: COLORS.teacher},
      {label: 'student', values: g.map((r) => r.student), color: COLORS.student},
      {label: 'baseline', values: g.map((r) => r.baseline), color: COLORS.baseline},
    ], {horizontal: true, valueTitle: 'importance', label: 'global importance', height: Math.max(220, 34 * g.length + 70), id: 'importance',
      caption: all.length > g.length ? `The ${g.length} features most important to any of the three models, of ${all.length}.` : null}));
}

function pdpSection(ex, task) {
  const pdp = ex.pdp || [];
  if (!pdp.length) return null;
  const figs = pdp.map((p) => {
    const x = p.grid;
    const series = [];
    const ice = p.ice || {};
    (ice.teacher || []).forEach((y, i) => series.push({label: i === 0 ? 'teacher ICE' : '_t' + i, x, y, color: 'rgba(31, 95, 168, 0.22)', width: 1, points: 0, order: 2}));
    (ice.student || []).forEach((y, i) => series.push({label: i === 0 ? 'student ICE' : '_s' + i, x, y, color: 'rgba(217, 98, 43, 0.22)', width: 1, points: 0, order: 2}));
    series.push({label: 'teacher PDP', x, y: p.teacher, color: COLORS.teacher, width: 3, points: 2, order: 0});
    series.push({label: 'student PDP', x, y: p.student, color: COLORS.student, width: 3, points: 2, order: 0});
    const yTitle = task === 'regression' ? 'prediction' : task === 'multiclass' ? 'score' : 'P(' + (ex.reason_codes && ex.reason_codes.class ? ex.reason_codes.class : 'class 1') + ')';
    const fig = lines(series, {xTitle: p.feature, yTitle, label: 'partial dependence of ' + p.feature, height: 240});
    fig.prepend(h('h3', {}, p.feature));
    return fig;
  });
  return section('Partial dependence with ICE curves', 'Thick lines: average prediction as one feature varies (PDP); thin lines: individual rows (ICE). Teacher in blue, student in orange.', h('div', {class: 'grid-charts'}, figs));
}

function disagreementSection(ex, task) {
  const d = ex.disagreement || [];
  if (!d.length) return null;
  if (task === 'regression') {
    const top = Math.max(...d.map((r) => r.disagreement_rate || 0), 1e-12);
    return section('Where the student departs most', 'Rules describing the test rows where the student\'s output is furthest from the teacher\'s, worst first.',
      table(['Rule', 'Rows', 'Mean |student − teacher|', ''], d.map((r) => [h('code', {}, r.rule), r.rows, num(r.disagreement_rate),
        h('td', {class: 'barcell'}, h('meter', {min: 0, max: top, value: r.disagreement_rate, 'aria-label': 'mean absolute difference'}))]), {id: 'disagreement-table'}));
  }
  return section('Where the student disagrees', 'Rules describing the test rows where student and teacher predict different classes, worst first.',
    table(['Rule', 'Rows', 'Disagreement rate', ''], d.map((r) => [h('code', {}, r.rule), r.rows, pct(r.disagreement_rate),
      h('td', {class: 'barcell'}, h('meter', {min: 0, max: 1, value: r.disagreement_rate, 'aria-label': 'disagreement rate'}))]), {id: 'disagreement-table'}));
}

function reasonCodesSection(ex) {
  const rc = ex.reason_codes;
  if (!rc) return null;
  return section('Reason codes: do both give the same reasons?',
    `Top-${rc.k} features pushing each row towards class "${rc.class}", teacher vs student, over ${rc.rows} rows.`,
    h('div', {class: 'stats'}, stat('Reasons shared (mean overlap)', pct(rc.match_rate)), stat('Same first reason', pct(rc.top1_match))),
    rc.examples && rc.examples.length ? table(['Row', 'Teacher\'s reasons', 'Student\'s reasons'],
      rc.examples.map((e) => [e.row, e.teacher.join(', '), e.student.join(', ')]), {class: 'compact'}) : null);
}

function frontierSection(report) {
  const fr = report.frontier || [];
  if (!fr.length) return null;
  const x = fr.map((p) => p.complexity);
  const chosen = report.complexity ? (report.complexity.leaves ?? report.complexity.nonzero_coefs ?? report.complexity.terms) : null;
  const reg = report.task === 'regression';
  return section('Fidelity–complexity frontier', 'The student refit at increasing complexity: how much fidelity each extra leaf, coefficient or term buys.',
    lines([
      {label: reg ? 'fidelity (R² to teacher)' : 'fidelity (agreement)', x, y: fr.map((p) => p.fidelity), color: COLORS.student, points: 4},
      {label: reg ? 'R² to labels' : 'AUC', x, y: fr.map((p) => p.auc), color: COLORS.baseline, points: 4, dash: [6, 3]},
    ], {xTitle: 'complexity (leaves / nonzero coefficients / terms)', yTitle: 'score', xType: Math.max(...x) / Math.max(1, Math.min(...x)) >= 8 ? 'logarithmic' : 'linear', label: 'fidelity-complexity frontier', id: 'frontier'}),
    table(['Setting', 'Complexity', 'Fidelity', reg ? 'R² to labels' : 'AUC'], fr.map((p) => [
      Object.entries(p.setting || {}).map(([k, v]) => `${k}=${v}`).join(', '),
      h('td', {class: p.complexity === chosen ? 'better' : ''}, p.complexity), num(p.fidelity), num(p.auc)]), {class: 'compact'}));
}

function provenance(run, report, names) {
  const rows = [
    ['Run', run.id], ['Status', badge(run.status)], ['Created', `${when(run.created_at)} by ${run.created_by || '?'}`],
    ['Finished', when(run.finished_at)], ['Dataset', names.get(run.dataset_id) || run.dataset_id || '–'],
    ['Teacher', teacherLabel(run, names)], ['Student', studentLabel(run)],
  ];
  if (report) {
    if (report.student && report.student.params) rows.push(['Student parameters', Object.entries(report.student.params).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ')]);
    if (report.distill) rows.push(['Distillation', `temperature ${report.distill.temperature}, alpha ${report.distill.alpha}`]);
    if (report.complexity) rows.push(['Complexity', Object.entries(report.complexity).map(([k, v]) => `${k} ${v}`).join(', ')]);
    for (const [k, v] of Object.entries(report.hashes || {})) rows.push([`SHA-256 ${k}`, h('code', {class: 'hash'}, v)]);
    if (report.version) rows.push(['glassbox version', report.version]);
    if (report.timings && report.timings.total_s !== undefined) rows.push(['Total time', `${num(report.timings.total_s, 2)} s`]);
  }
  return section('Provenance', null, h('dl', {class: 'kv'}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

async function reviewsSection(runId) {
  const list = h('ol', {class: 'reviews', id: 'review-history'});
  const out = h('div', {'aria-live': 'polite'});
  async function load() {
    clear(list);
    const page = await api('GET', `/runs/${encodeURIComponent(runId)}/reviews?limit=100`);
    for (const r of page.items) {
      list.append(h('li', {}, badge(r.verdict), ' ', h('strong', {}, r.created_by), ' — ', when(r.created_at),
        r.comment ? h('blockquote', {}, r.comment) : null));
    }
    if (!page.items.length) list.append(h('li', {class: 'note'}, 'No reviews yet.'));
  }
  const verdict = h('select', {id: 'verdict', required: true},
    h('option', {value: ''}, '— verdict —'),
    ['approved', 'needs_changes', 'rejected'].map((v) => h('option', {value: v}, v.replace('_', ' '))));
  const comment = h('textarea', {id: 'comment', rows: 3, cols: 60, placeholder: 'What you checked and why you decided so'});
  const form = h('form', {id: 'review-form', class: 'noprint'},
    h('label', {for: 'verdict'}, 'Verdict'), verdict,
    h('label', {for: 'comment'}, 'Comment'), comment,
    h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'review-submit'}, 'Record review')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(out);
    if (!verdict.value) { out.append(errorBox({code: 'invalid_input', message: 'choose a verdict'})); return; }
    try {
      await api('POST', `/runs/${encodeURIComponent(runId)}/reviews`, {verdict: verdict.value, comment: comment.value});
      comment.value = '';
      verdict.value = '';
      out.append(h('div', {class: 'ok'}, 'Review recorded.'));
      await load();
    } catch (err) {
      out.append(errorBox(err.status === 403 ? {code: 'forbidden', message: 'Only validators and admins record reviews.'} : err));
    }
  });
  await load();
  return section('Reviews', 'A validator\'s verdict on this run; every review is kept with who and when, and written to the audit log.', form, list);
}

function printBar(runId) {
  const out = h('span', {class: 'note'});
  const printBtn = h('button', {type: 'button', id: 'print'}, 'Print / save as PDF');
  printBtn.addEventListener('click', () => window.print());
  const htmlBtn = h('button', {type: 'button', id: 'report-html'}, 'Download report.html');
  htmlBtn.addEventListener('click', async () => {
    out.textContent = '';
    try {
      const blob = await apiBlob(`/runs/${encodeURIComponent(runId)}/report.html`);
      const url = URL.createObjectURL(blob);
      const a = h('a', {href: url, download: `glassbox-run-${runId}.html`});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      out.textContent = err.status === 404 ? 'This server has no report.html export; use Print instead.' : err.message;
    }
  });
  const jsonBtn = h('button', {type: 'button', id: 'report-json'}, 'Download report JSON');
  jsonBtn.addEventListener('click', async () => {
    const run = await api('GET', `/runs/${encodeURIComponent(runId)}`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(run.report, null, 2)], {type: 'application/json'}));
    const a = h('a', {href: url, download: `glassbox-run-${runId}-report.json`});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
  return h('div', {class: 'actions noprint'}, printBtn, htmlBtn, jsonBtn, out);
}

export async function reportView(root, runId) {
  const {names, datasets} = await namesById();
  let timer = null;
  let stopped = false;
  const head = h('div');
  const body = h('div', {id: 'report'});
  root.append(head, body);

  async function poll() {
    const run = await api('GET', `/runs/${encodeURIComponent(runId)}`);
    if (stopped) return;
    clear(head);
    head.append(h('div', {class: 'row-between'},
      h('h1', {}, `Run ${short(run.id)} `, badge(run.status)),
      run.status === 'succeeded' ? printBar(run.id) : null));
    if (run.status === 'queued' || run.status === 'running') {
      const frac = run.progress && typeof run.progress.fraction === 'number' ? run.progress.fraction : 0;
      head.append(h('div', {class: 'card progress-card'},
        h('label', {for: 'run-progress'}, `${run.progress && run.progress.phase ? run.progress.phase : run.status}: ${Math.round(frac * 100)}%`),
        h('progress', {id: 'run-progress', max: 1, value: frac}),
        h('button', {type: 'button', id: 'cancel', onclick: async () => { try { await api('POST', `/runs/${encodeURIComponent(runId)}/cancel`); } catch (e) { head.append(errorBox(e)); } }}, 'Cancel run')));
      timer = setTimeout(() => poll().catch((e) => head.append(errorBox(e))), 1000);
      return;
    }
    if (run.error) head.append(errorBox(run.error));
    const report = run.report;
    clear(body);
    body.append(provenance(run, report, names));
    if (report) {
      const ex = report.explanations || {};
      body.append(metricsSection(report), fidelitySection(report));
      const roc = rocSection(report);
      if (roc) body.append(roc);
      for (const sec of [importanceSection(ex), pdpSection(ex, report.task), disagreementSection(ex, report.task), reasonCodesSection(ex), frontierSection(report)]) if (sec) body.append(sec);
      if (ex.unavailable && ex.unavailable.length) body.append(section('Not computed', null, h('ul', {}, ex.unavailable.map((u) => h('li', {}, typeof u === 'string' ? u : `${u.what || u.name || ''}: ${u.reason || JSON.stringify(u)}`)))));
      try {
        const student = await api('GET', `/runs/${encodeURIComponent(runId)}/student`);
        body.append(studentSection(student, report));
        body.append(scoreSection(runId, student, datasets.find((d) => d.id === run.dataset_id) || null));
      } catch (err) {
        body.append(section('The student', null, errorBox(err)));
      }
    }
    body.append(await reviewsSection(runId));
  }
  await poll();
  return () => { stopped = true; clearTimeout(timer); };
}
