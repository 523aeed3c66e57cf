// A small typed event emitter: the client's only way of telling the app that something happened.

type Listener<A> = (arg: A) => void;

export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(type: K, fn: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => void set.delete(fn as Listener<never>);
  }

  emit<K extends keyof Events>(type: K, arg: Events[K]): void {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(arg);
      } catch (error) {
        // One faulty listener must not stop the others or the client's own bookkeeping; surface it
        // the way an EventTarget would, as an uncaught error outside our call stack.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}
