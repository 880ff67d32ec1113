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
import type { App, ChatMessage, JobProgress, JobRequest, JobTicket, Notification } from './app.js';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function same<A, B>(check: Equal<A, B>): void {
  void check;
}

/** `exact<T>()(value)` compiles only when `value`'s type is exactly `T` (not merely assignable). */
function exact<Expected>() {
  return <Actual>(value: Actual, ...check: Equal<Actual, Expected> extends true ? [] : [never]): void => {
    void value;
    void check;
  };
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
  exact<Subscription<ChatMessage>>()(chat);
  chat.on('message', (m) => {
    exact<ChatMessage>()(m.data);
    exact<ChannelMessage<ChatMessage>>()(m);
  });
  void chat.publish({ text: 'hi', from: 'ann' });
  // @ts-expect-error: the subscription's publish is typed too
  void chat.publish({ percent: 3 });
  const page = await chat.history({ limit: 10 });
  exact<HistoryResult<ChatMessage>>()(page);
  const jobs = client.subscription('job:7');
  jobs.on('message', (m) => {
    exact<JobProgress>()(m.data);
    if ('percent' in m.data) void m.data.percent.toFixed();
  });
  // @ts-expect-error: no pattern matches
  client.subscribe('news:1');
  // @ts-expect-error: in typed mode the type argument is the channel, not a payload type
  client.subscribe<ChatMessage>('chat:lobby');

  // history: items typed by the channel.
  const history = await client.history('user:ann');
  for (const m of history.messages) exact<Notification>()(m.data);
  // @ts-expect-error: no pattern matches
  await client.history('news:1');

  // send: the map's request and reply.
  const ticket = await client.send({ start: 'export' });
  exact<JobTicket>()(ticket);
  // @ts-expect-error: not a JobRequest
  await client.send({ begin: 'export' });

  // client-wide events: one member per pattern; direct and broadcast from the map.
  client.on('message', (m) => {
    exact<ClientWideMessage>()(m);
  });
  client.on('direct', (m) => exact<ServerMessage<Notification>>()(m));
  client.on('broadcast', (m) => exact<{ readonly motd: string }>()(m.data));
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
  for (const m of page.messages) exact<ChatMessage>()(m.data);
}

export function typedHooks(): SwitchboardServer<App> {
  const server = createServer<App>({
    onMessage: (_connection, request) => {
      exact<JobRequest>()(request);
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
  client.subscribe(room).on('message', (m) => exact<unknown>()(m.data));
  const reply = await client.send(42);
  exact<unknown>()(reply);
  const history = await client.history(room);
  for (const m of history.messages) exact<unknown>()(m.data);
  client.on('message', (m) => exact<ChannelMessage>()(m));

  legacy.subscribe('anything').on('message', (m) => exact<ChatMessage>()(m.data));
  void legacy.publish('anything', { text: 'hi', from: 'ann' });
  legacy.subscribe<number>('counter').on('message', (m) => exact<number>()(m.data));
  void legacy.publish<number>('counter', 3);
  // @ts-expect-error: the per-call type is checked
  void legacy.publish<number>('counter', 'three');
  legacy.on('message', (m) => exact<ChatMessage>()(m.data));

  await server.publish(room, { anything: 1 });
  await server.sendToUser('ann', 'anything');
  const page = await server.history(room);
  for (const m of page.messages) exact<unknown>()(m.data);
  createServer({ onMessage: (_c, data) => exact<unknown>()(data) });
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

/** Code written for untyped servers keeps compiling (a typed server is a `SwitchboardServer<App>`). */
export function untypedAnnotations(): void {
  const server: ReturnType<typeof createServer> = createServer();
  const plain: SwitchboardServer = server;
  // @ts-expect-error: publish is contravariant in payloads; annotate a typed server as SwitchboardServer<App>
  const widened: SwitchboardServer = createServer<App>();
  void [plain, widened];
}
