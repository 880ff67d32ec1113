// Shared cursors over the browser SDK: this tab publishes its pointer's position to the channel `cursors`
// (ephemeral, at most 30 a second) and draws everyone else's, names as text. The stats bar shows what
// this tab receives and sends, per second, from the SDK's `client.stats`.
import { SwitchboardClient } from '/sdk/switchboard.js';

const CHANNEL = 'cursors';
/** At most this many positions a second from this tab. */
const MAX_RATE = 30;
/** While the pointer rests on the board, its position again this often (ms), so other tabs keep it. */
const KEEPALIVE_MS = 2000;
/** A cursor not heard of for this long is gone (its tab closed, or its pointer left long ago). */
const STALE_MS = 5000;
const NAME_KEY = 'switchboard.cursors.name';

const byId = (id) => document.getElementById(id);
const ui = {
  board: byId('board'),
  name: byId('name'),
  me: byId('me'),
  statusText: byId('status-text'),
  rateIn: byId('rate-in'),
  bytesIn: byId('bytes-in'),
  framesIn: byId('frames-in'),
  rateOut: byId('rate-out'),
  bytesOut: byId('bytes-out'),
  cursorCount: byId('cursor-count'),
  totals: byId('totals'),
};

// ------------------------------------------------------------------------------------- who this tab is

const query = new URLSearchParams(location.search);
function stored() {
  try {
    return localStorage.getItem(NAME_KEY);
  } catch {
    return null; // storage disabled
  }
}
ui.name.value = query.get('name') ?? stored() ?? `guest-${Math.floor(1000 + Math.random() * 9000)}`;
ui.name.addEventListener('input', () => {
  try {
    localStorage.setItem(NAME_KEY, ui.name.value);
  } catch {
    // not kept; the name still works for this tab
  }
});
ui.me.addEventListener('submit', (event) => event.preventDefault());
const myName = () => ui.name.value.trim().slice(0, 60) || 'anonymous';
const myId = `tab-${crypto.randomUUID().slice(0, 8)}`;
let myHue = 0;
for (const ch of myId) myHue = (myHue * 31 + ch.codePointAt(0)) % 360;

// ------------------------------------------------------------------------------------- the cursors

/** id -> { id, name, hue, x, y, seen, node, label } */
const cursors = new Map();
const dirty = new Set();
let frameRequested = false;

function cursorNode(id, hue) {
  const node = document.createElement('div');
  node.className = id.startsWith('sim-') ? 'cursor sim' : 'cursor';
  node.dataset.id = id;
  // A custom property through the CSSOM: allowed by the page's style-src, unlike a style attribute.
  node.style.setProperty('--hue', String(hue));
  const arrow = document.createElement('span');
  arrow.className = 'arrow';
  arrow.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  label.className = 'tag';
  node.append(arrow, label);
  ui.board.append(node);
  return { node, label };
}

/** A position from the channel: `{ id, n: name, h: hue, x, y }`, x and y from 0 to 1; `gone: true` to leave. */
function onPosition(data) {
  if (typeof data !== 'object' || data === null || typeof data.id !== 'string') return;
  const id = data.id.slice(0, 64);
  if (id === myId) return;
  if (data.gone === true) {
    remove(id);
    return;
  }
  const x = Number(data.x);
  const y = Number(data.y);
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) return;
  let cursor = cursors.get(id);
  if (cursor === undefined) {
    const hue = Number.isFinite(data.h) ? Math.round(data.h) % 360 : 200;
    cursor = { id, name: '', x, y, seen: 0, ...cursorNode(id, hue) };
    cursors.set(id, cursor);
    show(ui.cursorCount, cursors.size);
  }
  cursor.x = x;
  cursor.y = y;
  cursor.seen = performance.now();
  // Text, never HTML: `<img src=x onerror=...>` is a name like any other.
  const name = String(data.n ?? '').slice(0, 60) || 'anonymous';
  if (name !== cursor.name) {
    cursor.name = name;
    cursor.label.textContent = name;
  }
  dirty.add(cursor);
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(draw);
  }
}

function remove(id) {
  const cursor = cursors.get(id);
  if (cursor === undefined) return;
  cursor.node.remove();
  cursors.delete(id);
  dirty.delete(cursor);
  show(ui.cursorCount, cursors.size);
}

/** Once per animation frame: move the cursors that moved (many positions arrive per frame). */
function draw() {
  frameRequested = false;
  const width = ui.board.clientWidth;
  const height = ui.board.clientHeight;
  for (const cursor of dirty) {
    cursor.node.style.transform = `translate(${(cursor.x * width).toFixed(1)}px, ${(cursor.y * height).toFixed(1)}px)`;
    cursor.node.dataset.x = String(cursor.x);
    cursor.node.dataset.y = String(cursor.y);
  }
  dirty.clear();
}

