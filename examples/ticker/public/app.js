// The ticker page: the current prices from GET /symbols, then every tick of the channel `ticker` over the
// browser SDK. Ticks are drawn once per animation frame (a few hundred a second arrive; the screen shows
// 60), every value is set as text, and the stats bar shows what arrives: channel messages, WebSocket
// messages and bytes per second, from the SDK's `client.stats`.
import { SwitchboardClient } from '/sdk/switchboard.js';

/** The wire format when the URL does not say (`?format=json` or `?format=msgpack`): MessagePack. */
const DEFAULT_FORMAT = 'msgpack';
const asked = new URLSearchParams(location.search).get('format');
const format = asked === 'json' || asked === 'msgpack' ? asked : DEFAULT_FORMAT;
/** Prices kept per symbol for its sparkline. */
const SPARK_POINTS = 80;

const byId = (id) => document.getElementById(id);
const ui = {
  board: byId('board'),
  statusText: byId('status-text'),
  format: byId('format'),
  symbolCount: byId('symbol-count'),
  batchDelay: byId('batch-delay'),
  rateMessages: byId('rate-messages'),
  rateFrames: byId('rate-frames'),
  rateBytes: byId('rate-bytes'),
  bytesPerMessage: byId('bytes-per-message'),
  messagesPerFrame: byId('messages-per-frame'),
  totals: byId('totals'),
};

/** The theme's colours (style.css, light or dark), read once: the canvas and the flashes need values. */
const theme = getComputedStyle(document.documentElement);
const color = (name) => theme.getPropertyValue(name).trim();
const colors = {
  up: color('--up'),
  down: color('--down'),
  flashUp: color('--flash-up'),
  flashDown: color('--flash-down'),
  baseline: color('--baseline'),
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ------------------------------------------------------------------------------------- the board

/** symbol -> { open, price, history, dirty, nodes } */
const stocks = new Map();
const dirty = new Set();

function card(stock) {
  const item = element('li', 'card');
  item.dataset.symbol = stock.symbol;
  const head = element('div', 'head');
  head.append(element('span', 'symbol', stock.symbol), element('span', 'name', stock.name));
  const price = element('span', 'price', '');
  const change = element('span', 'change', '');
  const spark = element('canvas', 'spark');
  spark.width = 160 * devicePixelRatio;
  spark.height = 36 * devicePixelRatio;
  spark.setAttribute('aria-hidden', 'true');
  const row = element('div', 'row');
  row.append(price, change);
  item.append(head, row, spark);
  return { item, price, change, spark };
}

/** Build the board from a snapshot (GET /symbols), or refresh every price from one after a reconnect. */
function load(snapshot) {
  ui.symbolCount.textContent = String(snapshot.stocks.length);
  ui.batchDelay.textContent = String(snapshot.batchDelayMs);
  for (const { symbol, name, open, price } of snapshot.stocks) {
    let stock = stocks.get(symbol);
    if (stock === undefined) {
      stock = { symbol, name, open, price, history: [], last: price, nodes: null };
      stock.nodes = card(stock);
      ui.board.append(stock.nodes.item);
      stocks.set(symbol, stock);
    }
    stock.price = price;
    stock.history.push(price);
    dirty.add(stock);
  }
  schedule();
}

/** One tick: `{ s: symbol, p: price, q: size, t: time }`. */
function onTick(data) {
  const stock = stocks.get(data?.s);
  if (stock === undefined || typeof data.p !== 'number') return; // before the snapshot, or not a tick
  stock.price = data.p;
  stock.history.push(data.p);
  if (stock.history.length > SPARK_POINTS) stock.history.splice(0, stock.history.length - SPARK_POINTS);
  dirty.add(stock);
  schedule();
}

let frameRequested = false;
function schedule() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(draw);
}

function draw() {
  frameRequested = false;
  for (const stock of dirty) render(stock);
  dirty.clear();
}

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signed = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: 'exceptZero',
});

function render(stock) {
  const { price, change, item, spark } = stock.nodes;
  const delta = stock.price - stock.open;
  price.textContent = money.format(stock.price);
  change.textContent = `${signed.format(delta)} (${signed.format((delta / stock.open) * 100)} %)`;
  item.classList.toggle('up', delta > 0);
  item.classList.toggle('down', delta < 0);
  if (stock.price !== stock.last) {
    // A flash on every change of the shown price, green up and red down (the Web Animations API: no
    // inline style, which the page's Content-Security-Policy would refuse).
    price.animate([{ backgroundColor: stock.price > stock.last ? colors.flashUp : colors.flashDown }, {}], {
      duration: 500,
      easing: 'ease-out',
    });
    stock.last = stock.price;
  }
  sparkline(spark, stock.history, stock.open, delta);
}

