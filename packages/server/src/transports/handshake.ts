/**
 * The handshake: admission of a new connection, the one step every transport (WebSocket today; SSE and
 * long-polling next) runs before it accepts a connection. Guard clauses in a fixed order: the server is
 * accepting, the Origin is allowed, the transport's own options parse, the address and node limits admit
 * it, the credentials are good (or deferred to a first message), the user is under its connection cap, and
 * the transport's own check passes (the room dialect: may this user join this room).
 * The answer is data, never a throw: admitted (principal, options, the client's address), or a refusal
 * (HTTP status, error code, message, the limit behind it) already counted in the metrics.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode } from '@switchboard/protocol';
import type { AuthOutcome, Authenticator, Principal } from '../auth/authenticator.js';
import type { ConnectionLimits } from '../limits/connection-limits.js';
import { ThrottledLog } from '../limits/throttled-log.js';
import type { AdmissionReason, LimitName, Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { clientAddress, normalizeAddress } from './client-ip.js';
import type { TrustedProxies } from './client-ip.js';
import type { OriginPolicy } from './origin.js';

/** What the handshake looks at: the request as any HTTP-based transport receives it. */
export interface AdmissionRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  /** The socket's peer address; X-Forwarded-For is applied to it when the peer is a trusted proxy. */
  readonly peerAddress: string;
}

/** Why a connection was not admitted: the HTTP answer, and the limit it was counted under (if any). */
export interface Refusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  /** The limit that refused it (`origin`, `ip_rate`, ...); absent for refusals that are not limits. */
  readonly limit?: LimitName;
  /** Seconds until a retry can succeed (a `Retry-After` header); absent when nobody can tell. */
  readonly retryAfterSeconds?: number;
  /** The node refused to protect itself: counted in `switchboard_admission_refused_total` under this. */
  readonly admission?: AdmissionReason;
}

/** Who a refusal answered, for its log line (never the query string: it may carry a token or ticket). */
export interface RefusalContext {
  /** The client's address, as the per-address limits count it. */
  readonly remoteAddress: string;
  /** The request's path. */
  readonly path: string;
}

/**
 * Refusal lines each reason may write: 10 at once, then 1 a second; the rest are counted into the next
 * line's `suppressed` (the metrics count every refusal). A 429 storm from one address cannot flood the log.
 */
const REFUSAL_LOG_RATE = { burst: 10, perSecond: 1 } as const;

/** A connection the handshake admitted: hand it to the hub. */
export interface Admitted<O> {
  readonly ok: true;
  /** Who the connection belongs to (`userId: null` while `pendingAuth`). */
  readonly principal: Principal;
  /** The request carried no credentials: the first frame must authenticate (`{"type":"auth"}`). */
  readonly pendingAuth: boolean;
  /** The client's address, as the per-address limits count it; the hub counts the connection under it. */
  readonly remoteAddress: string;
  /** The transport's options, as its parser returned them. */
  readonly options: O;
}

/** The handshake's answer. */
export type Admission<O> = Admitted<O> | { readonly ok: false; readonly refusal: Refusal };

/**
 * Parses a transport's options from the request URL (`?session=`, `?last_message_id=`, ...); a string is
 * the problem, refused with 400.
 */
export type OptionsParser<O> = (url: URL) => O | string;

/** What a transport's own check decided: the options to accept the connection with, or why not. */
export type CheckVerdict<O> =
  { readonly ok: true; readonly options: O } | { readonly ok: false; readonly refusal: Refusal };

/**
 * A transport's last word on a connection whose credentials the handshake accepted (the room dialect asks
 * whether the user may join the room named in the URL). Runs only when the identity is known, so not for
 * a connection that will authenticate with its first message. A rejection (an application hook threw) is
 * refused with 503, logged.
 */
export type AdmissionCheck<O> = (principal: Principal, options: O) => Promise<CheckVerdict<O>>;

/** What the handshake asks of the server. */
export interface HandshakeHost {
  /** Whether the server accepts connections now (it is running, not starting or stopping). */
  accepting(): boolean;
  /** Whether the user already holds its maximum of connections on this node. */
  userAtLimit(userId: string): boolean;
  /** Whether the node is too busy to take a connection now (admission control: event-loop delay). */
  saturated(): boolean;
}

