import type { PresenceEntry } from '@switchboard/protocol';
import type { PresenceMember, PresenceStore } from './presence-store.js';

interface Entry {
  readonly member: PresenceMember;
  connections: number;
}

/** Presence in this process's memory. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly channels = new Map<string, Map<string, Entry>>();

  add(channel: string, member: PresenceMember): Promise<number> {
    let entries = this.channels.get(channel);
    if (entries === undefined) this.channels.set(channel, (entries = new Map()));
    let entry = entries.get(member.key);
    if (entry === undefined) entries.set(member.key, (entry = { member, connections: 0 }));
    entry.connections++;
    return Promise.resolve(entry.connections);
  }

  remove(channel: string, key: string): Promise<number> {
    const entries = this.channels.get(channel);
    const entry = entries?.get(key);
    if (entries === undefined || entry === undefined) return Promise.resolve(0);
    entry.connections--;
    if (entry.connections <= 0) {
      entries.delete(key);
      if (entries.size === 0) this.channels.delete(channel);
      return Promise.resolve(0);
    }
    return Promise.resolve(entry.connections);
  }

  list(channel: string): Promise<PresenceEntry[]> {
    const out: PresenceEntry[] = [];
    for (const { member, connections } of this.channels.get(channel)?.values() ?? []) {
      out.push({
        userId: member.userId,
        connections,
        ...(member.connectionId === undefined ? {} : { connectionId: member.connectionId }),
        ...(member.info === undefined ? {} : { info: member.info }),
      });
    }
    return Promise.resolve(out);
  }

  stats(channel: string): Promise<{ users: number; connections: number }> {
    let connections = 0;
    const entries = this.channels.get(channel);
    for (const entry of entries?.values() ?? []) connections += entry.connections;
    return Promise.resolve({ users: entries?.size ?? 0, connections });
  }

  close(): Promise<void> {
    this.channels.clear();
    return Promise.resolve();
  }
}
