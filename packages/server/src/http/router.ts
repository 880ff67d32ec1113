import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler receives. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Values of the `:name` segments of the route's pattern, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The matched route's pattern (`/api/channels/:channel`): names the request's span. */
  readonly route?: string;
}

/** A route handler; it must answer the request. */
export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/** A registered route as {@link Router.routes} lists it. */
export interface RouteEntry {
  readonly method: string;
  /** The pattern as registered, `:name` segments included (`/api/channels/:channel`). */
  readonly pattern: string;
}

/** The result of matching a request. */
export type RouteMatch =
  | {
      readonly kind: 'found';
      readonly handler: RouteHandler;
      readonly params: Record<string, string>;
      readonly route: string;
    }
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

/**
 * A small exact-segment router: a dozen fixed routes do not need a framework, and owning the request
 * listener lets Switchboard share a port with any Node HTTP server (see docs/architecture.md).
 */
export class Router {
  private readonly routes: Route[] = [];

  /**
   * Add a route; `pattern` segments starting with `:` capture one path segment, and a last segment
   * starting with `*` captures the rest of the path (one segment or more, undecoded).
   */
  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, pattern, segments: split(pattern), handler });
    return this;
  }

  /** Every registered route, in registration order (for the check that docs/openapi.yaml lists them all). */
  list(): RouteEntry[] {
    return this.routes.map(({ method, pattern }) => ({ method, pattern }));
  }

  /** Find the route for a method and path. */
  match(method: string, pathname: string): RouteMatch {
    const parts = split(pathname);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === null) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { kind: 'found', handler: route.handler, params, route: route.pattern };
      }
      // Two patterns can match one path (`/a/:x` and `/a/b`): list each method once.
      if (!allowed.includes(route.method)) allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  const rest = pattern[pattern.length - 1]?.startsWith('*') === true;
  if (rest ? parts.length < pattern.length : pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const part = parts[i] as string;
    if (rest && i === pattern.length - 1) {
      params[p.slice(1)] = parts.slice(i).join('/');
    } else if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(part);
      } catch {
        return null;
      }
    } else if (p !== part) {
      return null;
    }
  }
  return params;
}
