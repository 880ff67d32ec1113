/**
 * What a transport reports one connection's events to: two fields and prototype methods, forwarding to
 * one target shared by every connection. (An object of four closures, with the context they share, cost
 * ~330 bytes per connection.)
 */
import type { ConnectionHandle } from '../transports/transport.js';
import type { Connection } from './connection.js';

/** The hub's side of every connection's handle: one object for all connections. */
export interface HandleTarget {
  /** A frame arrived: text on a JSON connection, bytes on a MessagePack one. */
  frame(connection: Connection, frame: string | Uint8Array): void;
  unsupported(connection: Connection): void;
  transportPing(connection: Connection, bytes: number): boolean;
  transportPong(connection: Connection, bytes: number): void;
  invalid(connection: Connection, code: number, reason: string): void;
  closed(connection: Connection, code: number, reason: string): void;
}

/** One connection's handle. */
export class HubConnectionHandle implements ConnectionHandle {
  constructor(
    private readonly target: HandleTarget,
    private readonly connection: Connection,
  ) {}
  receiveText(text: string): void {
    this.target.frame(this.connection, text);
  }
  receiveBinary(bytes: Uint8Array): void {
    this.target.frame(this.connection, bytes);
  }
  receiveUnsupported(): void {
    this.target.unsupported(this.connection);
  }
  receiveTransportPing(bytes: number): boolean {
    return this.target.transportPing(this.connection, bytes);
  }
  receiveTransportPong(bytes: number): void {
    this.target.transportPong(this.connection, bytes);
  }
  receiveInvalid(code: number, reason: string): void {
    this.target.invalid(this.connection, code, reason);
  }
  closed(code: number, reason: string): void {
    this.target.closed(this.connection, code, reason);
  }
}
