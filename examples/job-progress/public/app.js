// The job page: a bare EventSource on /sse/job:<id>, no SDK. Every value is rendered as text.
'use strict';

const $ = (id) => document.getElementById(id);
const startButton = $('start');
let shown = 0; // the bar only moves forward: a step seen twice (a replay, a reload) changes nothing

function log(text, className) {
  const item = document.createElement('li');
  item.textContent = text;
  if (className !== undefined) item.className = className;
  $('log').append(item);
}

function setStatus(text, state) {
  $('status').textContent = text;
  document.body.dataset.state = state;
}

function render(progress) {
  if (!Number.isFinite(progress) || progress < shown) return;
  shown = Math.min(100, progress);
  $('fill').style.width = `${shown}%`;
  $('percent').textContent = String(shown);
  $('bar').setAttribute('aria-valuenow', String(shown));
}

function finish(source) {
  source.close(); // the server would answer the reconnect 204 anyway, which stops EventSource too
  $('job').classList.add('finished');
  setStatus('Finished: the export is ready.', 'done');
  startButton.disabled = false;
}

/** The job's state from the application: after the first open (a step may predate the stream) and a gap. */
async function reload(id, source, why) {
  const response = await fetch(`/jobs/${encodeURIComponent(id)}`);
  if (!response.ok) throw new Error(`GET /jobs/${id}: ${response.status}`);
  const job = await response.json();
  render(job.progress);
  if (why !== undefined) log(`${why}: reloaded the job's state, ${job.progress} %`, 'gap');
  if (job.finishedAt !== null && document.body.dataset.state !== 'done') {
    log('done', 'done');
    finish(source);
  }
}

function follow(id) {
  shown = 0;
  $('job').hidden = false;
  $('job').classList.remove('finished');
  $('job-id').textContent = id;
  $('log').replaceChildren();
  render(0);
  startButton.disabled = true;
  setStatus('Connecting…', 'connecting');

  const source = new EventSource(`/sse/${encodeURIComponent(`job:${id}`)}`);
  let opened = false;
  source.onopen = () => {
    if (opened) log('Reconnected', 'notice');
    setStatus('Live: following the job.', 'live');
    if (!opened) reload(id, source).catch((error) => log(error.message, 'gap'));
    opened = true;
  };
  source.onmessage = (event) => {
    const { progress, status } = JSON.parse(event.data);
    render(progress);
    log(`${progress} %: ${status}`);
  };
  // The stream could not resume from the browser's Last-Event-ID (the in-memory engine lost its history
  // in a restart): say so, and take the job's state from the application.
  source.addEventListener('gap', (event) => {
    const { reason } = JSON.parse(event.data);
    reload(id, source, `Missed updates (${reason})`).catch((error) => log(error.message, 'gap'));
  });
  source.addEventListener('done', () => {
    if (document.body.dataset.state === 'done') return; // the reloaded state said so already
    log('done', 'done');
    finish(source);
  });
  source.onerror = () => {
    if (document.body.dataset.state === 'done') return;
    if (source.readyState === EventSource.CLOSED) {
      setStatus('Stopped: reload the page.', 'closed');
      return;
    }
    if (document.body.dataset.state === 'live') log('Connection lost: reconnecting…', 'notice');
    setStatus('Connection lost: reconnecting…', 'reconnecting');
  };
}

startButton.addEventListener('click', async () => {
  startButton.disabled = true;
  const response = await fetch('/jobs', { method: 'POST' });
  if (!response.ok) {
    startButton.disabled = false;
    setStatus(`Could not start the job: ${response.status}`, 'closed');
    return;
  }
  const job = await response.json();
  history.replaceState(null, '', `#${job.id}`); // a reload follows the same job
  follow(job.id);
});

const fromHash = decodeURIComponent(location.hash.slice(1));
if (/^[0-9a-f-]{36}$/.test(fromHash)) follow(fromHash);
