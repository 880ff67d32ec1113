/**
 * OpenTelemetry spans along a publication's path: the HTTP API request, the publish through the broker,
 * and each node's fan-out of it to local subscribers. The publish span's `traceparent` travels with the
 * publication (through Redis on several nodes), so every delivering node's fan-out span is its child.
 *
 * Off costs nothing per recipient: with no SDK registered the API's tracer hands out non-recording spans,
 * so no `traceparent` is written, and a publication without one starts no fan-out span at all.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/** The instrumentation scope of every span the server starts. */
export const TRACER_NAME = '@switchboard/server';

/** What a fan-out span is told about the publication it delivers. */
export interface TracedPublication {
  readonly channel: string;
  readonly id?: number;
  readonly ephemeral: boolean;
  readonly traceparent?: string;
}

/** Starts the server's spans; one per server, tagged with its node id. */
export class Tracing {
  private readonly tracer: Tracer;

  /** `provider` defaults to the global one (a no-op until an SDK registers itself). */
  constructor(
    readonly nodeId: string,
    provider: TracerProvider = trace.getTracerProvider(),
  ) {
    this.tracer = provider.getTracer(TRACER_NAME);
  }

  /**
   * Run an HTTP API request in a SERVER span named `<method> <route>`, whose parent is the request's W3C
   * `traceparent` (the active context when it has none or a malformed one). Spans started inside `run`
   * (the publish) are its children.
   */
  async http(
    method: string,
    route: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    run: () => Promise<number>,
  ): Promise<void> {
    const remote = parseTraceparent(single(headers['traceparent']), single(headers['tracestate']));
    const parent = remote === null ? context.active() : trace.setSpanContext(ROOT_CONTEXT, remote);
    const span = this.tracer.startSpan(`${method} ${route}`, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttribute('http.request.method', method);
      span.setAttribute('http.route', route);
      span.setAttribute('switchboard.node.id', this.nodeId);
    }
    try {
      const status = await context.with(trace.setSpan(parent, span), run);
      if (span.isRecording()) {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * A PRODUCER span for a publish to `channel`, child of the active context. Null when it does not record
   * (no SDK, or not sampled): the caller then publishes as if tracing did not exist.
   */
  startPublish(channel: string, ephemeral: boolean): Span | null {
    const span = this.tracer.startSpan('publish', { kind: SpanKind.PRODUCER });
    if (!span.isRecording()) return null;
    span.setAttribute('messaging.system', 'switchboard');
    span.setAttribute('messaging.operation.type', 'send');
    span.setAttribute('messaging.destination.name', channel);
    span.setAttribute('switchboard.ephemeral', ephemeral);
    span.setAttribute('switchboard.node.id', this.nodeId);
    return span;
  }

  /** The `traceparent` a publication carries so that the fan-out spans are children of `span`. */
  traceparentOf(span: Span): string {
    return formatTraceparent(span.spanContext());
  }

  /** End a publish span with the offset the broker assigned (or the error it failed with). */
  endPublish(span: Span, outcome: { readonly id?: number; readonly duplicate?: boolean } | Error): void {
    if (outcome instanceof Error) failed(span, outcome);
    else {
      if (outcome.id !== undefined) span.setAttribute('messaging.message.id', String(outcome.id));
      if (outcome.duplicate === true) span.setAttribute('switchboard.duplicate', true);
    }
    span.end();
  }

  /**
   * A CONSUMER span for this node's fan-out of a traced publication, child of the publish span that its
   * `traceparent` names; null for a publication without one (the fan-out then allocates nothing).
   */
  startFanOut(publication: TracedPublication): Span | null {
    const remote = parseTraceparent(publication.traceparent);
    if (remote === null) return null;
    const parent: Context = trace.setSpanContext(ROOT_CONTEXT, remote);
    const span = this.tracer.startSpan('fan-out', { kind: SpanKind.CONSUMER }, parent);
    if (!span.isRecording()) return null;
    span.setAttribute('messaging.system', 'switchboard');
    span.setAttribute('messaging.operation.type', 'process');
    span.setAttribute('messaging.destination.name', publication.channel);
    if (publication.id !== undefined) span.setAttribute('messaging.message.id', String(publication.id));
    span.setAttribute('switchboard.node.id', this.nodeId);
    return span;
  }

  /** End a fan-out span with the number of local connections the publication was written or queued to. */
  endFanOut(span: Span, recipients: number): void {
    span.setAttribute('switchboard.recipients', recipients);
    span.end();
  }

  /** `server.deliver()` in an INTERNAL span (the store and the wake-up travel no further). */
  deliver<T>(run: () => Promise<T>): Promise<T> {
    return this.internal('deliver', run);
  }

  /** `server.enqueue()` in an INTERNAL span with the queue's name. */
  enqueue<T>(queue: string, run: () => Promise<T>): Promise<T> {
    return this.internal('enqueue', run, queue);
  }

  /** Run `run` inside an INTERNAL span; without a recording span, `run` is called as it is. */
  private async internal<T>(name: string, run: () => Promise<T>, queue?: string): Promise<T> {
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL });
    if (!span.isRecording()) return run();
    span.setAttribute('switchboard.node.id', this.nodeId);
    if (queue !== undefined) span.setAttribute('switchboard.queue', queue);
    try {
      return await context.with(trace.setSpan(context.active(), span), run);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function failed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
