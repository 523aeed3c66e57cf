// Waiting in tests: a plain sleep, a poll until a probe answers, and cluster mode's retry of a check.
import { CLUSTER } from '../deployment.mjs';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every `everyMs` until it returns a truthy value, and returns that; throws after
 * `timeoutMs`, naming `what` and the probe's last error. `what` may be left out.
 */
/** What a probe answers: a value when the wait is over, or nothing yet (sync or async). */
type Falsy<T> = T | undefined | null | false;

export function waitFor<T>(
  what: string,
  probe: () => Falsy<T> | Promise<Falsy<T>>,
  timeoutMs: number,
  everyMs?: number,
): Promise<T>;
export function waitFor<T>(probe: () => Falsy<T> | Promise<Falsy<T>>, timeoutMs?: number): Promise<T>;
export async function waitFor<T>(
  ...args: [string, () => Falsy<T> | Promise<Falsy<T>>, number, number?] | [() => Falsy<T> | Promise<Falsy<T>>, number?]
): Promise<T> {
  type Probe = () => Falsy<T> | Promise<Falsy<T>>;
  const named = typeof args[0] === 'string';
  const what = named ? (args[0] as string) : 'a condition';
  const probe = (named ? args[1] : args[0]) as Probe;
  const timeoutMs = ((named ? args[2] : args[1]) as number | undefined) ?? 5000;
  const everyMs = ((named ? args[3] : undefined) as number | undefined) ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** Retries `check` until it passes (cluster mode only; embedded runs it once), then returns its value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  if (!CLUSTER) return check();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
}
