// Contract suites open a fresh store or service in each test; what a test opened is closed after it.
import { afterEach, describe } from 'vitest';

export interface Closable {
  close(): Promise<void>;
}

/** Call inside a describe: the function it returns hands back what it is given, closed once the test ends. */
export function closeAfterEach(): <T extends Closable>(opened: T) => T {
  const opened: Closable[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  return (o) => {
    opened.push(o);
    return o;
  };
}

/** A describe whose tests call `fresh` for a new instance from `harness`, closed once the test ends. */
export function describeFresh<T extends Closable>(
  title: string,
  harness: { open(): Promise<T> },
  tests: (fresh: () => Promise<T>) => void,
): void {
  describe(title, () => {
    const closing = closeAfterEach();
    tests(async () => closing(await harness.open()));
  });
}

/** A name no other test uses, such as a user id or a key. */
export const uniqueName = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
