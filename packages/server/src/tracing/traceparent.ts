/**
 * The W3C Trace Context `traceparent` value (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. Formatted for the Redis wire and parsed from
 * an HTTP request or a pub/sub message here, without a registered propagator, so that the W3C
 * carriage does not depend on how the application configured OpenTelemetry. Pure.
 */
import { TraceFlags, createTraceState } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';

const HEX = /^[0-9a-f]+$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** The `traceparent` of a span context (version 00; only the sampled flag is kept, as the spec asks). */
export function formatTraceparent(context: SpanContext): string {
  const flags = context.traceFlags & TraceFlags.SAMPLED ? '01' : '00';
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/**
 * The remote span context a `traceparent` names (with `tracestate`, when given), or null when the value is
 * malformed: then the receiver starts a new trace, as the spec says, and never refuses the request.
 * A version above 00 is read as 00 when its first four fields are (the spec's forward compatibility).
 */
export function parseTraceparent(value: string | undefined, tracestate?: string): SpanContext | null {
  if (value === undefined || value.length < 55) return null;
  const text = value.trim().toLowerCase();
  if (text.length < 55 || (text.length > 55 && text[55] !== '-')) return null;
  const version = text.slice(0, 2);
  if (!HEX.test(version) || version === 'ff' || (version === '00' && text.length !== 55)) return null;
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return null;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  const flags = text.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return null;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return null;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate === undefined || tracestate === '' ? {} : { traceState: createTraceState(tracestate) }),
  };
}
