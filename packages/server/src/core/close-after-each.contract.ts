// Contract suites open a fresh store or service in each test; what a test opened is closed after it.
import { afterEach } from 'vitest';

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
