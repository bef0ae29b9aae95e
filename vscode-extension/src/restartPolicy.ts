/**
 * When a crashed server is started again.
 *
 * A server that dies once (OOM, a bug on one odd file) is restarted at once; one that dies in a
 * loop (broken install, wrong Python) is given up on after MAX_RESTARTS within WINDOW_MS so the
 * user gets one clear error instead of a flickering status bar. Pure, clock injected, unit-tested.
 */

export const MAX_RESTARTS = 5;
export const WINDOW_MS = 3 * 60 * 1000;

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly maxRestarts: number = MAX_RESTARTS,
    private readonly windowMs: number = WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record a crash; true if the server should be restarted. */
  shouldRestart(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length <= this.maxRestarts;
  }

  /** How many crashes are counted in the current window. */
  get recentCrashes(): number {
    return this.crashes.length;
  }

  /** After a manual restart the user gets a fresh budget. */
  reset(): void {
    this.crashes = [];
  }
}
