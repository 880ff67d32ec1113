/** Named promises a test settles when it chooses: handlers under test wait on them. */

/** A promise with its resolve and reject at hand. */
export interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A new {@link Deferred}. */
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Gates by name, each created on first use. */
export class Gates {
  private readonly gates = new Map<string, Deferred>();

  /** Resolves when `name` is opened; rejects when it is failed. */
  wait(name: string): Promise<void> {
    return this.gate(name).promise;
  }

  open(name: string): void {
    this.gate(name).resolve();
  }

  fail(name: string, error: Error): void {
    this.gate(name).reject(error);
  }

  private gate(name: string): Deferred {
    let gate = this.gates.get(name);
    if (gate === undefined) {
      gate = deferred();
      this.gates.set(name, gate);
    }
    return gate;
  }
}
