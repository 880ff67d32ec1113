// Shared cursors: every browser tab on the page is a cursor on one shared board. A tab publishes its
// pointer's position to the channel `cursors` at most 30 times a second, as ephemeral messages: no
// history, no id, and a slow tab may miss some (the next position replaces them anyway). Besides the
// tabs, this process moves SIM_USERS simulated users (50 by default) along smooth paths, each publishing
// SIM_RATE (30) positions a second: 1,500 messages a second that every tab receives.
//
// The page (public/) is plain HTML, script and style of this origin under a strict Content-Security-Policy,
// on the browser SDK Switchboard serves at /sdk/switchboard.js (the `demo` option); names are text, never
// HTML, whatever a user calls themselves.
import { createServer as createHttpServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const simUsers = Number(process.env.SIM_USERS ?? 50);
const simRate = Number(process.env.SIM_RATE ?? 30); // positions a second, per simulated user
const CHANNEL = 'cursors';

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
const assets = new Map();
for (const [path, [file, type]] of Object.entries(files)) {
  assets.set(path, { body: await readFile(new URL(`./public/${file}`, import.meta.url)), type });
}
// Nothing inline, nothing from elsewhere: a name that is HTML could not run even if it reached the DOM as
// markup (it does not: the page sets every name as text).
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// ------------------------------------------------------------------------------------- the simulation

// Some names are hostile on purpose: markup, a script, a right-to-left override, a very long name. The
// page must show each as the text it is.
const NAMES = [
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Alan',
  'Barbara',
  'Dennis',
  'Frances',
  'Ken',
  'Radia',
  'Tim',
  'Hedy',
  'Edsger',
  'Katherine',
  'Donald',
  'Sophie',
  'Vint',
  'Shafi',
  'Leslie',
  'Anita',
  'Guido',
  'Jean',
  'Bjarne',
  'Adele',
  'Niklaus',
  'Ida',
  'Yukihiro',
  'Karen',
  'Whitfield',
  'Mary',
  'John',
  'Lynn',
  'Brendan',
  'Evelyn',
  'Ward',
  'Joan',
  'Rasmus',
  'Cynthia',
  'James',
  'Lois',
  '<img src=x onerror=alert(1)>',
  '"><script>alert(1)</script>',
  "Robert'); DROP TABLE users;--",
  '\u202Egnp.exe',
  '&amp; &lt;b&gt;',
  'Zoë 🦊',
  'ماريا',
  '李雷',
  'A very long name that goes on and on and on',
  '{{constructor}}',
];

/** One simulated user: a Lissajous path of its own speed and shape, so no two move alike. */
function simulated(index) {
  const golden = 0.618033988749895;
  const phase = (index * golden) % 1;
  return {
    id: `sim-${String(index + 1).padStart(2, '0')}`,
    name: NAMES[index % NAMES.length],
    hue: Math.round(((index * golden) % 1) * 360),
    ax: 2 + (index % 3),
    ay: 3 + (index % 4),
    speed: 0.05 + ((index * 7) % 11) / 110, // path turns a second
    phase: phase * Math.PI * 2,
  };
}
const users = Array.from({ length: simUsers }, (_, i) => simulated(i));

/** Where `user` is at `seconds`, on the board's 0..1 square. */
function position(user, seconds) {
  const t = seconds * user.speed * Math.PI * 2 + user.phase;
  const x = 0.5 + 0.42 * Math.sin(user.ax * t + user.phase);
  const y = 0.5 + 0.4 * Math.sin(user.ay * t);
  return { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
}

// ------------------------------------------------------------------------------------- the application

const httpServer = createHttpServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const asset = assets.get(pathname);
  // The page's files first: `demo` below would answer GET / with Switchboard's own chat page.
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
  if (req.method === 'GET' && pathname === '/favicon.ico') {
    res.writeHead(204); // no icon, and no 404 in the browser's console
    res.end();
    return;
  }
  if (switchboard.handleRequest(req, res)) return; // /sdk/switchboard.js, /api/..., /health, ...
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
});

const switchboard = createServer({
  server: httpServer,
  // Serves the browser SDK at /sdk/switchboard.js (and a chat page at /, shadowed by the handler above).
  demo: true,
  // Anyone may move a cursor. Clients cannot read history here; there is none to read anyway: cursor
  // positions are published ephemeral, so nothing is kept (GET /api/channels/cursors/history is empty).
  channels: [{ pattern: CHANNEL, permissions: { subscribe: 'anyone', publish: 'anyone', history: 'none' } }],
  defaultPermission: 'none',
});
await switchboard.start();
await new Promise((resolve) => httpServer.listen(port, resolve));
console.log(
  `listening on ${switchboard.url}: the board at /, ${users.length} simulated users at ${simRate} updates/s each`,
);

// One timer moves every simulated user: their positions of one step are published in the same event-loop
// turn, so they share one batched WebSocket message per tab. Steps are kept on the schedule (a late timer
// does not push the next ones back), and a step more than one period late is skipped, not sent twice.
const periodMs = 1000 / simRate;
const started = performance.now();
let step = 0;
let timer = null;
function move() {
  const now = performance.now();
  const seconds = (now - started) / 1000;
  for (const user of users) {
    const { x, y } = position(user, seconds);
    switchboard
      .publish(CHANNEL, { id: user.id, n: user.name, h: user.hue, x, y }, { ephemeral: true })
      .catch((error) => console.error('move failed:', error.message));
  }
  step = Math.max(step + 1, Math.floor((now - started) / periodMs));
  timer = setTimeout(move, Math.max(0, started + (step + 1) * periodMs - performance.now()));
}
if (users.length > 0 && simRate > 0) move();

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  clearTimeout(timer);
  await switchboard.stop(); // closes the WebSockets with 1001; the SDK reconnects to the next process
  httpServer.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
