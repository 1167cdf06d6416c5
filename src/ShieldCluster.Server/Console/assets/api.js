// The admin API, called with the admin key from this tab's sessionStorage (never a cookie, the URL
// or localStorage). Errors carry the API's own message ({"error": "..."}).

const KEY = 'shieldcluster.adminKey';

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

/** An answer other than 2xx: its status and the API's error text. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }

  /** The status and the API's words, as the console shows them. */
  get display() {
    return this.status ? `${this.status}: ${this.message}` : this.message;
  }
}

/**
 * Calls the admin API. `key` defaults to the signed-in key; a 401 for the signed-in key (revoked,
 * reconfigured) signs the tab out and tells the page through a 'shield:signed-out' event.
 */
export async function api(path, { method = 'GET', body, key = session.key } = {}) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (error) {
    throw new ApiError(0, `the server did not answer (${error.message})`);
  }

  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }

  if (!response.ok) {
    const message = typeof data?.error === 'string' ? data.error
      : typeof data?.title === 'string' ? data.title
      : response.statusText || 'request failed';
    const error = new ApiError(response.status, message);
    if (response.status === 401 && key && key === session.key) {
      session.clear();
      window.dispatchEvent(new CustomEvent('shield:signed-out', { detail: error.display }));
    }
    throw error;
  }

  return data;
}
