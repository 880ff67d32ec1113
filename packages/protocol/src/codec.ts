/**
 * Encoding and validation of protocol v1 frames. Hand-written rather than schema-driven: it runs once per
 * inbound frame on the server's hot path and ships in the browser SDK, where size matters.
 */
import { ERROR_CODE_INFO, ErrorCode } from './codes.js';
import { channelNameProblem, DEFAULT_MAX_CHANNEL_LENGTH } from './channel-name.js';
import { FRAME_SEPARATOR } from './frames.js';
import type { ClientCommand, ErrorPayload, ServerFrame, StreamPosition } from './frames.js';
import { validateDeliveryCommand } from './delivery-codec.js';

/** Why a frame was rejected, with the command id when one could be read (so the error can be a reply). */
export interface DecodeFailure {
  readonly ok: false;
  readonly id?: number;
  readonly error: ErrorPayload;
}

/** A successfully decoded command. */
export interface DecodeSuccess {
  readonly ok: true;
  readonly command: ClientCommand;
}

/** The outcome of {@link decodeCommand}. */
export type DecodeResult = DecodeSuccess | DecodeFailure;

/** Options for {@link decodeCommand}. */
export interface DecodeOptions {
  /** Maximum channel-name length. Default {@link DEFAULT_MAX_CHANNEL_LENGTH}. */
  readonly maxChannelLength?: number;
  /** Maximum nesting of arrays and objects in `data`. Default {@link DEFAULT_MAX_DATA_DEPTH}. */
  readonly maxDataDepth?: number;
}

/**
 * Default maximum nesting of a command's `data`. JSON.parse accepts any depth, but JSON.stringify
 * recurses and throws RangeError past a few thousand levels (~4,000 on Node 20), so a 12 KB frame of
 * `[[[[...]]]]` that decodes fine would throw later, when the server re-encodes it for fan-out.
 */
export const DEFAULT_MAX_DATA_DEPTH = 64;

/**
 * Whether `value` nests arrays and objects more than `maxDepth` levels deep (a scalar has depth 0, `[]`
 * depth 1). Iterative, so the check cannot overflow the stack itself; stops at the first deep branch.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth < 1) return true;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  for (;;) {
    const node = nodes.pop();
    const depth = depths.pop();
    if (node === undefined || depth === undefined) return false;
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) {
      if (typeof child !== 'object' || child === null) continue;
      if (depth >= maxDepth) return true;
      nodes.push(child);
      depths.push(depth + 1);
    }
  }
}

/** Why a payload cannot travel as JSON intact: too deep, or holding a number JSON cannot carry. */
export type DataProblem = 'depth' | 'number';

/**
 * Why `value` cannot travel as JSON intact, or null when it can: nested more than `maxDepth` levels
 * ('depth', as {@link exceedsDepth} counts), or holding a number that is not finite ('number'). JSON has no Infinity or NaN: JSON.parse
 * reads `1e309` as Infinity, and JSON.stringify writes Infinity and NaN as `null`, so such a payload would
 * be delivered as something the sender never sent. One iterative pass (it cannot overflow the stack
 * itself); stops at the first problem.
 */
export function dataProblem(value: unknown, maxDepth: number): DataProblem | null {
  if (typeof value !== 'object' || value === null)
    return typeof value === 'number' && !Number.isFinite(value) ? 'number' : null;
  if (maxDepth < 1) return 'depth';
  const nodes: object[] = [value];
  const depths: number[] = [1];
  for (;;) {
    const node = nodes.pop();
    const depth = depths.pop();
    if (node === undefined || depth === undefined) return null;
    for (const child of Array.isArray(node) ? (node as unknown[]) : Object.values(node)) {
      if (typeof child !== 'object' || child === null) {
        if (typeof child === 'number' && !Number.isFinite(child)) return 'number';
        continue;
      }
      if (depth >= maxDepth) return 'depth';
      nodes.push(child);
      depths.push(depth + 1);
    }
  }
}

/** The message of a {@link DataProblem}, as the `bad_request` it is answered with says it. */
export function dataProblemMessage(problem: DataProblem, maxDepth: number): string {
  return problem === 'depth'
    ? `data is nested more than ${maxDepth} levels deep`
    : 'data holds a number JSON cannot carry (out of range, such as 1e309, or not a number)';
}

/** The outcome of {@link encodeData}. */
export type EncodedData =
  { readonly ok: true; readonly json: string } | { readonly ok: false; readonly message: string };

