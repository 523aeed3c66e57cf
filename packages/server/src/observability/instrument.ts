// Times every call of a port object into a histogram labelled by method, without the port knowing.
import type { Histogram } from 'prom-client';

/**
 * Each method is wrapped once, on first use, with its histogram child (label lookups and the wrapper
 * closure are paid once, not per call: the store is called several times per message).
 */
export function instrument<T extends object>(target: T, histogram: Histogram<'op'>): T {
  const wrapped = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const timer = histogram.labels({ op: prop });
        const method = value as (...a: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const started = performance.now();
          const out = method.apply(obj, args);
          if (!(out instanceof Promise)) {
            timer.observe((performance.now() - started) / 1000);
            return out;
          }
          return out.then(
            (result: unknown) => {
              timer.observe((performance.now() - started) / 1000);
              return result;
            },
            (error: unknown) => {
              timer.observe((performance.now() - started) / 1000);
              throw error;
            },
          );
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