// A resized board puts every cursor at its new place.
new ResizeObserver(() => {
  for (const cursor of cursors.values()) dirty.add(cursor);
  draw();
}).observe(ui.board);

setInterval(() => {
  const now = performance.now();
  for (const cursor of cursors.values()) if (now - cursor.seen > STALE_MS) remove(cursor.id);
}, 1000);

// ------------------------------------------------------------------------------------- this tab's pointer

let pending = null;
/** The pointer's last position on the board (sent again while it rests), null once it left. */
let last = null;
let lastSentAt = -Infinity;
let sendTimer = null;
let keepalive = null;
let sent = 0;

function publish(data) {
  // Fire and forget (no reply to wait for), not echoed back to this tab, and never queued while offline:
  // a position from a minute ago is worth nothing.
  if (client.state !== 'connected') return;
  client.notify({ type: 'publish', channel: CHANNEL, data, ephemeral: true, excludeSelf: true });
  sent++;
}

/** Send the latest position now, or as soon as the rate allows (leading and trailing edge). */
function flush() {
  sendTimer = null;
  if (pending === null) return;
  const wait = lastSentAt + 1000 / MAX_RATE - performance.now();
  if (wait > 0) {
    sendTimer = setTimeout(flush, wait);
    return;
  }
  lastSentAt = performance.now();
  publish({ id: myId, n: myName(), h: myHue, ...pending });
  pending = null;
}

ui.board.addEventListener('pointermove', (event) => {
  const box = ui.board.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  pending = { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
  last = pending;
  if (sendTimer === null) flush();
  clearInterval(keepalive);
  keepalive = setInterval(() => {
    pending = last;
    flush();
  }, KEEPALIVE_MS);
});
ui.board.addEventListener('pointerleave', () => {
  clearInterval(keepalive);
  clearTimeout(sendTimer);
  sendTimer = null;
  pending = null;
  last = null;
  publish({ id: myId, gone: true });
});
addEventListener('pagehide', () => publish({ id: myId, gone: true }));

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
function show(node, value, text = Math.round(value).toLocaleString('en-US')) {
  node.dataset.value = String(Math.round(value));
  node.textContent = text;
}

let received = 0;
let previous = null;

/** Once a second: the rates over the second that passed, from the SDK's wire counters. */
function sample() {
  const now = performance.now();
  const stats = client.stats;
  if (previous !== null) {
    const seconds = (now - previous.at) / 1000;
    const rate = (value, before) => (value - before) / seconds;
    show(ui.rateIn, rate(received, previous.received));
    show(
      ui.bytesIn,
      rate(stats.bytesIn, previous.stats.bytesIn),
      bytes(rate(stats.bytesIn, previous.stats.bytesIn)),
    );
    show(ui.framesIn, rate(stats.messagesIn, previous.stats.messagesIn));
    show(ui.rateOut, rate(sent, previous.sent));
    show(
      ui.bytesOut,
      rate(stats.bytesOut, previous.stats.bytesOut),
      bytes(rate(stats.bytesOut, previous.stats.bytesOut)),
    );
  }
  ui.totals.textContent =
    `Since the page opened: ${received.toLocaleString('en-US')} positions received ` +
    `(${bytes(stats.bytesIn)} in ${stats.messagesIn.toLocaleString('en-US')} WebSocket messages), ` +
    `${sent.toLocaleString('en-US')} sent (${bytes(stats.bytesOut)}). ` +
    'Bytes are WebSocket payloads, as the SDK counts them (client.stats).';
  previous = { at: now, received, sent, stats };
}

// ------------------------------------------------------------------------------------- the connection

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
// JSON unless the URL asks for MessagePack (`?format=msgpack`), to compare the two.
const format = query.get('format') === 'msgpack' ? 'msgpack' : 'json';
const client = new SwitchboardClient(`${scheme}//${location.host}/ws`, { format });
client.on('state', ({ to }) => {
  document.body.dataset.state = to;
  ui.statusText.textContent =
    to === 'connected' ? 'Live' : to === 'connecting' ? 'Connecting…' : `Not connected (${to})`;
});
client.subscribe(CHANNEL).on('message', (message) => {
  received++;
  onPosition(message.data);
});
client.connect().catch((error) => (ui.statusText.textContent = `Not connected: ${error.message}`));
setInterval(sample, 1000);
sample();
