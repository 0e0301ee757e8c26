// app.js - the dashboard's entry point: sign-in screen, navigation and a
// hash router (#/runs, #/runs/ID, #/new, #/upload, #/compare?runs=A,B,
// #/audit). Views are modules that render into <main id="view">.
import {api, getToken, setToken, forgetToken, ApiError} from './api.js';
import {h, clear, errorBox} from './dom.js';
import {destroyAll} from './charts.js';
import {runsView} from './runs.js';
import {newRunView} from './newrun.js';
import {uploadView} from './upload.js';
import {reportView} from './report.js';
import {compareView} from './compare.js';
import {auditView} from './audit.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let cleanup = null;   // the current view's teardown (timers)

function signinView(root) {
  nav.hidden = true;
  const input = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true, size: 48, 'aria-describedby': 'token-help'});
  const message = h('div', {class: 'signin-message', 'aria-live': 'assertive'});
  const form = h('form', {class: 'signin card', id: 'signin-form'},
    h('h1', {}, 'Sign in to glassbox'),
    h('p', {id: 'token-help'}, 'Paste the API token your administrator gave you. The first start of the server prints an admin token and writes it to admin-token in its data directory. The token is kept in this browser tab only.'),
    h('label', {for: 'token'}, 'API token'), input,
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Sign in')),
    message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(message);
    setToken(input.value.trim());
    try {
      await api('GET', '/runs?limit=1');
      const after = sessionStorage.getItem('glassbox.after') || '#/runs';
      sessionStorage.removeItem('glassbox.after');
      location.hash = after === '#/signin' ? '#/runs' : after;
    } catch (err) {
      forgetToken();
      message.append(errorBox(err.status === 401 ? {code: 'unauthorized', message: 'This token is not valid (unknown or revoked).'} :
        err.status === 403 ? {code: 'forbidden', message: 'This token may not read runs.'} : err));
    }
  });
  root.append(form);
  input.focus();
}

let generation = 0;  // bumps on every route change; late views tear themselves down

async function route() {
  const mine = ++generation;
  if (cleanup) { cleanup(); cleanup = null; }
  destroyAll();
  clear(view);
  // Each view renders into its own container: a view still loading when the
  // user moves on writes into a detached element, never into the next view.
  const root = h('div', {class: 'view-root'});
  view.append(root);
  const hash = location.hash || '#/runs';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  if (path === '/signin' || !getToken()) {
    if (path !== '/signin') {
      sessionStorage.setItem('glassbox.after', hash);
      location.hash = '#/signin';
      return;
    }
    signinView(root);
    return;
  }
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', path.startsWith(a.getAttribute('href').slice(1)));
  const parts = path.split('/').filter(Boolean);
  let done = null;
  try {
    if (parts[0] === 'runs' && parts[1]) done = await reportView(root, decodeURIComponent(parts[1]));
    else if (parts[0] === 'new') done = await newRunView(root, params);
    else if (parts[0] === 'upload') done = await uploadView(root);
    else if (parts[0] === 'compare') done = await compareView(root, params);
    else if (parts[0] === 'audit') done = await auditView(root);
    else done = await runsView(root, params);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    root.append(errorBox(err));
  }
  if (mine === generation) cleanup = done;
  else if (done) done();
}

document.getElementById('signout').addEventListener('click', () => {
  forgetToken();
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
route();
