/**
 * Questions the dashboard asks every node (a search, a user's connections), over the broker: the asking
 * node publishes the question on `$admin:calls`, which every node with the dashboard on hears; each
 * answers for itself on `$admin:answers:<asking node>`. The asker waits for the live nodes it knows of
 * (their snapshots: snapshot-book.ts) until a deadline, then answers with what came and says `partial`.
 * With the memory engine there are no other nodes and nothing is published.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** The channel of questions, which every node with the dashboard on subscribes to. */
export const ADMIN_CALLS_CHANNEL = '$admin:calls';

/** The channel a node's answers come back on. */
export function adminAnswersChannel(nodeId: string): string {
  return `$admin:answers:${nodeId}`;
}

/** A question every node answers for itself. */
export type AdminQuestion =
  { readonly op: 'search'; readonly q: string } | { readonly op: 'user'; readonly userId: string };

/** The answers that came, by node, and whether a node expected to answer did not in time. */
export interface Gathered {
  readonly answers: ReadonlyMap<string, unknown>;
  readonly partial: boolean;
}

/** What the calls need. */
export interface AdminCallsOptions {
  readonly nodeId: string;
  /** Publish an ephemeral message on a reserved channel, through the broker. */
  publish(channel: string, json: string): Promise<void>;
  /** This node's answer to a question (another node's, or its own). */
  answer(question: AdminQuestion): unknown;
  /** How long the asker waits for the other nodes (ms). */
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Questions waited on at once, at most; more are answered with this node's part only (`partial`). */
const MAX_PENDING = 100;

interface Pending {
  readonly expected: Set<string>;
  readonly answers: Map<string, unknown>;
  readonly timer: TimerHandle;
  readonly done: (gathered: Gathered) => void;
}

/** Asks the other nodes, and answers them. */
export class AdminCalls {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly options: AdminCallsOptions) {}

  /** Ask `question` of the nodes in `others` (this node's own answer is included at once). */
  ask(question: AdminQuestion, others: readonly string[]): Promise<Gathered> {
    const { nodeId, clock } = this.options;
    const answers = new Map<string, unknown>([[nodeId, this.options.answer(question)]]);
    const expected = new Set(others.filter((id) => id !== nodeId));
    if (expected.size === 0) return Promise.resolve({ answers, partial: false });
    if (this.pending.size >= MAX_PENDING) return Promise.resolve({ answers, partial: true });
    const id = randomBytes(12).toString('base64url');
    return new Promise<Gathered>((resolve) => {
      const timer = clock.setTimeout(() => this.settle(id), this.options.deadlineMs);
      this.pending.set(id, { expected, answers, timer, done: resolve });
      const json = JSON.stringify({ id, from: nodeId, question });
      this.options.publish(ADMIN_CALLS_CHANNEL, json).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'admin: question to the other nodes not sent');
        this.settle(id);
      });
    });
  }

  /** A question arrived on `$admin:calls`: answer it, unless this node asked it. */
  onQuestion(json: string): void {
    const call = parse(json);
    if (call === null) return;
    const { id, from, question } = call;
    if (typeof id !== 'string' || typeof from !== 'string' || from === this.options.nodeId) return;
    if (!isQuestion(question)) return;
    let result: unknown;
    try {
      result = this.options.answer(question);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'admin: question not answered');
      return;
    }
    const answer = JSON.stringify({ id, node: this.options.nodeId, result });
    this.options.publish(adminAnswersChannel(from), answer).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'admin: answer not sent');
    });
  }

  /** An answer arrived on this node's `$admin:answers:` channel. */
  onAnswer(json: string): void {
    const answer = parse(json);
    if (answer === null) return;
    const { id, node, result } = answer;
    if (typeof id !== 'string' || typeof node !== 'string') return;
    const pending = this.pending.get(id);
    if (pending === undefined || !pending.expected.delete(node)) return;
    pending.answers.set(node, result);
    if (pending.expected.size === 0) this.settle(id);
  }

  /** Stop waiting: every question is answered with what came. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.settle(id);
  }

  private settle(id: string): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    pending.timer.cancel();
    pending.done({ answers: pending.answers, partial: pending.expected.size > 0 });
  }
}

function parse(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isQuestion(value: unknown): value is AdminQuestion {
  if (typeof value !== 'object' || value === null) return false;
  const { op, q, userId } = value as Record<string, unknown>;
  return (op === 'search' && typeof q === 'string') || (op === 'user' && typeof userId === 'string');
}
