/**
 * The admin JSON API (docs/admin.md) as the page calls it: same-origin fetches that carry the session
 * cookie, every POST with the CSRF token the session answer gave, errors as {@link ApiError} with the
 * server's code and message. A 401 anywhere means the session is gone: `onUnauthorized` shows the
 * sign-in form.
 */

/** What `GET /admin/api/session` answers. */
export interface Session {
  readonly user: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
  /** The node that answered (the page's own). */
  readonly nodeId: string;
  /** How often nodes publish a snapshot (ms). */
  readonly intervalMs: number;
  /** The live channel, `$admin:nodes`. */
  readonly channel: string;
}

/** A refused or failed call: the HTTP status (0: no answer) and the server's error code and message. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  /** `retryAfterSec`: the Retry-After of a 429 or 503, when the server sent one. */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSec: number | null = null,
  ) {
    super(message);
  }
}

/** The error body of every Switchboard route: `{ error: { code, message, temporary } }`. */
async function errorOf(response: Response): Promise<ApiError> {
  const retry = Number(response.headers.get('retry-after'));
  const retryAfterSec =
    Number.isFinite(retry) && retry >= 0 && response.headers.has('retry-after') ? retry : null;
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // not JSON (a proxy's error page): the status line says enough
  }
  return new ApiError(response.status, code, message, retryAfterSec);
}

/** The admin API below `root` (the page's own directory, `<basePath>/admin/`). */
export class AdminApi {
  private csrfToken: string | null = null;
  /** Called on every 401 from an `api/*` route (not from the sign-in call itself). */
  onUnauthorized: (() => void) | null = null;

  constructor(readonly root: URL) {}

  /** The URL of `path` below the admin root (`api/session`). */
  url(path: string): string {
    return new URL(path, this.root).toString();
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST' && this.csrfToken !== null) headers['x-csrf-token'] = this.csrfToken;
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ApiError(0, 'network', `Could not reach the server (${detail}).`);
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (error.status === 401 && path.startsWith('api/')) this.onUnauthorized?.();
      throw error;
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** The current session (and its CSRF token, kept for later POSTs); ApiError 401 when signed out. */
  async session(): Promise<Session> {
    const session = await this.call<Session>('GET', 'api/session');
    this.csrfToken = session.csrfToken;
    return session;
  }

  /** Sign in; ApiError 401 for a wrong password, 429 (with `retryAfterSec`) when throttled. */
  async login(password: string): Promise<void> {
    await this.call<unknown>('POST', 'login', { password });
  }

  /** Sign out (the server clears the cookie). */
  async logout(): Promise<void> {
    try {
      await this.call<unknown>('POST', 'logout');
    } finally {
      this.csrfToken = null;
    }
  }

  /** GET `api/<path>`. */
  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', `api/${path}`);
  }

  /** POST `api/<path>` with a JSON body and the CSRF token. */
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', `api/${path}`, body);
  }
}

/** An error as one line for people: the server's message, with its code when that adds something. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return error.message;
    return `${error.message} (${error.status} ${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}