/**
 * Encode an application payload once, for every recipient and every node. Refuses what cannot be
 * delivered intact: `undefined`, values nested deeper than `maxDepth` (or cyclic), numbers JSON cannot
 * carry (Infinity, NaN), and values JSON.stringify rejects (BigInt, a throwing toJSON).
 */
export function encodeData(data: unknown, maxDepth = DEFAULT_MAX_DATA_DEPTH): EncodedData {
  if (data === undefined) return { ok: false, message: 'data is required' };
  const problem = dataProblem(data, maxDepth);
  if (problem !== null) return { ok: false, message: dataProblemMessage(problem, maxDepth) };
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return { ok: false, message: 'data is not serializable as JSON' };
  }
  if (json === undefined) return { ok: false, message: 'data is not serializable as JSON' };
  return { ok: true, json };
}

/** Build an error payload with the `temporary` flag the code table assigns. */
export function errorPayload(code: ErrorCode, message: string): ErrorPayload {
  return { code, message, temporary: ERROR_CODE_INFO[code].temporary };
}

function fail(code: ErrorCode, message: string, id: number | undefined): DecodeFailure {
  const error = errorPayload(code, message);
  return id === undefined ? { ok: false, error } : { ok: false, id, error };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The most messages one `history` command may ask for. */
export const MAX_HISTORY_LIMIT = 1000;

/** The number of messages `history` returns when the command gives no `limit`. */
export const DEFAULT_HISTORY_LIMIT = 100;

/** Maximum length of a token in `auth` and `refresh` (a JWT with generous claims fits). */
export const MAX_TOKEN_LENGTH = 8192;

/** Maximum length of a stream epoch string. */
const MAX_EPOCH_LENGTH = 64;

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Whether `value` is a well-formed {@link StreamPosition}. */
export function isStreamPosition(value: unknown): value is StreamPosition {
  if (!isPlainObject(value)) return false;
  const { offset, epoch } = value;
  return isOffset(offset) && typeof epoch === 'string' && epoch.length <= MAX_EPOCH_LENGTH;
}

/** Whether `value` is a valid command id: a non-negative safe integer. */
export function isValidCommandId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parse and validate one text frame from a client.
 * Never throws: every problem becomes a {@link DecodeFailure} with a stable code.
 */
export function decodeCommand(text: string, options: DecodeOptions = {}): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(ErrorCode.InvalidJson, 'frame is not valid JSON', undefined);
  }
  return validateCommand(value, options);
}

