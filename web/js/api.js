// api.js - the only door to the server: the public HTTP API (API.md) with
// the bearer token kept in sessionStorage. A 401 forgets the token and
// sends the user back to the sign-in screen.

const KEY = 'glassbox.token';

export function getToken() {
  return sessionStorage.getItem(KEY);
}

export function setToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error ? body.error : {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || null;
    this.details = e.details || null;
  }
}

function unauthorized() {
  forgetToken();
  if (!location.hash.startsWith('#/signin')) {
    sessionStorage.setItem('glassbox.after', location.hash || '#/runs');
    location.hash = '#/signin';
  }
}

// api('GET', '/runs?limit=5') -> parsed JSON; throws ApiError.
export async function api(method, path, body, contentType = 'application/json') {
  const headers = {Authorization: `Bearer ${getToken() || ''}`};
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    payload = contentType === 'application/json' ? JSON.stringify(body) : body;
  }
  const resp = await fetch('/api/v1' + path, {method, headers, body: payload, cache: 'no-store'});
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (resp.status === 401) unauthorized();
  if (!resp.ok) throw new ApiError(resp.status, json);
  return json;
}

// Fetches a non-JSON resource (report.html, exports) as a Blob.
export async function apiBlob(path) {
  const resp = await fetch('/api/v1' + path, {headers: {Authorization: `Bearer ${getToken() || ''}`}, cache: 'no-store'});
  if (resp.status === 401) unauthorized();
  if (!resp.ok) {
    let json = null;
    try { json = await resp.json(); } catch { json = null; }
    throw new ApiError(resp.status, json);
  }
  return resp.blob();
}

// Uploads a File with XMLHttpRequest so the bytes sent can be shown;
// onProgress(fraction) as they go. Resolves to {status, json}.
export function upload(path, file, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1' + path);
    xhr.setRequestHeader('Authorization', `Bearer ${getToken() || ''}`);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.addEventListener('progress', (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener('load', () => {
      let json = null;
      try { json = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { json = null; }
      if (xhr.status === 401) unauthorized();
      if (xhr.status >= 200 && xhr.status < 300) resolve({status: xhr.status, json});
      else reject(new ApiError(xhr.status, json));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, {error: {code: 'network', message: 'the upload could not reach the server'}})));
    xhr.send(file);
  });
}

// Every item of a paged list (newest first), up to max.
export async function listAll(path, max = 500) {
  const items = [];
  const sep = path.includes('?') ? '&' : '?';
  for (let offset = 0; offset < max;) {
    const page = await api('GET', `${path}${sep}limit=100&offset=${offset}`);
    items.push(...page.items);
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  return items;
}
