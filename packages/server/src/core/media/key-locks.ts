// One lock per blob key within a process: what serialises recording and removing uploads of the
// same bytes in embedded mode, where one process owns the database (cluster mode locks in PostgreSQL).

export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` holding every key's lock, taken in sorted order so that two callers never deadlock. */
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.take(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async take(key: string): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    return () => {
      release();
      // The last holder leaves no entry behind: the map holds only keys in use.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