/** Validate an already-parsed value as a client command. */
export function validateCommand(value: unknown, options: DecodeOptions = {}): DecodeResult {
  if (!isPlainObject(value)) return fail(ErrorCode.InvalidFrame, 'frame must be a JSON object', undefined);
  const rawId = value['id'];
  let id: number | undefined;
  if (rawId !== undefined) {
    if (!isValidCommandId(rawId)) {
      return fail(ErrorCode.BadRequest, 'id must be a non-negative integer', undefined);
    }
    id = rawId;
  }
  const type = value['type'];
  if (typeof type !== 'string') return fail(ErrorCode.UnknownCommand, 'type must be a string', id);
  const maxChannelLength = options.maxChannelLength ?? DEFAULT_MAX_CHANNEL_LENGTH;
  const maxDataDepth = options.maxDataDepth ?? DEFAULT_MAX_DATA_DEPTH;
  switch (type) {
    case 'ping':
    case 'pong':
      return { ok: true, command: id === undefined ? { type } : { type, id } };
    case 'subscribe': {
      const channel = value['channel'];
      const problem = channelNameProblem(channel, maxChannelLength);
      if (problem !== null) return fail(ErrorCode.InvalidChannel, problem, id);
      const rawSince = value['since'];
      let since: StreamPosition | undefined;
      if (rawSince !== undefined) {
        if (!isStreamPosition(rawSince)) {
          return fail(
            ErrorCode.BadRequest,
            'since must be {"offset": a non-negative integer, "epoch": a string}',
            id,
          );
        }
        since = { offset: rawSince.offset, epoch: rawSince.epoch };
      }
      const command = {
        type,
        channel: channel as string,
        ...(since === undefined ? {} : { since }),
      };
      return { ok: true, command: id === undefined ? command : { ...command, id } };
    }
    case 'unsubscribe':
    case 'presence':
    case 'presence_stats': {
      const channel = value['channel'];
      const problem = channelNameProblem(channel, maxChannelLength);
      if (problem !== null) return fail(ErrorCode.InvalidChannel, problem, id);
      const command = { type, channel: channel as string } as
        | { type: 'unsubscribe'; channel: string }
        | { type: 'presence'; channel: string }
        | { type: 'presence_stats'; channel: string };
      return { ok: true, command: id === undefined ? command : { ...command, id } };
    }
    case 'auth':
    case 'refresh': {
      const token = value['token'];
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        return fail(
          ErrorCode.BadRequest,
          `token must be a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`,
          id,
        );
      }
      const command = { type, token } as { type: 'auth'; token: string } | { type: 'refresh'; token: string };
      return { ok: true, command: id === undefined ? command : { ...command, id } };
    }
    case 'history': {
      const channel = value['channel'];
      const problem = channelNameProblem(channel, maxChannelLength);
      if (problem !== null) return fail(ErrorCode.InvalidChannel, problem, id);
      const since = value['since'];
      if (since !== undefined && !isOffset(since)) {
        return fail(ErrorCode.BadRequest, 'since must be a non-negative integer', id);
      }
      const limit = value['limit'];
      if (limit !== undefined && (!isOffset(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)) {
        return fail(ErrorCode.BadRequest, `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`, id);
      }
      return {
        ok: true,
        command: {
          type,
          channel: channel as string,
          ...(id === undefined ? {} : { id }),
          ...(since === undefined ? {} : { since }),
          ...(limit === undefined ? {} : { limit }),
        },
      };
    }
    case 'publish': {
      const channel = value['channel'];
      const problem = channelNameProblem(channel, maxChannelLength);
      if (problem !== null) return fail(ErrorCode.InvalidChannel, problem, id);
      if (!('data' in value) || value['data'] === undefined)
        return fail(ErrorCode.BadRequest, 'data is required', id);
      const unfit = dataProblem(value['data'], maxDataDepth);
      if (unfit !== null) return fail(ErrorCode.BadRequest, dataProblemMessage(unfit, maxDataDepth), id);
      const ephemeral = value['ephemeral'];
      if (ephemeral !== undefined && typeof ephemeral !== 'boolean') {
        return fail(ErrorCode.BadRequest, 'ephemeral must be a boolean', id);
      }
      const excludeSelf = value['excludeSelf'];
      if (excludeSelf !== undefined && typeof excludeSelf !== 'boolean') {
        return fail(ErrorCode.BadRequest, 'excludeSelf must be a boolean', id);
      }
      return {
        ok: true,
        command: {
          type,
          channel: channel as string,
          data: value['data'],
          ...(id === undefined ? {} : { id }),
          ...(ephemeral === undefined ? {} : { ephemeral }),
          ...(excludeSelf === undefined ? {} : { excludeSelf }),
        },
      };
    }
    case 'send': {
      if (!('data' in value) || value['data'] === undefined)
        return fail(ErrorCode.BadRequest, 'data is required', id);
      const unfit = dataProblem(value['data'], maxDataDepth);
      if (unfit !== null) return fail(ErrorCode.BadRequest, dataProblemMessage(unfit, maxDataDepth), id);
      const command = { type, data: value['data'] };
      return { ok: true, command: id === undefined ? command : { ...command, id } };
    }
    case 'inbox':
    case 'ack':
    case 'nack':
    case 'consume':
    case 'cancel': {
      const outcome = validateDeliveryCommand(type, value, id);
      return 'type' in outcome ? { ok: true, command: outcome } : fail(outcome.code, outcome.message, id);
    }
    default:
      return fail(ErrorCode.UnknownCommand, `unknown command type ${JSON.stringify(type.slice(0, 64))}`, id);
  }
}

/** Serialize a server frame. One call per frame; a broadcast encodes once and shares the string. */
export function encodeServerFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** Serialize a client command. */
export function encodeCommand(command: ClientCommand): string {
  return JSON.stringify(command);
}

/**
 * The frames of one WebSocket message from the server: several when the client asked for batched frames
 * (`?batch=1`, see `BATCH_QUERY_PARAM` in frames.ts), separated by {@link FRAME_SEPARATOR}; otherwise one. Empty
 * lines are skipped.
 */
export function splitFrames(text: string): string[] {
  if (!text.includes(FRAME_SEPARATOR)) return [text];
  return text.split(FRAME_SEPARATOR).filter((line) => line.length > 0);
}

/**
 * Parse a frame from the server (client side). Returns null for anything that is not an object with a
 * string `type`; unknown types are returned as they are so that callers can ignore them.
 */
export function decodeServerFrame(text: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isPlainObject(value) || typeof value['type'] !== 'string') return null;
  return value as unknown as ServerFrame;
}
