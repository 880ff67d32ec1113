/** What a micro-benchmark is. */

/** A hot function measured in a loop. */
export interface MicroBenchmark {
  readonly name: string;
  /** One line: what is measured and why it matters. */
  readonly description: string;
  /**
   * Runs once before timing; returns the operation to time. The operation returns a value so that the
   * optimizer cannot drop the work (the runner consumes it).
   */
  setup(): () => unknown;
}
