/**
 * Lets a polling loop sleep until a deadline or until woken, whichever comes first. A wake-up
 * that arrives while the loop is busy is remembered, so a NOTIFY is never slept through.
 */
export class WakeSignal {
  private pending = false;
  private wakeWaiter?: () => void;

  wake(): void {
    if (this.wakeWaiter) this.wakeWaiter();
    else this.pending = true;
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeWaiter = done;
    });
  }
}
