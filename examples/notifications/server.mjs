// A per-user notification stream (the seed lecture's part 4) over a bare EventSource, signed in with a
// cookie. A user signs in at POST /login (a demo: any of the listed names, no password), which sets an
// HttpOnly cookie holding a short-lived JWT; Switchboard reads that cookie (`auth.cookie`) when the page
// opens GET /sse/user:<name>, so the browser's own reconnects are signed in too.
//
// The stream carries two kinds of message:
// - notifications, published to the channel user:<name> (only its owner may subscribe): they have an id,
//   are kept in history, and a reconnect replays what was missed (Last-Event-ID);
// - nudges, sent with switchboard.sendToUser (`event: direct`): live only, never replayed.
// Another user's notifications never reach a stream: the channel rule `user:*` lets only its owner in.
import { createServer as createHttpServer } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const USERS = ['alice', 'bob', 'carol'];
const COOKIE = 'sb_token';
const ISSUER = 'notifications-example';
const TOKEN_TTL_S = 3600;
// One secret per process unless JWT_SECRET is set: a restart then signs everybody out.
const secret = process.env.JWT_SECRET ?? randomBytes(32).toString('base64url');

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
const assets = new Map();
for (const [path, [file, type]] of Object.entries(files)) {
  assets.set(path, { body: await readFile(new URL(`./public/${file}`, import.meta.url)), type });
}
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// --------------------------------------------------------- a demo JWT (HS256), signed and checked here

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const mac = (text) => createHmac('sha256', secret).update(text).digest();

function sign(user) {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, iss: ISSUER, iat: now, exp: now + TOKEN_TTL_S })}`;
  return `${head}.${mac(head).toString('base64url')}`;
}

/** The signed-in user of a request (its cookie), or null. Switchboard checks the same token itself. */
function userOf(req) {
  const cookie = (req.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${COOKIE}=`));
  const [head, body, signature] = (cookie?.slice(COOKIE.length + 1) ?? '').split('.');
  if (head === undefined || body === undefined || signature === undefined) return null;
  const expected = mac(`${head}.${body}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    return claims.exp > Date.now() / 1000 && USERS.includes(claims.sub) ? claims.sub : null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------- the application

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function bodyOf(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 4096) throw new Error('body too large');
  }
  return JSON.parse(text || '{}');
}

/** The cookie: HttpOnly (scripts never see the token), SameSite=Strict, Secure behind https. */
function cookieHeader(value, maxAge) {
  const secure = switchboard.url.startsWith('https:') ? '; Secure' : '';
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

async function route(req, res) {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const asset = assets.get(pathname);
  if (req.method === 'GET' && pathname === '/favicon.ico') {
    res.writeHead(204); // no icon, and no 404 in the browser's console
    res.end();
    return;
  }
  if (req.method === 'GET' && asset !== undefined) {
    res.writeHead(200, {
      'content-type': asset.type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
    res.end(asset.body);
    return;
  }
  if (req.method === 'GET' && pathname === '/me') {
    json(res, 200, { user: userOf(req), users: USERS });
    return;
  }
  if (req.method === 'POST' && pathname === '/login') {
    const { user } = await bodyOf(req);
    if (!USERS.includes(user)) return json(res, 400, { error: `sign in as one of ${USERS.join(', ')}` });
    json(res, 200, { user }, { 'set-cookie': cookieHeader(sign(user), TOKEN_TTL_S) });
    return;
  }
  if (req.method === 'POST' && pathname === '/logout') {
    json(res, 200, { user: null }, { 'set-cookie': cookieHeader('', 0) });
    return;
  }
  if (req.method === 'POST' && pathname === '/notify') {
    // A signed-in user notifies another: a kept notification (channel) or a live nudge (sendToUser).
    const from = userOf(req);
    if (from === null) return json(res, 401, { error: 'sign in first' });
    const { to, text, kind = 'notification' } = await bodyOf(req);
    if (!USERS.includes(to) || typeof text !== 'string' || text.length === 0 || text.length > 500)
      return json(res, 400, { error: 'to: a user, text: 1 to 500 characters' });
    const message = { from, text, at: new Date().toISOString() };
    if (kind === 'nudge') {
      await switchboard.sendToUser(to, message);
      return json(res, 200, { kind });
    }
    const { id } = await switchboard.publish(`user:${to}`, message);
    return json(res, 200, { kind: 'notification', id });
  }
  json(res, 404, { error: 'not found' });
}

const httpServer = createHttpServer((req, res) => {
  if (switchboard.handleRequest(req, res)) return; // /sse/..., /api/..., /health, ...
  route(req, res).catch((error) => json(res, 400, { error: error.message }));
});

// Listen first: the cookie needs an allow-list of origins, and with PORT=0 the port is known only now.
await new Promise((resolve) => httpServer.listen(port, resolve));
const { port: actualPort } = httpServer.address();
const switchboard = createServer({
  server: httpServer,
  auth: {
    secret,
    algorithms: ['HS256'],
    issuer: ISSUER,
    cookie: COOKIE, // a bare EventSource sends it by itself, on every reconnect
    firstMessageAuth: false, // a stream cannot send a first message: no cookie is a 401
    queryToken: false,
  },
  // Browsers send cookies with cross-site requests too: only this site's pages may open a stream.
  allowedOrigins: (process.env.ALLOWED_ORIGINS?.split(',') ?? []).concat(
    `http://localhost:${actualPort}`,
    `http://127.0.0.1:${actualPort}`,
  ),
  sseRetryMs: Number(process.env.SSE_RETRY_MS ?? 2000),
  // user:<name> is its owner's only; the application publishes there, clients never do.
  channels: [{ pattern: 'user:*', permissions: { subscribe: 'owner', publish: 'none', history: 'owner' } }],
  defaultPermission: 'none',
});
await switchboard.start();
console.log(`listening on http://localhost:${actualPort}: sign in at /, streams at /sse/user:<name>`);

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  await switchboard.stop();
  httpServer.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
