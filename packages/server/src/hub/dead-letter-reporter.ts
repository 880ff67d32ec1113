/**
 * Reports dead letters, wherever they come from (the inbox dispatcher, the expiry sweep, a full inbox,
 * the queue dispatcher): counted in the metrics, then handed to the application's `onDeadLetter` hook and
 * to the `dead_letter` webhook.
 */
import type { DeadLettered } from '../inbox/inbox-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/logger.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { hookFailed } from './hooks.js';
import type { DeadLetterEvent, ServerHooks } from './hooks.js';

/** Where dead letters were: a user's inbox or a work queue. */
export type DeadLetterSource =
  { readonly kind: 'inbox'; readonly userId: string } | { readonly kind: 'queue'; readonly queue: string };

/** Counts dead letters and runs `onDeadLetter` for each; never throws. */
export class DeadLetterReporter {
  constructor(
    private readonly hooks: Pick<ServerHooks, 'onDeadLetter'>,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly webhooks: Pick<Webhooks, 'wants' | 'emit'> | undefined,
  ) {}

  /** Dead letters of one inbox or queue: each counted and given to the hook; the dropped ones counted. */
  report(source: DeadLetterSource, dead: DeadLettered): void {
    if (dead.dropped > 0) this.metrics.deadLettersDropped(dead.dropped);
    const webhook = this.webhooks?.wants('dead_letter') === true;
    for (const letter of dead.letters) {
      this.metrics.deadLettered(source.kind, letter.reason);
      const hook = this.hooks.onDeadLetter;
      if (hook === undefined && !webhook) continue;
      const { json, ...fields } = letter;
      const event = { ...source, ...fields, data: parse(json) } as DeadLetterEvent;
      if (webhook) this.webhooks?.emit('dead_letter', event);
      if (hook === undefined) continue;
      try {
        const result = hook(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.failed(event, error));
      } catch (error) {
        this.failed(event, error);
      }
    }
  }

  private failed(event: DeadLetterEvent, error: unknown): void {
    const where = event.kind === 'inbox' ? { userId: event.userId } : { queue: event.queue };
    hookFailed(this.logger, 'onDeadLetter', '', error, { ...where, messageId: event.id });
  }
}

/** A stored payload: JSON the server wrote itself, so a parse failure means a broken store (kept as text). */
function parse(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}
