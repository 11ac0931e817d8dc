/**
 * What the suite did, with seconds since the run started, printed as it happens (straight to
 * stdout: Jest would hold console.log back until the test ends, and a CI log of a run that hangs
 * should still show how far it got).
 */
export class Timeline {
  private readonly startedAt = Date.now();
  readonly events: { at: number; text: string }[] = [];

  elapsedSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  log(text: string): void {
    const at = this.elapsedSeconds();
    this.events.push({ at, text });
    process.stdout.write(`[chaos +${at.toFixed(1).padStart(5)}s] ${text}\n`);
  }
}
