/**
 * Compile-time tests of the typed API (docs/typescript.md): every statement here must compile, and every
 * line after `// @ts-expect-error` must not. Nothing runs: `npm run typecheck` and typed-channels.test.ts
 * (`tsc -p test/typed`, so `npm test` catches a regression too) compile it.
 */
import { createServer } from '@switchboard/server';
import type { SwitchboardServer } from '@switchboard/server';
import type { ChannelMap, ChannelOf, HistoryResult, PayloadOf, PublishResult } from '@switchboard/protocol';
import { SwitchboardClient } from '../../src/index.js';
import type { ChannelMessage, ServerMessage, Subscription } from '../../src/index.js';
import type { App, ChatMessage, JobProgress, JobTicket, Notification } from './app.js';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(check: Equal<A, B>): void {
  void check;
}

export async function typedClient(client: SwitchboardClient<App>, room: string): Promise<void> {
  // publish: the payload of the channel's pattern.
  const published: Promise<PublishResult> = client.publish('chat:lobby', { text: 'hi', from: 'ann' });
  void published;
  void client.publish('job:42', { percent: 25 });
  void client.publish('job:42', { done: true });
  void client.publish('lobby', 'hello');
  // @ts-expect-error: a chat message lacks `from`
  void client.publish('chat:lobby', { text: 'hi' });
  // @ts-expect-error: a job's payload is not a chat message
  void client.publish('job:42', { text: 'hi', from: 'ann' });
  // @ts-expect-error: no pattern matches `news:1`
  void client.publish('news:1', { text: 'hi', from: 'ann' });
  // @ts-expect-error: `lobby` is exact, not a prefix
  void client.publish('lobby:2', 'hello');
  // @ts-expect-error: a plain string channel could be anything: type it as a template literal
  void client.publish(room, { text: 'hi', from: 'ann' });
  const chatRoom: `chat:${string}` = `chat:${room}`;
  void client.publish(chatRoom, { text: 'hi', from: 'ann' });

  // subscribe: the subscription's messages, its publish and history.
  const chat = client.subscribe('chat:lobby');
  same<typeof chat, Subscription<ChatMessage>>(true);
  chat.on('message', (m) => {
    same<typeof m.data, ChatMessage>(true);
    same<typeof m, ChannelMessage<ChatMessage>>(true);
  });
  void chat.publish({ text: 'hi', from: 'ann' });
  // @ts-expect-error: the subscription's publish is typed too
  void chat.publish({ percent: 3 });
  const page = await chat.history({ limit: 10 });
  same<typeof page, HistoryResult<ChatMessage>>(true);
  const jobs = client.subscription('job:7');
  jobs.on('message', (m) => {
    same<typeof m.data, JobProgress>(true);
    if ('percent' in m.data) void m.data.percent.toFixed();
  });
  // @ts-expect-error: no pattern matches
  client.subscribe('news:1');
  // @ts-expect-error: in typed mode the type argument is the channel, not a payload type
  client.subscribe<ChatMessage>('chat:lobby');

  // history: items typed by the channel.
  const history = await client.history('user:ann');
  same<(typeof history.messages)[number]['data'], Notification>(true);
  // @ts-expect-error: no pattern matches
  await client.history('news:1');

  // send: the map's request and reply.
  const ticket = await client.send({ start: 'export' });
  same<typeof ticket, JobTicket>(true);
  // @ts-expect-error: not a JobRequest
  await client.send({ begin: 'export' });

  // client-wide events: one member per pattern; direct and broadcast from the map.
  client.on('message', (m) => {
    same<typeof m, ClientWideMessage>(true);
  });
  client.on('direct', (m) => same<typeof m, ServerMessage<Notification>>(true));
  client.on('broadcast', (m) => same<typeof m.data, { readonly motd: string }>(true));
}

type ClientWideMessage =
  | ChannelMessage<ChatMessage, `chat:${string}`>
  | ChannelMessage<JobProgress, `job:${string}`>
  | ChannelMessage<Notification, `user:${string}`>
  | ChannelMessage<string, 'lobby'>;

