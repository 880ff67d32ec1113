/**
 * The continuity of one subscription across reconnects (drain and failover scenarios): the channel's
 * message ids (offsets, 1, 2, 3, ...) and the publisher's own per-room numbers must both advance by one,
 * through live messages and the `messages` a recovering subscribe replays (docs/recovery.md). Pure.
 */

/** A subscribe reply's `result`, as far as recovery goes. */
export interface SubscribeResult {
  readonly offset: number;
  readonly epoch: string;
  readonly recovered?: boolean;
  readonly messages?: readonly { readonly id: number; readonly data?: unknown }[];
}

/** The figures of one or many subscriptions. */
export interface SequenceFigures {
  /** Holes in the id sequence, and the ids they skipped. */
  readonly gaps: number;
  readonly missing: number;
  /** Holes in the publisher's numbers (a message that never got an id would show only here). */
  readonly numberGaps: number;
  readonly duplicates: number;
  /** Recovering subscribes answered `recovered: true`, and those answered `recovered: false` (state lost). */
  readonly recovered: number;
  readonly notRecovered: number;
  /** Messages a recovering subscribe replayed. */
  readonly replayed: number;
}

/** The publisher's number in a message's `data` (`{"n": ...}`), or NaN. */
export function numberOf(data: unknown): number {
  if (typeof data !== 'object' || data === null || !('n' in data)) return NaN;
  const n = (data as { n: unknown }).n;
  return typeof n === 'number' ? n : NaN;
}

/** One subscription's position and what broke its continuity. */
export class SequenceCheck {
  /** The last id received (the subscribe reply's offset before any message). */
  offset = 0;
  epoch = '';
  private subscribedOnce = false;
  gaps = 0;
  missing = 0;
  numberGaps = 0;
  duplicates = 0;
  recovered = 0;
  notRecovered = 0;
  replayed = 0;

  /** `lastNumber`: the publisher's number before the first one expected (0: it starts at 1), NaN: unknown. */
  constructor(private lastNumber = 0) {}

  /** The `since` of the next subscribe: null for the first one, the position afterwards. */
  since(): { offset: number; epoch: string } | null {
    return this.subscribedOnce ? { offset: this.offset, epoch: this.epoch } : null;
  }

  /** A subscribe reply: the first sets the position; a recovering one replays its messages, or loses state. */
  subscribed(result: SubscribeResult): void {
    if (!this.subscribedOnce) {
      this.subscribedOnce = true;
      this.offset = result.offset;
      this.epoch = result.epoch;
      return;
    }
    if (result.recovered !== true || result.epoch !== this.epoch) {
      // Nothing partial is replayed: the position restarts from the reply's, the publisher's numbers too.
      this.notRecovered++;
      this.offset = result.offset;
      this.epoch = result.epoch;
      this.lastNumber = NaN;
      return;
    }
    this.recovered++;
    for (const m of result.messages ?? []) {
      this.replayed++;
      this.message(m.id, numberOf(m.data));
    }
    if (result.offset > this.offset) this.skip(result.offset);
  }

  /** A message with channel id `id` and the publisher's number `n` (NaN when it has none). */
  message(id: number, n: number): void {
    if (id <= this.offset) {
      this.duplicates++;
      return;
    }
    if (id > this.offset + 1) this.skip(id - 1);
    this.offset = id;
    if (n === n) {
      if (this.lastNumber === this.lastNumber && n !== this.lastNumber + 1) this.numberGaps++;
      this.lastNumber = n;
    }
  }

  /** Ids up to `to` were skipped. */
  private skip(to: number): void {
    this.gaps++;
    this.missing += to - this.offset;
    this.offset = to;
  }

  /** This subscription's figures. */
  figures(): SequenceFigures {
    return {
      gaps: this.gaps,
      missing: this.missing,
      numberGaps: this.numberGaps,
      duplicates: this.duplicates,
      recovered: this.recovered,
      notRecovered: this.notRecovered,
      replayed: this.replayed,
    };
  }
}

/** The sum of several subscriptions' figures. */
export function addFigures(a: SequenceFigures, b: SequenceFigures): SequenceFigures {
  return {
    gaps: a.gaps + b.gaps,
    missing: a.missing + b.missing,
    numberGaps: a.numberGaps + b.numberGaps,
    duplicates: a.duplicates + b.duplicates,
    recovered: a.recovered + b.recovered,
    notRecovered: a.notRecovered + b.notRecovered,
    replayed: a.replayed + b.replayed,
  };
}

/** No figures yet. */
export const NO_FIGURES: SequenceFigures = {
  gaps: 0,
  missing: 0,
  numberGaps: 0,
  duplicates: 0,
  recovered: 0,
  notRecovered: 0,
  replayed: 0,
};
