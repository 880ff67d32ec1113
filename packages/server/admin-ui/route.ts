/**
 * The page's views as URL fragments, so a view can be bookmarked, shared and reached with Back:
 * `#/` (overview), `#/search/<q>`, `#/channels/<name>`, `#/users/<id>`. Names are percent-encoded, so
 * any channel or user id (slashes, `#`, spaces, RTL text) survives the round trip. Pure.
 */

/** A view of the page. */
export type Route =
  | { readonly view: 'overview' }
  | { readonly view: 'search'; readonly query: string }
  | { readonly view: 'channel'; readonly channel: string }
  | { readonly view: 'user'; readonly userId: string };

const OVERVIEW: Route = { view: 'overview' };

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null; // a malformed escape: not a name anyone linked to
  }
}

/** The route of a location hash (`location.hash`, with or without its `#`); the overview when unknown. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const match = /^\/(search|channels|users)\/(.+)$/.exec(path);
  if (match === null) return OVERVIEW;
  const value = decode(match[2] ?? '');
  if (value === null || value === '') return OVERVIEW;
  switch (match[1]) {
    case 'search':
      return { view: 'search', query: value };
    case 'channels':
      return { view: 'channel', channel: value };
    default:
      return { view: 'user', userId: value };
  }
}

/** The location hash of `route`, starting with `#`. */
export function formatRoute(route: Route): string {
  switch (route.view) {
    case 'overview':
      return '#/';
    case 'search':
      return `#/search/${encodeURIComponent(route.query)}`;
    case 'channel':
      return `#/channels/${encodeURIComponent(route.channel)}`;
    case 'user':
      return `#/users/${encodeURIComponent(route.userId)}`;
  }
}
