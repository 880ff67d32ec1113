/**
 * An incremental reader of a `text/event-stream` body (WHATWG HTML §9.2.6, the parts a Switchboard
 * stream uses: `event:`, `data:` lines joined by `\n`, comments ignored). The SDK reads streams with
 * `fetch` rather than `EventSource`, which Node 20 lacks and which cannot send headers. Pure.
 */

/** One dispatched event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Feed it decoded text as it arrives; it returns the events that text completed. */
export class SseParser {
  private rest = '';
  private event = '';
  private data: string[] = [];

  /** The events completed by `chunk` (may be none; a partial line waits for the next chunk). */
  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    const text = this.rest + chunk;
    let start = 0;
    for (;;) {
      const lf = text.indexOf('\n', start);
      if (lf < 0) break;
      const line = text.charCodeAt(lf - 1) === 13 ? text.slice(start, lf - 1) : text.slice(start, lf);
      start = lf + 1;
      this.line(line, out);
    }
    this.rest = text.slice(start);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0)
        out.push({ event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