function sparkline(canvas, points, open, delta) {
  // The canvas's pixels follow its laid-out size (the card's width varies with the window).
  const fit = Math.round(canvas.clientWidth * devicePixelRatio);
  if (fit > 0 && canvas.width !== fit) canvas.width = fit;
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  if (points.length < 2) return;
  let min = open;
  let max = open;
  for (const p of points) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const span = max - min || 1;
  const pad = 3 * devicePixelRatio;
  const x = (i) => (i / (SPARK_POINTS - 1)) * width;
  const y = (p) => pad + (1 - (p - min) / span) * (height - 2 * pad);
  // The open price as a dashed baseline.
  context.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
  context.strokeStyle = colors.baseline;
  context.lineWidth = devicePixelRatio;
  context.beginPath();
  context.moveTo(0, y(open));
  context.lineTo(width, y(open));
  context.stroke();
  context.setLineDash([]);
  context.strokeStyle = delta >= 0 ? colors.up : colors.down;
  context.lineWidth = 1.5 * devicePixelRatio;
  context.beginPath();
  const offset = SPARK_POINTS - points.length;
  points.forEach((p, i) =>
    i === 0 ? context.moveTo(x(i + offset), y(p)) : context.lineTo(x(i + offset), y(p)),
  );
  context.stroke();
}

// ------------------------------------------------------------------------------------- the stats bar

const units = ['B', 'KB', 'MB', 'GB'];
function bytes(value) {
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Show `value` in `node`, and keep the number in `data-value` (what a test reads). */
function show(node, value, text) {
  node.dataset.value = String(value);
  node.textContent = text;
}

let messages = 0;
let last = null;

/** Once a second: the rates over the second that passed, from the SDK's wire counters. */
function sample() {
  const now = performance.now();
  const stats = client.stats;
  if (last !== null) {
    const seconds = (now - last.at) / 1000;
    const perSecond = (value) => value / seconds;
    const received = messages - last.messages;
    const frames = stats.messagesIn - last.stats.messagesIn;
    const octets = stats.bytesIn - last.stats.bytesIn;
    show(
      ui.rateMessages,
      Math.round(perSecond(received)),
      Math.round(perSecond(received)).toLocaleString('en-US'),
    );
    show(ui.rateFrames, Math.round(perSecond(frames)), Math.round(perSecond(frames)).toLocaleString('en-US'));
    show(ui.rateBytes, Math.round(perSecond(octets)), bytes(perSecond(octets)));
    const perMessage = received > 0 ? octets / received : 0;
    show(ui.bytesPerMessage, Math.round(perMessage), received > 0 ? perMessage.toFixed(1) : '–');
    const batching = frames > 0 ? received / frames : 0;
    show(ui.messagesPerFrame, Math.round(batching * 10) / 10, frames > 0 ? batching.toFixed(1) : '–');
  }
  ui.totals.textContent =
    `Since the page opened: ${messages.toLocaleString('en-US')} messages in ` +
    `${stats.messagesIn.toLocaleString('en-US')} WebSocket messages, ${bytes(stats.bytesIn)} received, ` +
    `${bytes(stats.bytesOut)} sent. Bytes are WebSocket payloads, as the SDK counts them (client.stats).`;
  last = { at: now, messages, stats };
}

// ------------------------------------------------------------------------------------- the connection

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = new SwitchboardClient(`${scheme}//${location.host}/ws`, { format });

async function snapshot() {
  const response = await fetch('/symbols', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /symbols: ${response.status}`);
  return response.json();
}

client.on('state', ({ to }) => {
  document.body.dataset.state = to;
  ui.statusText.textContent =
    to === 'connected' ? 'Live' : to === 'connecting' ? 'Connecting…' : `Not connected (${to})`;
});
client.on('connected', (info) => {
  // The format the server selected for this connection (a server without MessagePack answers JSON).
  document.body.dataset.format = info.format;
  ui.format.textContent = info.format === 'msgpack' ? 'MessagePack' : 'JSON';
  // Ticks are ephemeral: nothing is replayed after a reconnect, so the page reads the prices again.
  snapshot().then(load, (error) => (ui.statusText.textContent = error.message));
});
client.subscribe('ticker').on('message', (message) => {
  messages++;
  onTick(message.data);
});
client.connect().catch((error) => (ui.statusText.textContent = `Not connected: ${error.message}`));
setInterval(sample, 1000);
sample();
