/**
 * The publish editor's check: the text must be one JSON value before the page offers to send it, and the
 * error says where it broke (line and column), as an editor would. Pure.
 */

/** The editor's text as a JSON value, or why it is not one. */
export type JsonCheck =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | { readonly ok: false; readonly message: string };

/** Line and column (1-based) of character `position` in `text`. */
export function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, position));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/** Parse `text` as the `data` of a publish. */
export function checkJson(text: string): JsonCheck {
  if (text.trim() === '') return { ok: false, message: 'Enter a JSON value, for example {"text": "hello"}.' };
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value, bytes: new TextEncoder().encode(JSON.stringify(value)).length };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 names the offset ("... at position 12"); turn it into something a person can find.
    const at = /position (\d+)/.exec(message);
    if (at === null) return { ok: false, message: `Not valid JSON: ${message}` };
    const { line, column } = lineColumn(text, Number(at[1]));
    const reason = message
      .replace(/\s*(?:in JSON )?at position \d+.*$/s, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '');
    return { ok: false, message: `Not valid JSON at line ${line}, column ${column}: ${reason}` };
  }
}
