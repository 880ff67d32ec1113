/**
 * What the Redis broker writes on pub/sub: a header line, then `\n`, then the body as it is. Publications
 * and direct messages carry their JSON payload raw after the header, never encoded a second time, and the
 * header is split with `indexOf`, so a payload may hold anything (newlines included). The pub/sub topic
 * names the channel, user or node, so the header does not repeat it.
 *
 * ```
 * p <offset> <epoch> <time>[ <exclusion>]\n<json>   publication (written by the publish script)
 * e <time>[ <exclusion>]\n<json>                    ephemeral publication
 * m\n<membership json>                              join/leave notice (channel topic)
 * u <time>[ <exclusion>]\n<json>                    message to a user (user topic)
 * b <time>[ <exclusion>]\n<json>                    broadcast (broadcast topic)
 * i\n                                               a user's inbox has new messages (user topic)
 * q\n<queue>                                        a work queue has new jobs (broadcast topic)
 * c <time> <connection id json>\n<json>             message to a connection (node topic)
 * d <code>\n<reason>                                disconnect a user (user topic)
 * D <code> <connection id json>\n<reason>           disconnect a connection (node topic)
 * P <nonce>                                         pub/sub probe (node or probe topic)
 * ```
 *
 * `<exclusion>` is the JSON of an {@link Exclusion}; it comes last on its line, so it may contain spaces.
 * Pure: no I/O, no Redis.
 */
import type { Envelope, Exclusion, Publication } from './broker.js';

/** What a pub/sub topic of this node stands for; decides which messages may arrive on it. */
export type WireTarget =
  | { readonly kind: 'channel'; readonly channel: string }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'node' }
  | { readonly kind: 'broadcast' }
  | { readonly kind: 'probe' };

/** A decoded pub/sub message. */
export type WireMessage =
  | { readonly type: 'publication'; readonly publication: Publication }
  | { readonly type: 'envelope'; readonly envelope: Envelope }
  | { readonly type: 'probe'; readonly nonce: string };

/** The header tail of a publication: its exclusion, if any. The publish script appends it to its header. */
export function exclusionTail(exclude: Exclusion | undefined): string {
  return exclude === undefined ? '' : ` ${JSON.stringify(exclude)}`;
}

/** An ephemeral publication. */
export function encodeEphemeral(time: number, exclude: Exclusion | undefined, json: string): string {
  return `e ${time}${exclusionTail(exclude)}\n${json}`;
}

/** A probe. */
export function encodeProbe(nonce: string): string {
  return `P ${nonce}`;
}

/** An envelope; the caller picks the topic (channel, user or node of the target, or broadcast). */
export function encodeEnvelope(envelope: Envelope): string {
  switch (envelope.kind) {
    case 'user':
      return `u ${envelope.time}${exclusionTail(envelope.exclude)}\n${envelope.json}`;
    case 'broadcast':
      return `b ${envelope.time}${exclusionTail(envelope.exclude)}\n${envelope.json}`;
    case 'connection':
      return `c ${envelope.time} ${JSON.stringify(envelope.connectionId)}\n${envelope.json}`;
    case 'inbox':
      return 'i\n';
    case 'queue':
      return `q\n${envelope.queue}`;
    case 'membership': {
      const { event, channel, userId, connectionId, info, time } = envelope;
      return `m\n${JSON.stringify({ event, channel, userId, connectionId, info, time })}`;
    }
    case 'disconnect-user':
      return `d ${envelope.code}\n${envelope.reason}`;
    case 'disconnect-connection':
      return `D ${envelope.code} ${JSON.stringify(envelope.connectionId)}\n${envelope.reason}`;
    case 'http-frames': {
      const { connection, secret, lines, call, cursor, reply, status, body } = envelope;
      return `F\n${JSON.stringify({ connection, secret, lines, call, cursor, reply, status, body })}`;
    }
  }
}

/** Decode a message that arrived on a topic standing for `target`; null when it is malformed or misplaced. */
export function decodeMessage(message: string, target: WireTarget): WireMessage | null {
  const newline = message.indexOf('\n');
  const header = newline < 0 ? message : message.slice(0, newline);
  const body = newline < 0 ? '' : message.slice(newline + 1);
  const kind = header[0];
  if (kind === 'P') return header.length > 2 ? { type: 'probe', nonce: header.slice(2) } : null;
  if (newline < 0 || (header.length > 1 && header[1] !== ' ')) return null;
  switch (target.kind) {
    case 'channel':
      return decodeChannelMessage(kind, header, body, target.channel);
    case 'user':
      return decodeUserMessage(kind, header, body, target.userId);
    case 'node':
      return decodeNodeMessage(kind, header, body);
    case 'broadcast': {
      if (kind === 'q' && header.length === 1)
        return body === '' ? null : { type: 'envelope', envelope: { kind: 'queue', queue: body } };
      if (kind !== 'b') return null;
      const [time, exclusion] = fields(header, 2);
      const envelope = withExclusion(
        { kind: 'broadcast' as const, json: body, time: integer(time) },
        exclusion,
      );
      return envelope === null || Number.isNaN(envelope.time) ? null : { type: 'envelope', envelope };
    }
    case 'probe':
      return null;
  }
}

