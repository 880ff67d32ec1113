#!/usr/bin/env node
// Push to Switchboard from a Node backend with fetch, through the server HTTP API (docs/http-api.md).
// The seeds' FastAPI app exposed POST /tasks/{id}/broadcast-update and POST /users/{id}/send-notification;
// these two functions are what such routes call.
//
//   SWITCHBOARD_URL      default http://localhost:8080
//   SWITCHBOARD_API_KEY  sent as `Authorization: Bearer ...` when set
//
// Usage: node publish.mjs [task-id] [user-id]     (defaults: 42 alice)
import { pathToFileURL } from 'node:url';

const baseUrl = (process.env.SWITCHBOARD_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
const apiKey = process.env.SWITCHBOARD_API_KEY;

async function post(path, body) {
  const headers = { 'content-type': 'application/json' };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const response = await fetch(`${baseUrl}/api${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) {
    // Errors are {"error": {"code", "message", "temporary"}}; `temporary` says whether a retry may succeed.
    const error = result.error ?? {};
    throw new Error(
      `POST ${path}: HTTP ${response.status} ${error.code ?? ''} ${error.message ?? ''}`.trim(),
    );
  }
  return result;
}

/** Tell everyone in the room `task:<id>` that the task changed; resolves with the message id. */
export async function broadcastTaskUpdate(taskId, update) {
  const { id } = await post('/publish', {
    channel: `task:${taskId}`,
    data: { type: 'task-update', taskId, ...update },
  });
  return id;
}

/** Send a notification to every connection authenticated as `userId`, on every node. */
export async function sendNotification(userId, notification) {
  await post(`/users/${encodeURIComponent(userId)}/send`, {
    data: { type: 'notification', ...notification },
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [taskId = '42', userId = 'alice'] = process.argv.slice(2);
  try {
    const id = await broadcastTaskUpdate(taskId, { status: 'done', by: 'node' });
    console.log(`published task-update to task:${taskId} as message #${id}`);
    await sendNotification(userId, { title: 'Task done', body: 'Your export is ready.' });
    console.log(`sent a notification to user ${userId}`);
  } catch (error) {
    console.error(error.message);
    process.exitCode = 1;
  }
}
