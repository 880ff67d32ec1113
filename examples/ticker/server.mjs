// A live stock ticker: prices of 50 made-up symbols move at a few hundred ticks a second, all into the
// one channel `ticker`. The channel has a batch delay (the rule's `batchDelayMs`): the SDK reads batched
// frames, so a browser gets a WebSocket message every BATCH_DELAY_MS holding every tick of that window,
// built once for all subscribers, instead of one WebSocket message per tick.
//
// Ticks are ephemeral (no history): a price is worth nothing once the next one is out, and a page that
// connects or reconnects reads the current prices from GET /symbols, then follows the channel.
//
// The page (public/) is plain HTML, script and style of this origin under a strict Content-Security-Policy,
// on the browser SDK Switchboard serves at /sdk/switchboard.js (the `demo` option), every value as text.
import { createServer as createHttpServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const ticksPerSecond = Number(process.env.TICKS_PER_SECOND ?? 300); // across every symbol
const batchDelayMs = Number(process.env.BATCH_DELAY_MS ?? 100); // 0 to 1000
const CHANNEL = 'ticker';

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
const assets = new Map();
for (const [path, [file, type]] of Object.entries(files)) {
  assets.set(path, { body: await readFile(new URL(`./public/${file}`, import.meta.url)), type });
}
// Nothing inline, nothing from elsewhere: the page's script, its style and the SDK are files of this origin,
// and it connects only back here (the WebSocket at /ws).
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// ------------------------------------------------------------------------------------- the market

// Made-up symbols and names: any likeness to a listed company is an accident.
const NAMES = [
  'ACME Anvils',
  'Blue Lagoon',
  'Cobalt Labs',
  'Driftwood',
  'Ember Grid',
  'Fjord Freight',
  'Gale Wind',
  'Helix Bio',
  'Ion Drive',
  'Juniper Foods',
  'Kestrel Air',
  'Lumen Optics',
  'Magma Mining',
  'Nimbus Cloud',
  'Orbit Sat',
  'Pylon Power',
  'Quartz Chips',
  'Rivet Steel',
  'Saffron Spice',
  'Tundra Gear',
  'Umber Paint',
  'Vertex Robotics',
  'Willow Homes',
  'Xenon Lighting',
  'Yonder Travel',
  'Zephyr Motors',
  'Alder Timber',
  'Basalt Build',
  'Cinder Games',
  'Delta Water',
  'Echo Audio',
  'Flint Tools',
  'Garnet Jewels',
  'Harbor Ports',
  'Indigo Textiles',
  'Jasper Retail',
  'Kelp Farms',
  'Lattice Semis',
  'Meridian Bank',
  'Nova Pharma',
  'Onyx Security',
  'Prism Media',
  'Quill Paper',
  'Radiant Solar',
  'Sable Fashion',
  'Tessera Tiles',
  'Ultra Fiber',
  'Vega Rockets',
  'Wharf Logistics',
  'Yarrow Health',
];
/** Four letters from the name: its initials, padded with its first word's letters. */
function symbolOf(name) {
  const [first, ...rest] = name.toUpperCase().split(' ');
  return (first.slice(0, 4 - rest.length) + rest.map((word) => word[0]).join('')).slice(0, 4);
}
let seed = 42;
/** A small seeded generator: the same market on every start. */
function random() {
  seed = (seed * 1664525 + 1013904223) % 4294967296;
  return seed / 4294967296;
}
const stocks = NAMES.map((name) => {
  const open = Math.round((10 + random() * 490) * 100) / 100;
  return { symbol: symbolOf(name), name, open, price: open, volume: 0 };
});

/** Move one stock's price a small random step (a random walk with a pull back towards the open). */
function tick(stock) {
  const drift = (stock.open - stock.price) / stock.open / 50;
  const step = (random() - 0.5 + drift) * stock.price * 0.004;
  stock.price = Math.max(0.01, Math.round((stock.price + step) * 100) / 100);
  const size = 1 + Math.floor(random() * 50) * 10;
  stock.volume += size;
  return { s: stock.symbol, p: stock.price, q: size, t: Date.now() };
}

// ------------------------------------------------------------------------------------- the application

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

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
  if (req.method === 'GET' && pathname === '/symbols') {
    json(res, 200, {
      channel: CHANNEL,
      ticksPerSecond,
      batchDelayMs,
      stocks: stocks.map(({ symbol, name, open, price, volume }) => ({ symbol, name, open, price, volume })),
    });
    return;
  }
  if (req.method === 'GET' && pathname === '/favicon.ico') {
    res.writeHead(204); // no icon, and no 404 in the browser's console
    res.end();
    return;
  }
  if (switchboard.handleRequest(req, res)) return; // /sdk/switchboard.js, /api/..., /health, ...
  json(res, 404, { error: 'not found' });
});

const switchboard = createServer({
  server: httpServer,
  // Serves the browser SDK at /sdk/switchboard.js (and a chat page at /, shadowed by the handler above).
  demo: true,
  // Anyone may watch; only this process publishes. The batch delay is the channel's own: other channels
  // of the same server keep the default (a batch per event-loop turn).
  channels: [
    {
      pattern: CHANNEL,
      batchDelayMs,
      permissions: { subscribe: 'anyone', publish: 'none', history: 'none' },
    },
  ],
  defaultPermission: 'none',
});
await switchboard.start();
await new Promise((resolve) => httpServer.listen(port, resolve));
console.log(
  `listening on ${switchboard.url}: the ticker at /, ${ticksPerSecond} ticks/s over ${stocks.length} symbols, ` +
    `batch delay ${batchDelayMs} ms`,
);

// Publish on a 10 ms timer, as many ticks as the rate owes since the start: the rate holds even when a
// timer fires late (the event loop is busy), and the ticks of one timer land in the same batch anyway.
const started = performance.now();
let published = 0;
const market = setInterval(() => {
  const owed = Math.floor(((performance.now() - started) / 1000) * ticksPerSecond) - published;
  for (let i = 0; i < Math.min(owed, ticksPerSecond); i++) {
    const stock = stocks[Math.floor(random() * stocks.length)];
    switchboard
      .publish(CHANNEL, tick(stock), { ephemeral: true })
      .catch((error) => console.error('tick failed:', error.message));
  }
  published += owed;
}, 10);

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  clearInterval(market);
  await switchboard.stop(); // closes the WebSockets with 1001; the SDK reconnects to the next process
  httpServer.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
