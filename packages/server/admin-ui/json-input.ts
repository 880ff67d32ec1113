/**
 * The publish editor's check: the text must be one JSON value before the page offers to send it, and the
 * error says where it broke (line and column), as an editor would. Browsers' JSON.parse messages differ
 * and often omit the position, so a small scanner (RFC 8259's grammar) finds it. Pure.
 */

/** The editor's text as a JSON value, or why it is not one. */
export type JsonCheck =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | { readonly ok: false; readonly message: string };

/** Line and column (1-based) of character `position` in `text`. */
export function lineColumn(text: string, position: number): { line: number; column: number } {
  const lines = text.slice(0, Math.max(0, position)).split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/** Thrown by the scanner: what was expected, and where. */
class JsonProblem {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {}
}

/** Scans `text` as one JSON value; throws {@link JsonProblem} at the first error. */
function scan(text: string): void {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (expected: string): never => {
    const found = i >= text.length ? 'the end of the text' : `“${text[i]}”`;
    throw new JsonProblem(i, `expected ${expected}, found ${found}`);
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a value');
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail('a closing quote');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('no control character in a string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1] ?? '';
        if ('"\\/bfnrt'.includes(e) && e !== '') i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          fail('an escape such as \\n or \\u0041');
        }
      } else i++;
    }
  };
  const number = (): void => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (match === null || match[0] === '-') fail('a value');
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (depth: number): void => {
    if (depth > 500) fail('less nesting');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail('“:”');
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail('“,” or “}”');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail('“,” or “]”');
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail('a value');
  };
  value(0);
  ws();
  if (i < text.length) fail('nothing more after the value');
}

/** Parse `text` as the `data` of a publish. */
export function checkJson(text: string): JsonCheck {
  if (text.trim() === '') return { ok: false, message: 'Enter a JSON value, for example {"text": "hello"}.' };
  try {
    scan(text);
  } catch (error) {
    if (!(error instanceof JsonProblem)) throw error;
    const { line, column } = lineColumn(text, error.at);
    return { ok: false, message: `Not valid JSON at line ${line}, column ${column}: ${error.what}.` };
  }
  const value: unknown = JSON.parse(text);
  return { ok: true, value, bytes: new TextEncoder().encode(JSON.stringify(value)).length };
}