function decodeChannelMessage(
  kind: string | undefined,
  header: string,
  body: string,
  channel: string,
): WireMessage | null {
  if (kind === 'p') {
    const [offset, epoch, time, exclusion] = fields(header, 4);
    const publication = withExclusion(
      { channel, id: integer(offset), epoch: epoch ?? '', json: body, ephemeral: false, time: integer(time) },
      exclusion,
    );
    if (
      publication === null ||
      Number.isNaN(publication.id) ||
      Number.isNaN(publication.time) ||
      epoch === ''
    )
      return null;
    return { type: 'publication', publication };
  }
  if (kind === 'e') {
    const [time, exclusion] = fields(header, 2);
    const publication = withExclusion(
      { channel, json: body, ephemeral: true, time: integer(time) },
      exclusion,
    );
    return publication === null || Number.isNaN(publication.time)
      ? null
      : { type: 'publication', publication };
  }
  if (kind === 'm' && header.length === 1) {
    const notice = parseJson(body);
    if (notice === null || typeof notice !== 'object') return null;
    const { event, userId, connectionId, info, time } = notice as Record<string, unknown>;
    if ((event !== 'join' && event !== 'leave') || typeof time !== 'number') return null;
    if (userId !== null && typeof userId !== 'string') return null;
    return {
      type: 'envelope',
      envelope: {
        kind: 'membership',
        event,
        channel,
        userId,
        time,
        ...(typeof connectionId === 'string' ? { connectionId } : {}),
        ...(info === undefined ? {} : { info }),
      },
    };
  }
  return null;
}

function decodeUserMessage(
  kind: string | undefined,
  header: string,
  body: string,
  userId: string,
): WireMessage | null {
  if (kind === 'u') {
    const [time, exclusion] = fields(header, 2);
    const envelope = withExclusion(
      { kind: 'user' as const, userId, json: body, time: integer(time) },
      exclusion,
    );
    return envelope === null || Number.isNaN(envelope.time) ? null : { type: 'envelope', envelope };
  }
  if (kind === 'i' && header.length === 1) return { type: 'envelope', envelope: { kind: 'inbox', userId } };
  if (kind === 'd') {
    const code = integer(header.slice(2));
    if (Number.isNaN(code)) return null;
    return { type: 'envelope', envelope: { kind: 'disconnect-user', userId, code, reason: body } };
  }
  return null;
}

function decodeNodeMessage(kind: string | undefined, header: string, body: string): WireMessage | null {
  if (kind === 'c') {
    const [time, id] = fields(header, 2);
    const connectionId = parseJson(id ?? '');
    if (typeof connectionId !== 'string' || Number.isNaN(integer(time))) return null;
    return {
      type: 'envelope',
      envelope: { kind: 'connection', connectionId, json: body, time: integer(time) },
    };
  }
  if (kind === 'F' && header.length === 1) {
    const value = parseJson(body);
    if (value === null || typeof value !== 'object') return null;
    const {
      connection,
      secret,
      lines,
      call,
      cursor,
      reply,
      status,
      body: text,
    } = value as Record<string, unknown>;
    if (typeof connection !== 'string' || typeof secret !== 'string' || !Array.isArray(lines)) return null;
    if (!lines.every((line) => typeof line === 'string')) return null;
    if (call !== undefined && call !== 'poll' && call !== 'delete' && call !== 'answer') return null;
    if (cursor !== undefined && !Number.isSafeInteger(cursor)) return null;
    if (status !== undefined && !Number.isSafeInteger(status)) return null;
    if (
      (reply !== undefined && typeof reply !== 'string') ||
      (text !== undefined && typeof text !== 'string')
    )
      return null;
    return {
      type: 'envelope',
      envelope: {
        kind: 'http-frames',
        connection,
        secret,
        lines: lines as string[],
        ...(call === undefined ? {} : { call }),
        ...(cursor === undefined ? {} : { cursor: cursor as number }),
        ...(reply === undefined ? {} : { reply }),
        ...(status === undefined ? {} : { status: status as number }),
        ...(text === undefined ? {} : { body: text }),
      },
    };
  }
  if (kind === 'D') {
    const [code, id] = fields(header, 2);
    const connectionId = parseJson(id ?? '');
    if (typeof connectionId !== 'string' || Number.isNaN(integer(code))) return null;
    return {
      type: 'envelope',
      envelope: { kind: 'disconnect-connection', connectionId, code: integer(code), reason: body },
    };
  }
  return null;
}

/** The first `count - 1` space-separated fields after the kind, then the rest of the header as the last. */
function fields(header: string, count: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let from = 2;
  for (let i = 1; i < count; i++) {
    const space = header.indexOf(' ', from);
    if (space < 0) {
      out.push(header.slice(from));
      return out;
    }
    out.push(header.slice(from, space));
    from = space + 1;
  }
  out.push(header.slice(from));
  return out;
}

function integer(text: string | undefined): number {
  if (text === undefined || text === '' || !/^-?\d+$/.test(text)) return NaN;
  return Number(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** `value` with the exclusion of its header tail; null when the tail is not an exclusion. */
function withExclusion<T extends object>(
  value: T,
  tail: string | undefined,
): (T & { exclude?: Exclusion }) | null {
  if (tail === undefined || tail === '') return value;
  const parsed = parseJson(tail);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const { connectionId, userId } = parsed as Record<string, unknown>;
  if (connectionId !== undefined && typeof connectionId !== 'string') return null;
  if (userId !== undefined && typeof userId !== 'string') return null;
  const exclude: Exclusion = {
    ...(connectionId === undefined ? {} : { connectionId }),
    ...(userId === undefined ? {} : { userId }),
  };
  return { ...value, exclude };
}
