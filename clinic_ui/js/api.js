// The single fetch wrapper for the API: JSON in and out, the session cookie, and the CSRF header.
//
// Every failure becomes an ApiError carrying the problem body's status, detail and field errors.

const CSRF_COOKIE = 'ohc_csrf';
const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class ApiError extends Error {
  constructor(status, detail, errors = [], retryAfter = null, code = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.errors = errors;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return '';
}

async function problemFrom(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  return new ApiError(
    response.status,
    body.detail || body.title || `The server answered ${response.status}.`,
    Array.isArray(body.errors) ? body.errors : [],
    Number.isFinite(retry) ? retry : null,
    typeof body.code === 'string' ? body.code : null,
  );
}

/** Send one request; `body` is sent as JSON unless it is FormData. Resolves to the decoded JSON (or null). */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (!SAFE_METHODS.has(method)) {
    const token = cookie(CSRF_COOKIE);
    if (token) headers[CSRF_HEADER] = token;
  }
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  if (!response.ok) throw await problemFrom(response);
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : null;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
export const put = (path, body) => request('PUT', path, body);