/** What the handshake is built from. */
export interface HandshakeOptions {
  readonly host: HandshakeHost;
  readonly authenticator: Authenticator;
  readonly origins: OriginPolicy;
  readonly trustedProxies: TrustedProxies;
  /** Per-address and per-node admission; a handshake holds a place in it while its credentials are checked. */
  readonly connectionLimits: ConnectionLimits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Draining or stopping: a retry goes to another node (the load balancer stopped sending here). */
const NOT_ACCEPTING: Refusal = Object.freeze({
  status: 503,
  code: ErrorCode.ShuttingDown,
  message: 'server is not accepting connections',
  retryAfterSeconds: 1,
  admission: 'shutting_down',
});
/** Saturated: refused before any work (no origin check, no token verification) so the refusal stays cheap. */
const SATURATED: Refusal = Object.freeze({
  limit: 'event_loop_delay',
  status: 503,
  code: ErrorCode.Unavailable,
  message: 'this server is overloaded; retry later or elsewhere',
  retryAfterSeconds: 1,
  admission: 'event_loop_delay',
});
/** Which node limits are admission control, for `switchboard_admission_refused_total`. */
const ADMISSION_LIMITS: Partial<Record<LimitName, AdmissionReason>> = {
  node_rate: 'accept_budget',
  node_connections: 'max_connections',
};
const ORIGIN_REFUSED: Refusal = Object.freeze({
  limit: 'origin',
  status: 403,
  code: ErrorCode.PermissionDenied,
  message: 'this origin may not connect',
});
const USER_AT_LIMIT: Refusal = Object.freeze({
  limit: 'user_connections',
  status: 429,
  code: ErrorCode.RateLimited,
  message: 'too many open connections for this user',
});
const INTERNAL: Refusal = Object.freeze({ status: 500, code: ErrorCode.Internal, message: 'internal error' });
const CHECK_FAILED: Refusal = Object.freeze({
  status: 503,
  code: ErrorCode.Unavailable,
  message: 'could not decide whether to admit this connection; retry',
  retryAfterSeconds: 1,
});

/** Admission for every transport. */
export class Handshake {
  /** The "X-Forwarded-For from an untrusted peer" warning is logged once per server, not per handshake. */
  private warnedForwardedFor = false;
  /** One rate-bounded log per refusal reason (a limit's name or an error code: a short, fixed list). */
  private readonly refusalLogs = new Map<string, ThrottledLog>();

  constructor(private readonly options: HandshakeOptions) {}

  /**
   * Decide whether to admit a connection. While its credentials are checked, the handshake holds a place
   * under the address and node limits; once decided, the place is given back (an admitted connection is
   * counted as open by the hub from its accept on). `check`, when given, is the transport's last word.
   */
  admit<O>(
    request: AdmissionRequest,
    parseOptions: OptionsParser<O>,
    check?: AdmissionCheck<O>,
  ): Promise<Admission<O>> {
    const { host, origins, connectionLimits, authenticator, clock } = this.options;
    const remoteAddress = this.clientAddressOf(request);
    const where: RefusalContext = { remoteAddress, path: request.url.pathname };
    if (!host.accepting()) return Promise.resolve(this.refuse(NOT_ACCEPTING, where));
    if (host.saturated()) return Promise.resolve(this.refuse(SATURATED, where));
    if (!origins.allows(request.headers.origin)) return Promise.resolve(this.refuse(ORIGIN_REFUSED, where));
    const options = parseOptions(request.url);
    if (typeof options === 'string')
      return Promise.resolve(
        this.refuse({ status: 400, code: ErrorCode.BadRequest, message: options }, where),
      );
    const limited = connectionLimits.admit(remoteAddress, clock.now());
    if (limited !== null) return Promise.resolve(this.refuse(limited, where));
    // One reaction for either outcome (not finally/then/catch: two promises and three microtasks fewer
    // per handshake).
    return authenticator.authenticate({ url: request.url, headers: request.headers, remoteAddress }).then(
      (outcome) => {
        const admission = this.decide(outcome, options, where);
        if (check === undefined || !admission.ok || admission.pendingAuth) {
          connectionLimits.settle(remoteAddress);
          return admission;
        }
        return this.checked(admission, check, where).then((checked) => {
          connectionLimits.settle(remoteAddress);
          return checked;
        });
      },
      (error: unknown) => {
        connectionLimits.settle(remoteAddress);
        return this.failed(error, where);
      },
    );
  }

