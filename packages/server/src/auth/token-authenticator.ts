import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode } from '@switchboard/protocol';
import type {
  AuthOutcome,
  AuthRefusal,
  Authenticator,
  HandshakeRequest,
  Principal,
} from './authenticator.js';
import { resolveAuthOptions } from './auth-options.js';
import type { AuthOptions, ResolvedAuthOptions } from './auth-options.js';
import { JwtVerifier } from './jwt-verifier.js';
import type { VerifyOutcome } from './jwt-verifier.js';
import { MemoryTicketStore } from './memory-ticket-store.js';
import type { TicketStore } from './ticket-store.js';
import { bearerFromAuthorization, credentialOf } from './token-sources.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import type { Logger } from '../util/logger.js';

/** What a {@link TokenAuthenticator} needs besides its options. */
export interface TokenAuthenticatorDependencies {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** A ticket just issued. */
export interface IssuedTicket {
  readonly ticket: string;
  /** Seconds it may be redeemed for (rounded down). */
  readonly expiresIn: number;
}

/** 32 random bytes: 43 base64url characters. */
const TICKET = /^[\w-]{43}$/;

/** The 401 for a handshake without credentials lists every way this server accepts one. */
const CREDENTIALS_WITHOUT_QUERY =
  'credentials required: Authorization: Bearer <token>, the switchboard.bearer.<token> subprotocol, or a one-time ?ticket=';
const CREDENTIALS_WITH_QUERY =
  'credentials required: Authorization: Bearer <token>, the switchboard.bearer.<token> subprotocol, a one-time ?ticket=, or ?token=<token>';

/**
 * The built-in authenticator (`createServer({ auth })`): JWTs in the `Authorization` header, the bearer
 * subprotocol or the `token` parameter, one-time tickets in the `ticket` parameter, first-message `auth`
 * and in-band `refresh` through {@link verifyToken}. Every failure is a 401 refusal; `token_expired` tells
 * an expired token from a bad one.
 */
export class TokenAuthenticator implements Authenticator {
  private readonly options: ResolvedAuthOptions;
  private readonly verifier: JwtVerifier;
  private readonly tickets: TicketStore;
  private readonly clock: Clock;

  constructor(options: AuthOptions, dependencies: TokenAuthenticatorDependencies = {}) {
    this.options = resolveAuthOptions(options);
    this.clock = dependencies.clock ?? systemClock;
    this.verifier = new JwtVerifier(this.options, this.clock);
    this.tickets = options.ticketStore ?? new MemoryTicketStore({ clock: this.clock });
    const logger = dependencies.logger ?? silentLogger;
    if (this.options.key.kind === 'jwks' && this.options.audience.length === 0) {
      logger.warn(
        { jwksUrl: this.options.key.url.href },
        'auth.jwksUrl without auth.audience: tokens the identity provider issued for other services are accepted too',
      );
    }
  }

  /** How long an issued ticket may be redeemed (ms). */
  get ticketTtlMs(): number {
    return this.options.ticketTtlMs;
  }

  async authenticate(request: HandshakeRequest): Promise<AuthOutcome> {
    const credential = credentialOf(request, this.options.cookie);
    switch (credential.kind) {
      case 'malformed':
        return unauthorized(credential.message);
      case 'none':
        if (this.options.allowAnonymous) return { ok: true, principal: { userId: null } };
        if (this.options.firstMessageAuth) return { ok: 'deferred' };
        return unauthorized(this.options.queryToken ? CREDENTIALS_WITH_QUERY : CREDENTIALS_WITHOUT_QUERY);
      case 'ticket':
        return this.redeem(credential.ticket);
      case 'token':
        if (credential.source === 'query' && !this.options.queryToken)
          return unauthorized(
            'the token parameter is disabled on this server; use a ticket or the subprotocol',
          );
        return this.verifier.verify(credential.token);
    }
  }

  /** Verify a bare token (first-message `auth` and `refresh`). */
  verifyToken(token: string): Promise<VerifyOutcome> {
    return this.verifier.verify(token);
  }

  /** Verify the `Authorization: Bearer` header of an HTTP request (the ticket route). */
  async verifyAuthorization(header: string | undefined): Promise<VerifyOutcome> {
    const credential = bearerFromAuthorization(header);
    switch (credential.kind) {
      case 'none':
        return unauthorized('an Authorization: Bearer <token> header is required');
      case 'malformed':
        return unauthorized(credential.message);
      case 'token':
        return this.verifier.verify(credential.token);
      case 'ticket':
        return unauthorized('a ticket cannot buy a ticket');
    }
  }

  /**
   * A one-time ticket for `principal`, redeemable with `?ticket=` until the TTL ends; null when the store
   * is full. The ticket carries the verified principal, so it opens a connection for that user only.
   */
  async issueTicket(principal: Principal): Promise<IssuedTicket | null> {
    const ticket = randomBytes(32).toString('base64url');
    const added = await this.tickets.add(ticketKey(ticket), principal, this.options.ticketTtlMs);
    return added ? { ticket, expiresIn: Math.floor(this.options.ticketTtlMs / 1000) } : null;
  }

  private async redeem(ticket: string): Promise<AuthOutcome> {
    // Same answer for forged, unknown, used and expired: a guesser learns nothing from the difference.
    const refused = unauthorized('ticket is unknown, used or expired');
    if (!TICKET.test(ticket)) return refused;
    const principal = await this.tickets.take(ticketKey(ticket));
    if (principal === null) return refused;
    // The token behind the ticket may have expired since it was minted.
    if (
      principal.expiresAt !== undefined &&
      principal.expiresAt + this.options.clockSkewMs <= this.clock.now()
    )
      return { ok: false, status: 401, code: ErrorCode.TokenExpired, message: 'token expired' };
    return { ok: true, principal };
  }
}

/** Stores key tickets by digest, so reading the store (a Redis dump) yields nothing redeemable. */
function ticketKey(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}

function unauthorized(message: string): AuthRefusal {
  return { ok: false, status: 401, code: ErrorCode.Unauthorized, message };
}
