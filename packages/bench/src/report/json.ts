/**
 * JSON laid out the way Prettier lays it out (objects expanded, arrays of plain values on one line when
 * they fit in 110 columns), so that results files pass `prettier --check` as they are written.
 */

const WIDTH = 110;

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function render(value: unknown, indent: string, column: number): string {
  if (isPlain(value)) return JSON.stringify(value) ?? 'null';
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isPlain)) {
      const line = `[${value.map((v) => JSON.stringify(v) ?? 'null').join(', ')}]`;
      // +1: the comma that may follow on the same line.
      if (column + line.length + 1 <= WIDTH) return line;
    }
    const items = value.map((v) => inner + render(v, inner, inner.length));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => {
    const head = `${inner}${JSON.stringify(k)}: `;
    return head + render(v, inner, head.length);
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** `value` as JSON text in Prettier's layout, with a final newline. */
export function toPrettyJson(value: unknown): string {
  return `${render(value, '', 0)}\n`;
}
