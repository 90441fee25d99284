/**
 * A periodic tick that runs only while its owner holds work: `wake()` (one comparison, called as data
 * arrives) starts it, and after each tick it stops itself when `busy()` says nothing is left. A
 * collector with nothing to do then wakes for none of its processors' timers: each wakeup of the idle
 * process costs ~0.3 ms of CPU, and every one of them counts against the agent the collector watches
 * (bench/README.md, "Issue 11, sensor and receiver overhead (branch f-sensor)").
 */
export class WorkTicker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => unknown,
    private readonly busy: () => boolean,
  ) {}

  /** Ticks from now on until the owner is idle again. */
  wake(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  /** No tick after this (the owner's shutdown does the last round itself). */
  stop(): void {
    this.stopped = true;
    this.idle();
  }

  private async run(): Promise<void> {
    try {
      await this.tick();
    } finally {
      // Data that arrived while the tick ran found the timer armed and left it so: `busy` sees it.
      if (!this.busy()) this.idle();
    }
  }

  private idle(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
