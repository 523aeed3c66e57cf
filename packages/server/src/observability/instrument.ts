// Times every call of a port object into a histogram labelled by method, without the port knowing.
import type { Histogram } from 'prom-client';

export function instrument<T extends object>(target: T, histogram: Histogram<'op'>): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const end = histogram.startTimer({ op: prop });
        const out = (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (out instanceof Promise) return out.finally(() => end());
        end();
        return out;
      };
    },
  });
}
