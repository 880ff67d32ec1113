/**
 * Channel naming rules, shared by server and client so both reject the same names.
 *
 * ASCII only: letters, digits and `_ - . : @ / = + , # $ ! ~`. No spaces, no control characters, and no
 * `*` or `?`, which configuration uses as wildcards in channel patterns. ASCII avoids look-alike names
 * (homoglyphs) and keeps names safe in URLs, logs and Redis keys.
 */

/** Default maximum channel-name length, in characters. */
export const DEFAULT_MAX_CHANNEL_LENGTH = 128;

const CHANNEL_CHARS = /^[A-Za-z0-9_\-.:@/=+,#$!~]+$/;

/** Why a channel name was rejected, or null when it is valid. */
export function channelNameProblem(name: unknown, maxLength = DEFAULT_MAX_CHANNEL_LENGTH): string | null {
  if (typeof name !== 'string') return 'channel must be a string';
  if (name.length === 0) return 'channel must not be empty';
  if (name.length > maxLength) return `channel is longer than ${maxLength} characters`;
  if (!CHANNEL_CHARS.test(name)) {
    return 'channel may contain only ASCII letters, digits and _ - . : @ / = + , # $ ! ~';
  }
  return null;
}

/** Whether `name` is a valid channel name. */
export function isValidChannelName(name: unknown, maxLength = DEFAULT_MAX_CHANNEL_LENGTH): name is string {
  return channelNameProblem(name, maxLength) === null;
}

/**
 * Whether `channel` matches `pattern`, where `*` matches any run of characters (possibly empty).
 * Patterns select per-channel settings in configuration (for example `chat:*`).
 */
export function matchChannelPattern(pattern: string, channel: string): boolean {
  if (!pattern.includes('*')) return pattern === channel;
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!channel.startsWith(first) || channel.length < first.length + last.length) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = channel.indexOf(part, at);
    if (found === -1) return false;
    at = found + part.length;
  }
  return channel.length - last.length >= at && channel.endsWith(last);
}
