/**
 * A scripted protocol v1 server for SDK tests: a real `ws` WebSocketServer on 127.0.0.1 and a free port
 * that sends `connected` to every connection, records the commands it receives, answers them with
 * `answer` (by default: `{}`, `{ device }` for `inbox`, `{ queue }` for `consume`), and lets a test push
 * any frame. Every wait has a deadline, so a broken test fails with a message instead of hanging.
 */
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { AddressInfo } from 'node:net';

/** A command as the server received it. */
export type Command = Record<string, unknown> & { readonly type: string; readonly id?: number };

/** How the server answers a command: a result, an error, or nothing (the test answers later, or never). */
export type Answer =
  | { readonly result: unknown }
  | { readonly error: { readonly code: string; readonly message: string; readonly temporary?: boolean } }
  | null;

/** The default answers. */
export function defaultAnswer(command: Command): Answer {
  if (command.type === 'inbox') return { result: { device: command['device'] } };
  if (command.type === 'consume') return { result: { queue: command['queue'] } };
  return { result: {} };
}

/** One connection as the server sees it. */
export class ScriptedPeer {
  /** Every command received, in order (pongs included). */
  readonly commands: Command[] = [];
  closed = false;

  constructor(
    readonly socket: WebSocket,
    /** 0 for the first connection, then 1, 2... */
    readonly index: number,
  ) {}

  /** Send any frame. */
  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Answer command `id` with `result`. */
  reply(id: number | undefined, result: unknown = {}): void {
    this.send({ type: 'reply', id, result });
  }

  /** Push an inbox message. */
  inbox(id: string, data: unknown, attempt = 1, time = 1_700_000_000_000): void {
    this.send({ type: 'inbox', id, attempt, data, time });
  }

  /** Push a job of `queue`. */
  job(queue: string, id: string, data: unknown, attempt = 1, time = 1_700_000_000_000): void {
    this.send({ type: 'job', queue, id, attempt, data, time });
  }

  /** The commands of `type` received so far, without their `id`. */
  sent(type: string): Record<string, unknown>[] {
    return this.commands.filter((c) => c.type === type).map(({ id: _id, ...rest }) => rest);
  }

  /** Close the connection (1012, service restart: the client reconnects). */
  close(code = 1012, reason = 'scripted close'): void {
    this.socket.close(code, reason);
  }
}

/** The scripted server. */
export class ScriptedServer {
  readonly peers: ScriptedPeer[] = [];
  /** How commands are answered; replace it in a test. */
  answer: (command: Command, peer: ScriptedPeer) => Answer = defaultAnswer;
  /** The `userId` of the `connected` push. */
  userId: string | null = 'alice';
  private readonly watchers = new Set<() => void>();

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (socket) => {
      const peer = new ScriptedPeer(socket, this.peers.length);
      this.peers.push(peer);
      socket.on('message', (raw) => {
        const command = JSON.parse(String(raw)) as Command;
        peer.commands.push(command);
        if (command.id !== undefined) {
          const answer = this.answer(command, peer);
          if (answer !== null) peer.send({ type: 'reply', id: command.id, ...answer });
        }
        this.changed();
      });
      socket.on('close', () => {
        peer.closed = true;
        this.changed();
      });
      peer.send({
        type: 'connected',
        version: 1,
        connectionId: `c${peer.index}`,
        sessionId: `s${peer.index}`,
        userId: this.userId,
        heartbeat: { interval: 0, timeout: 0 },
        time: Date.now(),
      });
      this.changed();
    });
  }

  /** Start on 127.0.0.1 and a free port. */
  static async start(): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new ScriptedServer(wss);
  }

  /** `ws://127.0.0.1:PORT/ws` */
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  /** Resolves once `predicate` holds (checked on every server event); fails naming `what` after `timeoutMs`. */
  until(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate()) return resolve();
      const watcher = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.watchers.delete(watcher);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(watcher);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.watchers.add(watcher);
    });
  }

  /** Connection number `index` (0: the first), once it is open and `connected` was sent. */
  async peer(index: number): Promise<ScriptedPeer> {
    await this.until(() => this.peers.length > index, `connection ${index}`);
    const peer = this.peers[index];
    if (peer === undefined) throw new Error('unreachable');
    return peer;
  }

  /** The first command of `peer` (seen already, or to come) that `matches`. */
  async command(peer: ScriptedPeer, what: string, matches: (c: Command) => boolean): Promise<Command> {
    let found: Command | undefined;
    await this.until(() => (found = peer.commands.find(matches)) !== undefined, what);
    return found as Command;
  }

  /** Stop: close every connection and the server. */
  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}
