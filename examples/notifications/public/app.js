// The notification page: sign in (an HttpOnly cookie), then one bare EventSource on /sse/user:<me>.
// No SDK. Every value is rendered as text.
'use strict';

const $ = (id) => document.getElementById(id);
let source = null;

function setStatus(text, state) {
  $('status').textContent = text;
  document.body.dataset.state = state;
}

function options(select, users, skip) {
  select.replaceChildren(
    ...users
      .filter((user) => user !== skip)
      .map((user) => {
        const option = document.createElement('option');
        option.value = user;
        option.textContent = user;
        return option;
      }),
  );
}

function show(kind, message) {
  const item = document.createElement('li');
  item.className = kind;
  const label = document.createElement('span');
  label.className = 'kind';
  label.textContent = kind;
  const body = document.createElement('span');
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = String(message.text);
  const from = document.createElement('span');
  from.className = 'from';
  from.textContent = ` from ${String(message.from)}`;
  body.append(text, from);
  const at = document.createElement('time');
  at.className = 'at';
  at.dateTime = String(message.at);
  at.textContent = new Date(message.at).toLocaleTimeString();
  item.append(label, body, at);
  $('items').prepend(item);
}

function notice(text) {
  const item = document.createElement('li');
  item.className = 'notice';
  item.textContent = text;
  $('items').prepend(item);
}

function open(me) {
  // The cookie goes along with this request and with every reconnect the browser makes by itself.
  source = new EventSource(`/sse/${encodeURIComponent(`user:${me}`)}`);
  source.onopen = () => setStatus('Live: new notifications appear here.', 'live');
  source.onmessage = (event) => show('notification', JSON.parse(event.data));
  source.addEventListener('direct', (event) => show('nudge', JSON.parse(event.data)));
  source.addEventListener('gap', (event) => {
    const { reason } = JSON.parse(event.data);
    notice(`Some notifications could not be replayed (${reason}); reload to see them all.`);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setStatus('Disconnected: sign in again.', 'closed');
    else setStatus('Connection lost: reconnecting…', 'reconnecting');
  };
}

async function refresh() {
  const { user, users } = await (await fetch('/me')).json();
  source?.close();
  source = null;
  $('items').replaceChildren();
  $('login').hidden = user !== null;
  $('inbox').hidden = user === null;
  if (user === null) {
    options($('user'), users);
    document.body.dataset.state = 'signed-out';
    return;
  }
  $('me').textContent = user;
  options($('to'), users, user);
  setStatus('Connecting…', 'connecting');
  open(user);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error((await response.json()).error ?? String(response.status));
}

async function send(kind) {
  if (!$('send').reportValidity()) return;
  try {
    await post('/notify', { to: $('to').value, text: $('text').value, kind });
    $('text').value = '';
  } catch (error) {
    notice(`Not sent: ${error.message}`);
  }
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  post('/login', { user: $('user').value }).then(refresh, (error) => notice(error.message));
});
$('logout').addEventListener('click', () => post('/logout', {}).then(refresh));
$('send').addEventListener('submit', (event) => {
  event.preventDefault();
  void send('notification');
});
$('nudge').addEventListener('click', () => void send('nudge'));
void refresh();
