/**
 * Open connections per user. Most users hold one connection, so a user's entry is that connection itself
 * until a second one arrives, and only then a Set: an empty Set costs ~200 bytes, paid per user.
 * `C` must not be a Set itself (entries are told apart with `instanceof Set`).
 */
export class UserIndex<C extends object> {
  private readonly entries = new Map<string, C | Set<C>>();

  /** Users with at least one connection. */
  get size(): number {
    return this.entries.size;
  }

  /** Add a connection; returns true when it is the user's first. */
  add(userId: string, connection: C): boolean {
    const entry = this.entries.get(userId);
    if (entry === undefined) {
      this.entries.set(userId, connection);
      return true;
    }
    if (entry instanceof Set) entry.add(connection);
    else if (entry !== connection) this.entries.set(userId, new Set([entry, connection]));
    return false;
  }

  /** Remove a connection; returns true when it was the user's last. */
  delete(userId: string, connection: C): boolean {
    const entry = this.entries.get(userId);
    if (entry === undefined) return false;
    if (!(entry instanceof Set)) {
      if (entry !== connection) return false;
      this.entries.delete(userId);
      return true;
    }
    if (!entry.delete(connection) || entry.size > 0) return false;
    this.entries.delete(userId);
    return true;
  }

  /** How many connections the user holds. */
  count(userId: string): number {
    const entry = this.entries.get(userId);
    return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1;
  }

  /** The user's connections, live (not a copy: iterate {@link list} to close them); undefined when none. */
  get(userId: string): Iterable<C> | undefined {
    const entry = this.entries.get(userId);
    return entry === undefined || entry instanceof Set ? entry : [entry];
  }

  /** A copy of the user's connections. */
  list(userId: string): C[] {
    const entry = this.entries.get(userId);
    return entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
  }
}
