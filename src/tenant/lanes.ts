/**
 * At most `limit` holders at once, the others waiting in arrival order. The cell runs a
 * batch of queued deliveries through these lanes (limit: what the tenant's `concurrency`
 * and sandbox memory allow at once), so a batch of a hundred waits its turn instead of
 * being refused by admission, whose short bounded wait is meant for requests with a caller
 * on the line.
 */
export class Lanes {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  /** Resolves with the function that frees the lane (idempotent). */
  async acquire(limit: number): Promise<() => void> {
    if (this.held < Math.max(1, limit)) this.held += 1;
    // A freed lane is handed straight to the next waiter: `held` stays as it is.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held -= 1;
    };
  }
}
