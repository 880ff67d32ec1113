/**
 * Typed end to end: one map of channel patterns to payload types, declared once in an application's
 * shared code and given to both `createServer<App>()` and `new SwitchboardClient<App>()`, so the compiler
 * checks what each side publishes and receives (Socket.IO's `ServerToClientEvents` generics, for channels).
 * Types only: this file compiles to nothing (docs/typescript.md).
 *
 * ```ts
 * export type App = ChannelMap<
 *   { 'chat:*': ChatMessage; 'job:*': JobProgress; 'user:*': Notification },
 *   { send: { request: JobRequest; reply: JobTicket }; direct: Notification }
 * >;
 * ```
 *
 * A pattern's `*` matches any run of characters, as in channel rules (`matchChannelPattern`): `'chat:*'`
 * types every channel whose name is `` `chat:${string}` ``. A channel no pattern matches is a compile
 * error. Where several patterns match one channel, its payload must satisfy each of them (their
 * intersection), so a catch-all `'*': unknown` beside `'chat:*'` leaves chat channels typed.
 */

/** The key that marks a type as a channel map; a payload type never has it. Never a value. */
declare const channelMapKey: unique symbol;

/** What a channel map may say beyond channels: the request/reply of `send()` and server-sent messages. */
export interface ChannelMapExtras {
  /** `client.send(request)` and the server's `onMessage` hook, which answers with `reply`. */
  readonly send?: { readonly request: unknown; readonly reply: unknown };
  /** `server.sendToUser()` / `sendToConnection()` and the client's `direct` event. */
  readonly direct?: unknown;
  /** `server.broadcast()` and the client's `broadcast` event. */
  readonly broadcast?: unknown;
}

/**
 * An application's channel map: `Channels` maps channel patterns (`'chat:*'`, `'lobby'`) to the payload
 * type published there; `Extras` types `send()`, direct messages and broadcasts (each unknown if absent).
 */
export interface ChannelMap<Channels extends object = object, Extras extends ChannelMapExtras = object> {
  readonly [channelMapKey]: { readonly channels: Channels; readonly extras: Extras };
}

/**
 * Any channel map: the constraint of a server's map, and its default, which types nothing (every channel
 * a string, every payload unknown, as JSON allows). An application's own map is narrower and types all.
 */
export type AnyChannelMap = ChannelMap<object, ChannelMapExtras>;

/** Whether `M` is AnyChannelMap itself (or `any`): no application map, so nothing is typed. */
type Untyped<M> = AnyChannelMap extends M ? true : false;

/** `Channels` of a map. */
type PatternsOf<M extends AnyChannelMap> = M[typeof channelMapKey]['channels'];

/** `Extras` of a map. */
type ExtrasOf<M extends AnyChannelMap> = M[typeof channelMapKey]['extras'];

/** The channel names a pattern matches, as a template literal type: `'chat:*'` -> `` `chat:${string}` ``. */
export type PatternChannel<Pattern extends string> = Pattern extends `${infer Head}*${infer Tail}`
  ? `${Head}${string}${PatternChannel<Tail>}`
  : Pattern;

/** Every channel name a map allows: the union of its patterns' names. */
export type ChannelOf<M extends AnyChannelMap> =
  Untyped<M> extends true
    ? string
    : { [P in keyof PatternsOf<M> & string]: PatternChannel<P> }[keyof PatternsOf<M> & string];

/**
 * One box per pattern `C` matches: `(payload) => void` boxes keep a payload that is itself a union whole
 * when {@link PayloadOf} intersects them.
 */
type MatchingPayloads<M extends AnyChannelMap, C extends string> = {
  [P in keyof PatternsOf<M> & string]: [C] extends [PatternChannel<P>]
    ? (payload: PatternsOf<M>[P]) => void
    : never;
}[keyof PatternsOf<M> & string];

/**
 * The payload type of channel `C`: what every pattern matching it says (their intersection); `never`
 * when none does. A union of channels gets the union of their payloads.
 */
export type PayloadOf<M extends AnyChannelMap, C extends string> =
  Untyped<M> extends true ? unknown : MapPayload<M, C>;

/** {@link PayloadOf} for an application's map, distributed over a union of channels. */
type MapPayload<M extends AnyChannelMap, C extends string> = C extends string
  ? [MatchingPayloads<M, C>] extends [never]
    ? never
    : MatchingPayloads<M, C> extends (payload: infer D) => void
      ? D
      : never
  : never;

/** What `client.send()` sends and the server's `onMessage` hook receives. */
export type SendRequestOf<M extends AnyChannelMap> =
  ExtrasOf<M> extends { readonly send: infer S }
    ? S extends { readonly request: infer R }
      ? R
      : unknown
    : unknown;

/** What the server's `onMessage` hook returns. */
export type SendReplyOf<M extends AnyChannelMap> =
  ExtrasOf<M> extends { readonly send: infer S }
    ? S extends { readonly reply: infer R }
      ? R
      : unknown
    : unknown;

/** What `client.send()` resolves with: the hook's reply, `null` where it returned nothing. */
export type SendResultOf<M extends AnyChannelMap> =
  undefined extends SendReplyOf<M> ? Exclude<SendReplyOf<M>, undefined> | null : SendReplyOf<M>;

/** The payload of direct messages (`sendToUser`, `sendToConnection`, the client's `direct` event). */
export type DirectOf<M extends AnyChannelMap> =
  ExtrasOf<M> extends { readonly direct: infer D } ? D : unknown;

/** The payload of broadcasts (`server.broadcast`, the client's `broadcast` event). */
export type BroadcastOf<M extends AnyChannelMap> =
  ExtrasOf<M> extends { readonly broadcast: infer B } ? B : unknown;

// ------------------------------------------------------------- the SDK's two modes
//
// `SwitchboardClient<T>` predates channel maps: there `T` is the default payload type of every channel
// (`new SwitchboardClient<ChatMessage>(url)`, `subscribe<T>(channel)`). A `T` that is a ChannelMap turns
// on the typed API; anything else keeps that one. The helpers below give each method's per-call type
// parameter `K` its meaning in either mode: the channel (typed) or the payload type (not).

/** Whether `T` is a channel map (`any` is not). */
export type IsChannelMap<T> = 0 extends 1 & T ? false : [T] extends [AnyChannelMap] ? true : false;

/** The constraint of a method's `K`: the map's channels, or anything (a payload type). */
export type ChannelKey<T> = IsChannelMap<T> extends true ? ChannelOf<T & AnyChannelMap> : unknown;

/** `K`'s default: every channel of the map, or `T` itself (the client's default payload type). */
export type DefaultKey<T> = IsChannelMap<T> extends true ? ChannelOf<T & AnyChannelMap> : T;

/** The `channel` parameter: `K` itself (typed), or any string. */
export type ChannelParam<T, K> = (IsChannelMap<T> extends true ? K : string) & string;

/** The payload of channel `K` (typed), or `K` itself (the payload type given per call). */
export type PayloadParam<T, K> = IsChannelMap<T> extends true ? PayloadOf<T & AnyChannelMap, K & string> : K;