export async function typedServer(server: SwitchboardServer<App>): Promise<void> {
  await server.publish('job:42', { percent: 50 });
  await server.publish('chat:lobby', { text: 'hi', from: 'server' });
  // @ts-expect-error: a job's payload
  await server.publish('job:42', { percent: '50' });
  // @ts-expect-error: no pattern matches
  await server.publish('news:1', {});
  await server.sendToUser('ann', { title: 'build done' });
  // @ts-expect-error: direct messages are Notifications
  await server.sendToUser('ann', { text: 'hi' });
  await server.sendToConnection('c1', { title: 'hi' });
  await server.broadcast({ motd: 'maintenance at noon' });
  // @ts-expect-error: broadcasts carry a motd
  await server.broadcast({ title: 'x' });
  const page = await server.history('chat:lobby');
  same<(typeof page.messages)[number]['data'], ChatMessage>(true);
}

export function typedHooks(): SwitchboardServer<App> {
  const server = createServer<App>({
    onMessage: (_connection, request) => {
      same<typeof request, { readonly start: string }>(true);
      return { jobId: `job:${request.start}` };
    },
  });
  createServer<App>({
    // @ts-expect-error: the reply must be a JobTicket
    onMessage: () => ({ id: 1 }),
  });
  createServer<App>({ onMessage: async () => ({ jobId: 'j' }) });
  return server;
}

// @ts-expect-error: a bare payload map is not a ChannelMap (wrap it: ChannelMap<{ ... }>)
createServer<{ 'chat:*': ChatMessage }>();

/** The untyped API is as it was: any channel, `unknown` payloads, `subscribe<T>()` narrowing per call. */
export async function untyped(
  client: SwitchboardClient,
  legacy: SwitchboardClient<ChatMessage>,
  server: SwitchboardServer,
  room: string,
): Promise<void> {
  void client.publish(room, { anything: 1 });
  client.subscribe(room).on('message', (m) => same<typeof m.data, unknown>(true));
  const reply = await client.send(42);
  same<typeof reply, unknown>(true);
  const history = await client.history(room);
  same<(typeof history.messages)[number]['data'], unknown>(true);
  client.on('message', (m) => same<typeof m, ChannelMessage>(true));

  legacy.subscribe('anything').on('message', (m) => same<typeof m.data, ChatMessage>(true));
  void legacy.publish('anything', { text: 'hi', from: 'ann' });
  legacy.subscribe<number>('counter').on('message', (m) => same<typeof m.data, number>(true));
  void legacy.publish<number>('counter', 3);
  // @ts-expect-error: the per-call type is checked
  void legacy.publish<number>('counter', 'three');
  legacy.on('message', (m) => same<typeof m.data, ChatMessage>(true));

  await server.publish(room, { anything: 1 });
  await server.sendToUser('ann', 'anything');
  const page = await server.history(room);
  same<(typeof page.messages)[number]['data'], unknown>(true);
  createServer({ onMessage: (_c, data) => same<typeof data, unknown>(true) });
}

/** Overlapping patterns: a channel's payload satisfies every pattern that matches it. */
export function overlapping(): void {
  type Overlap = ChannelMap<{
    '*': unknown;
    'chat:*': ChatMessage;
    'chat:vip:*': { readonly badge: string };
  }>;
  same<PayloadOf<Overlap, 'news:1'>, unknown>(true);
  same<PayloadOf<Overlap, 'chat:lobby'>, ChatMessage>(true);
  same<PayloadOf<Overlap, 'chat:vip:1'>, ChatMessage & { readonly badge: string }>(true);
  same<ChannelOf<ChannelMap<{ 'a*b*c': 1 }>>, `a${string}b${string}c`>(true);
  same<PayloadOf<ChannelMap<{ 'a*b*c': 1 }>, 'aXbYc'>, 1>(true);
  same<PayloadOf<App, 'news:1'>, never>(true);
}
