/**
 * The admin dashboard from a test's side: sign in as the page does (POST /admin/login from the page's
 * origin), then call the JSON API with the session cookie, and the CSRF token on POSTs.
 */
import assert from 'node:assert/strict';

/** The password every admin test server uses. */
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** A signed-in dashboard. */
export interface AdminSession {
  /** The server's base URL (`http://127.0.0.1:PORT[/base]`). */
  readonly base: string;
  /** `switchboard_admin=...`, as a Cookie header. */
  readonly cookie: string;
  /** The whole Set-Cookie of the sign-in. */
  readonly setCookie: string;
  readonly csrfToken: string;
  readonly info: {
    readonly user: string;
    readonly expiresAt: number;
    readonly nodeId: string;
    readonly intervalMs: number;
    readonly channel: string;
  };
  /** GET an API path (below `/admin/api`) with the cookie; the status and the parsed body. */
  get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  /** POST an API path with the cookie, the CSRF token and the page's origin. */
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** `base`'s origin (what a page served from it sends as `Origin`). */
export function originOf(base: string): string {
  return new URL(base).origin;
}

/** POST /admin/login with `password` (from the page's origin unless `headers` say otherwise). */
export function login(
  base: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: originOf(base), ...headers },
    body: JSON.stringify({ password }),
  });
}

/** A response's status and JSON body ({} when empty). */
export async function answer<T>(res: Response): Promise<{ status: number; body: T }> {
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

/** Sign in to the dashboard of the server at `base`. */
export async function signIn(base: string, password = ADMIN_PASSWORD): Promise<AdminSession> {
  const res = await login(base, password);
  assert.equal(res.status, 204, await res.clone().text());
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const session = await answer<AdminSession['info'] & { csrfToken: string }>(
    await fetch(`${base}/admin/api/session`, { headers: { cookie } }),
  );
  assert.equal(session.status, 200);
  const { csrfToken, ...info } = session.body;
  return {
    base,
    cookie,
    setCookie,
    csrfToken,
    info,
    get: async (path) => answer(await fetch(`${base}/admin/api${path}`, { headers: { cookie } })),
    post: async (path, body) =>
      answer(
        await fetch(`${base}/admin/api${path}`, {
          method: 'POST',
          headers: {
            cookie,
            origin: originOf(base),
            'x-csrf-token': csrfToken,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
  };
}

/** An error body's code and message. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly temporary: boolean };
}
