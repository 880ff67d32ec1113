import { matchChannelPattern } from '@switchboard/protocol';
import { HookError } from '../errors.js';
import { isReservedChannel, reservedChannelDecision } from './admin-principal.js';

/**
 * What a client may do on a channel. `consume` is a work queue's: asked on the channel `queue:<name>`
 * (so rules with the pattern `queue:*` cover queues; docs/delivery.md).
 */
export type ChannelOperation = 'subscribe' | 'publish' | 'history' | 'presence' | 'consume';

/**
 * Who may perform an operation:
 * - `'anyone'`: every connection, anonymous ones included;
 * - `'authenticated'`: connections with a user id;
 * - `'owner'`: the user whose id fills the rule pattern's `*` (rule `user:*`: user `alice` on `user:alice`);
 * - `'claims'`: the credentials grant the channel, or a pattern matching it (`Principal.channels`, from a
 *   JWT's `channels` claim);
 * - `'none'`: nobody (server-side publishing through the library or the HTTP API only);
 * - `{ scope }`: credentials carrying that scope (for example admin-only broadcast channels).
 */
export type Permission =
  'anyone' | 'authenticated' | 'owner' | 'claims' | 'none' | { readonly scope: string };

/** Per-operation permissions of a channel rule; unset operations use the server's default permission. */
export interface ChannelPermissions {
  readonly subscribe?: Permission;
  readonly publish?: Permission;
  readonly history?: Permission;
  readonly presence?: Permission;
  /** Who may consume the work queue `<name>` of a rule matching `queue:<name>`. */
  readonly consume?: Permission;
}

/**
 * The part of a channel rule the authorizer reads (the server's `ChannelRule` extends it): the first rule
 * whose pattern matches a channel decides, whether or not it sets permissions.
 */
export interface PermissionRule {
  /** Channel names this rule covers (`*` matches any run of characters). */
  readonly pattern: string;
  /** Who may subscribe, publish, read history and presence here. Default: the server's `defaultPermission`. */
  readonly permissions?: ChannelPermissions;
}

/** What an authorization decision looks at. */
export interface AuthorizationRequest {
  readonly connection: {
    /**
     * The connection's id. For a room's join decided at the handshake (before the upgrade), the id the
     * connection will open under; a refused join never opens it.
     */
    readonly id: string;
    readonly userId: string | null;
    readonly info: unknown;
    readonly scopes: readonly string[];
    /** Channels (or patterns) the credentials grant. */
    readonly grants: readonly string[];
  };
  readonly operation: ChannelOperation;
  readonly channel: string;
  /** The payload, for `publish`. */
  readonly data?: unknown;
  /** What the configured rules decided. */
  readonly allowed: boolean;
}

/**
 * The application's final word on an operation, given what the rules decided (`request.allowed`): return
 * true to allow, false to refuse with `permission_denied`. It may grant what the rules refuse.
 */
export type AuthorizeHook = (request: AuthorizationRequest) => boolean | Promise<boolean>;

/** What a server's options say about authorization (the `channels`, `defaultPermission` and `authorize` options). */
export interface AuthorizationOptions {
  readonly channels?: readonly PermissionRule[];
  readonly defaultPermission?: Permission;
  readonly authorize?: AuthorizeHook;
}

/** Rules by channel pattern, then the application's hook. */
export class Authorizer {
  constructor(
    private readonly rules: readonly PermissionRule[],
    private readonly defaultPermission: Permission,
    private readonly hook: AuthorizeHook | undefined,
  ) {}

  /** The authorizer of a server's options; the default permission is `'anyone'` unless they set one. */
  static of(options: AuthorizationOptions): Authorizer {
    return new Authorizer(options.channels ?? [], options.defaultPermission ?? 'anyone', options.authorize);
  }

  /** Whether any check can refuse anything (skips the work entirely on open servers). */
  get permissive(): boolean {
    return (
      this.hook === undefined &&
      this.defaultPermission === 'anyone' &&
      this.rules.every((r) => r.permissions === undefined)
    );
  }

  /** Whether no check can refuse an operation on `channel` ({@link permissive}, and not a reserved channel). */
  skips(channel: string): boolean {
    return this.permissive && !isReservedChannel(channel);
  }

  /**
   * Decide; resolves true when the operation may go ahead. A reserved channel (`$admin:...`) is decided
   * before the rules and the hook, which never see it (auth/admin-principal.ts).
   */
  async allows(
    connection: AuthorizationRequest['connection'],
    operation: ChannelOperation,
    channel: string,
    data?: unknown,
  ): Promise<boolean> {
    const reserved = reservedChannelDecision(connection, operation, channel);
    if (reserved !== null) return reserved;
    const rule = this.rules.find((r) => matchChannelPattern(r.pattern, channel));
    const permission = rule?.permissions?.[operation] ?? this.defaultPermission;
    const allowed = granted(permission, connection, channel, rule?.pattern);
    if (this.hook === undefined) return allowed;
    try {
      return (
        (await this.hook({
          connection,
          operation,
          channel,
          allowed,
          ...(data === undefined ? {} : { data }),
        })) === true
      );
    } catch (error) {
      // Named, so that whoever answers the client logs it as this hook's failure.
      throw new HookError('authorize', { cause: error });
    }
  }
}

function granted(
  permission: Permission,
  connection: AuthorizationRequest['connection'],
  channel: string,
  pattern: string | undefined,
): boolean {
  if (typeof permission === 'object') return connection.scopes.includes(permission.scope);
  switch (permission) {
    case 'anyone':
      return true;
    case 'none':
      return false;
    case 'authenticated':
      return connection.userId !== null;
    case 'owner':
      return (
        connection.userId !== null &&
        pattern !== undefined &&
        channel === pattern.replace('*', connection.userId)
      );
    case 'claims':
      return connection.grants.some((p) => matchChannelPattern(p, channel));
  }
}

/** Validate a permission value from configuration; returns a problem or null. */
export function permissionProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (
    value === 'anyone' ||
    value === 'authenticated' ||
    value === 'owner' ||
    value === 'claims' ||
    value === 'none'
  )
    return null;
  if (typeof value === 'object' && value !== null && typeof (value as { scope?: unknown }).scope === 'string')
    return null;
  return "'anyone', 'authenticated', 'owner', 'claims', 'none' or { scope: string }";
}
