// FreshRuns: one check shared by concurrent callers, each answered by a run that started after it asked.

/**
 * Shares runs of `work` among concurrent callers while guaranteeing each caller a run that started
 * after it called: at most one run at a time, plus one queued for everyone who arrived meanwhile.
 */
export class FreshRuns<T> {
  private running: Promise<T> | null = null;
  private queued: Promise<T> | null = null;

  constructor(private readonly work: () => Promise<T>) {}

  run(): Promise<T> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start();
      });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<T> {
    const run: Promise<T> = this.work().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}