  /**
   * Count a refusal the transport found itself (a malformed path, say) the way the handshake counts its
   * own, so every refused connection shows in the same metrics. Returns what to answer.
   */
  refuse(refusal: Refusal, where?: RefusalContext): { readonly ok: false; readonly refusal: Refusal } {
    const metrics = this.options.metrics;
    if (refusal.limit !== undefined) metrics.limitRejected(refusal.limit);
    const admission =
      refusal.admission ?? (refusal.limit === undefined ? undefined : ADMISSION_LIMITS[refusal.limit]);
    if (admission !== undefined) metrics.admissionRefused(admission);
    metrics.handshakeRejected(refusal.status, refusal.code);
    this.logRefusal(refusal, where);
    return { ok: false, refusal };
  }

  /** An admission that could not complete (the authenticator or the transport threw): 500, logged. */
  failed(error: unknown, where?: RefusalContext): { readonly ok: false; readonly refusal: Refusal } {
    this.options.logger.error({ err: error, ...where }, 'authenticator failed');
    return this.refuse(INTERNAL, where);
  }

  /** One info line per refusal, at most {@link REFUSAL_LOG_RATE} per reason. */
  private logRefusal(refusal: Refusal, where: RefusalContext | undefined): void {
    const reason = refusal.limit ?? refusal.code;
    const now = this.options.clock.now();
    let log = this.refusalLogs.get(reason);
    if (log === undefined) {
      log = new ThrottledLog(this.options.logger, 'handshake refused', REFUSAL_LOG_RATE, now, 'info');
      this.refusalLogs.set(reason, log);
    }
    log.log(
      {
        status: refusal.status,
        code: refusal.code,
        reason: refusal.message,
        ...(refusal.limit === undefined ? {} : { limit: refusal.limit }),
        ...where,
      },
      now,
    );
  }

  /** The credentials are checked: refuse, or admit with the principal. */
  private decide<O>(outcome: AuthOutcome, options: O, where: RefusalContext): Admission<O> {
    if (!outcome.ok)
      return this.refuse({ status: outcome.status, code: outcome.code, message: outcome.message }, where);
    const host = this.options.host;
    // The server may have begun to stop while the credentials were checked.
    if (!host.accepting()) return this.refuse(NOT_ACCEPTING, where);
    const pendingAuth = outcome.ok === 'deferred';
    const principal: Principal = pendingAuth ? { userId: null } : outcome.principal;
    if (principal.userId !== null && host.userAtLimit(principal.userId))
      return this.refuse(USER_AT_LIMIT, where);
    return { ok: true, principal, pendingAuth, remoteAddress: where.remoteAddress, options };
  }

  /** Run the transport's check on an admitted connection; a rejection is a 503, logged. */
  private checked<O>(
    admitted: Admitted<O>,
    check: AdmissionCheck<O>,
    where: RefusalContext,
  ): Promise<Admission<O>> {
    return check(admitted.principal, admitted.options).then(
      (verdict) => {
        if (!verdict.ok) return this.refuse(verdict.refusal, where);
        // The server may have begun to stop while the check ran.
        if (!this.options.host.accepting()) return this.refuse(NOT_ACCEPTING, where);
        return { ...admitted, options: verdict.options };
      },
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'admission check failed');
        return this.refuse(CHECK_FAILED, where);
      },
    );
  }

  /** The client's address: the socket's peer, or X-Forwarded-For when the peer is a trusted proxy. */
  private clientAddressOf(request: AdmissionRequest): string {
    const peer = request.peerAddress;
    const forwarded = request.headers['x-forwarded-for'];
    const trusted = this.options.trustedProxies;
    if (forwarded !== undefined && !this.warnedForwardedFor && !trusted.has(normalizeAddress(peer))) {
      // Behind a proxy nobody declared, every client shares the proxy's address and its per-address limits.
      this.warnedForwardedFor = true;
      this.options.logger.warn(
        { peer },
        'X-Forwarded-For ignored: the peer is not a trusted proxy (set trustedProxies when running behind one)',
      );
    }
    return clientAddress(peer, forwarded, trusted);
  }
}
