// The seed's job-progress bar (lecture part 4): a page starts an export job and follows it over a bare
// EventSource on /sse/job:<id>. The job publishes 10, 25, 50 and 100 % to the channel job:<id>, then
// completes it (server.completeChannel): the stream ends with `event: done`, and EventSource's reconnect
// is answered 204, which stops it for good.
//
// The job survives a restart of this process: its state lives in JOBS_FILE (the stand-in for a real job
// queue), and a restarted process resumes every unfinished job from its last recorded step. What the page
// sees across the restart depends on the engine:
// - REDIS_URL set (the Redis engine): history and positions survive, the browser's Last-Event-ID resumes
//   the stream, and it gets every step it missed, in order;
// - no REDIS_URL (the in-memory engine): history died with the process, so the stream answers the
//   reconnect with the documented `event: gap` (reason epoch_changed) and goes on live; the page then
//   reloads the job's state from GET /jobs/:id. Never a silent gap.
import { createServer as createHttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL; // optional: the durable engine
const stepMs = Number(process.env.STEP_MS ?? 1500); // time between two progress steps
const jobsFile = process.env.JOBS_FILE ?? join(tmpdir(), 'switchboard-job-progress.json');
const STEPS = [10, 25, 50, 100];

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
const assets = new Map();
for (const [path, [file, type]] of Object.entries(files)) {
  assets.set(path, { body: await readFile(new URL(`./public/${file}`, import.meta.url)), type });
}
// The page's script and style are files of this origin: nothing inline, nothing from elsewhere.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// ----------------------------------------------------------------------------------- the job "queue"

/** id -> { id, progress, createdAt, finishedAt }: what GET /jobs/:id answers, kept in JOBS_FILE. */
const jobs = new Map();
try {
  for (const job of JSON.parse(await readFile(jobsFile, 'utf8'))) jobs.set(job.id, job);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}

let saving = Promise.resolve();
/** Write the jobs file (a temporary file renamed over it: a crash never leaves half a file). */
function save() {
  saving = saving.then(async () => {
    const temporary = `${jobsFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify([...jobs.values()]));
    await rename(temporary, jobsFile);
  });
  return saving;
}

/** Run a job from its next step: publish each step to job:<id>, record it, then complete the channel. */
async function run(job) {
  const channel = `job:${job.id}`;
  for (const progress of STEPS.filter((step) => step > job.progress)) {
    await sleep(stepMs, undefined, { signal: stopping.signal }); // a shutdown leaves the job to the next start
    // Publish first, record second: a crash in between publishes the step again after the restart (the bar
    // shows the same percentage twice), never skips it.
    await switchboard.publish(channel, { progress, status: progress === 100 ? 'finished' : 'exporting' });
    job.progress = progress;
    await save();
  }
  job.finishedAt = new Date().toISOString();
  await save();
  // The last message has resolved: streams get `event: done`, then end; a reconnect is answered 204.
  await switchboard.completeChannel(channel);
}

const stopping = new AbortController();

function start(job) {
  run(job).catch((error) => {
    if (!stopping.signal.aborted) console.error(`job ${job.id} failed:`, error.message);
  });
}

// ------------------------------------------------------------------------------------- the application

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const httpServer = createHttpServer((req, res) => {
  if (switchboard.handleRequest(req, res)) return; // /sse/..., /api/..., /health, ...
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
  if (req.method === 'POST' && pathname === '/jobs') {
    const job = { id: randomUUID(), progress: 0, createdAt: new Date().toISOString(), finishedAt: null };
    jobs.set(job.id, job);
    save().then(
      () => {
        start(job);
        json(res, 201, job);
      },
      (error) => json(res, 500, { error: error.message }),
    );
    return;
  }
  const match = /^\/jobs\/([0-9a-f-]{36})$/.exec(pathname);
  if (req.method === 'GET' && match !== null) {
    const job = jobs.get(match[1]);
    if (job === undefined) json(res, 404, { error: 'no such job' });
    else json(res, 200, job);
    return;
  }
  json(res, 404, { error: 'not found' });
});

// Attached with basePath '': the handler above hands Switchboard its HTTP routes (/sse/... among them).
const engine =
  redisUrl === undefined
    ? undefined
    : await import('@switchboard/server/redis').then(({ createRedisEngine }) =>
        createRedisEngine({ url: redisUrl, prefix: 'job-progress' }),
      );
const switchboard = createServer({
  server: httpServer,
  ...(engine === undefined ? {} : { engine }),
  sseRetryMs: Number(process.env.SSE_RETRY_MS ?? 1000),
  // Job channels are written by this process only; anyone may follow one (the id is unguessable).
  channels: [{ pattern: 'job:*', permissions: { subscribe: 'anyone', publish: 'none', history: 'none' } }],
  defaultPermission: 'none',
});
await switchboard.start();
await new Promise((resolve) => httpServer.listen(port, resolve));
const engineName = engine === undefined ? 'memory engine' : 'Redis engine';
console.log(`listening on ${switchboard.url}: the job page at /, ${engineName}, jobs in ${jobsFile}`);

// Resume the jobs a previous process left unfinished; complete the channels of finished ones again
// (completion is node-local and does not survive a restart), so a stream that comes back ends with done.
for (const job of jobs.values()) {
  if (job.finishedAt === null) start(job);
  else await switchboard.completeChannel(`job:${job.id}`);
}

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  stopping.abort(); // unfinished jobs stay in JOBS_FILE and resume at the next start
  await saving;
  await switchboard.stop(); // ends the streams; EventSource reconnects to the next process
  httpServer.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
