// StoreLag: how far the store trails the log, per partition, and the back-pressure that bounds it.
// Where a persister writes the store behind the log (cluster), a log that acknowledges more than the
// store absorbs grows a backlog without bound: every catch-up read then waits and answers 503 until
// it drains. So a gateway samples the persister's position, and past the bound it refuses new sends
// with 503 and Retry-After (clients' outboxes retry them; sends are deduplicated on clientMsgId)
// rather than acknowledging work the store cannot take.
//
// The lag of a partition is the time the persister needs to complete what the log holds now. It
// completes in steps (one store transaction each, taking what is pending when it begins), so the
// newest entry waits for the backlog at the persister's rate, measured over the last seconds it was
// busy (its capacity, not the arrival rate), and for one step more: the one that takes it. And at
// least the time since it last completed anything (a stalled persister's lag grows by itself).
// Between samples, what this gateway admitted since counts too, and admission closes at half the
// bound: the rate swings between samples, the store may slow down after admitting, and the other
// gateways admit meanwhile, so the other half is the margin that keeps the lag within the bound.
// Until a gateway has seen the persister busy it knows only the rate at which it completes what
// arrives (a floor of its capacity), and admits a backlog of SATURATED entries or of what arrives
// at that rate in half the bound, whichever is larger.
import { AppError } from '../../domain/errors.js';
import type { EventLog, PartitionPosition } from './event-log.js';

export interface PartitionLag {
  partition: number;
  /** Entries the persister has not completed. */
  entries: number;
  /** The time the persister needs to complete them (see the top of this file). */
  ms: number;
}

interface Track {
  done: number;
  at: number;
  /** When `done` last moved (or nothing was pending). */
  movedAt: number;
  /** Entries completed per ms while some were pending; 0 until seen. */
  rate: number;
  /** How long one of the persister's steps (a store transaction) takes while busy. */
  stepMs: number;
  /** Pending entries at the last sample. */
  pending: number;
  /** The sampling intervals within RATE_WINDOW_MS (ending `at`) that began with entries pending. */
  busy: { at: number; ms: number; completed: number; saturated: boolean }[];
  /**
   * Entries completed per ms over those intervals, saturated or not: a floor of the capacity, used
   * until `rate` is known (it is the arrival rate while the persister keeps up).
   */
  floor: number;
  /** Sends this gateway admitted to the partition since the sample. */
  admitted: number;
  lag: PartitionLag;
}

/**
 * The rate is measured over the busy intervals of this much time: the persister completes a
 * partition in steps (one per store transaction, up to a second apart when the store is slow), so
 * one sampling interval says little. An interval is busy when it began with a backlog of full
 * batches and ended with some left: what it completed then is the capacity, not what arrived.
 */
const RATE_WINDOW_MS = 3_000;
/** Busy time needed before a rate is taken: less than one step says nothing. */
const RATE_MIN_MS = 1_000;
/** Pending entries from which the persister is taken to be working at capacity (its batches are full). */
const SATURATED = 100;
/** A Retry-After longer than this would idle clients long after the store caught up. */
const MAX_RETRY_AFTER_S = 10;

export class StoreLag {
  private readonly log: Required<Pick<EventLog, 'positions' | 'partitionOf'>>;
  private readonly consumer: string;
  private readonly boundMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private tracks: Track[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> | null = null;
  private sampledAt = 0;

  constructor(deps: {
    log: Required<Pick<EventLog, 'positions' | 'partitionOf'>>;
    /** The durable consumer that writes the store. */
    consumer: string;
    /** Past this lag of a partition, sends to its conversations are refused; 0 = never. */
    boundMs: number;
    intervalMs?: number;
    now?: () => number;
  }) {
    this.log = deps.log;
    this.consumer = deps.consumer;
    this.boundMs = deps.boundMs;
    this.intervalMs = deps.intervalMs ?? 200;
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.sampling ??= this.sample()
        .catch(() => {})
        .finally(() => {
          this.sampling = null;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last sample, per partition. */
  lags(): PartitionLag[] {
    return this.tracks.map((t) => t.lag);
  }

  /**
   * Throws AppError('unavailable') with a Retry-After when the conversation's partition is past the
   * bound. A sample older than a few intervals (the log does not answer) admits: the append then
   * fails on its own if the log is down.
   */
  admit(conversationId: string): void {
    if (this.boundMs <= 0 || this.now() - this.sampledAt > 5 * this.intervalMs + 1_000) return;
    const track = this.tracks[this.log.partitionOf(conversationId)];
    if (!track) return;
    const threshold = this.boundMs / 2;
    // Until the capacity is known, a backlog of SATURATED entries, or of what arrives in half the
    // bound while the persister keeps up (the floor), whichever is larger: a burst into a quiet
    // partition is not refused because the arrivals before it were few.
    const unknownRate =
      track.rate === 0 && track.lag.entries + track.admitted >= Math.max(SATURATED, track.floor * threshold);
    const ms = track.lag.ms + (track.rate > 0 ? track.admitted / track.rate : 0);
    if (ms <= threshold && !unknownRate) {
      track.admitted += 1;
      return;
    }
    const retryAfterSeconds = unknownRate
      ? 1
      : Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((ms - threshold) / 1000)));
    throw new AppError(
      'unavailable',
      'the store is behind the log; retry with the same clientMsgId',
      retryAfterSeconds,
    );
  }

  /** Reads the positions once and updates each partition's lag. */
  async sample(): Promise<void> {
    const positions = await this.log.positions(this.consumer);
    this.update(positions, this.now());
  }

  update(positions: PartitionPosition[], at: number): void {
    this.tracks = positions.map((p, partition) => {
      const before = this.tracks[partition];
      const track: Track = before
        ? { ...before, done: p.done, pending: p.pending, at, admitted: 0 }
        : {
            done: p.done,
            pending: p.pending,
            at,
            movedAt: at,
            rate: 0,
            stepMs: 0,
            busy: [],
            floor: 0,
            admitted: 0,
            lag: { partition, entries: 0, ms: 0 },
          };
      track.busy = track.busy.filter((b) => at - b.at <= RATE_WINDOW_MS);
      if (before && before.pending > 0 && at > before.at) {
        const saturated = before.pending >= SATURATED && p.pending > 0;
        track.busy.push({ at, ms: at - before.at, completed: p.done - before.done, saturated });
      }
      const sum = (intervals: Track['busy']) => ({
        ms: intervals.reduce((total, b) => total + b.ms, 0),
        completed: intervals.reduce((total, b) => total + b.completed, 0),
        steps: intervals.filter((b) => b.completed > 0).length,
      });
      const all = sum(track.busy);
      track.floor = all.ms > 0 ? all.completed / all.ms : 0;
      const saturated = track.busy.filter((b) => b.saturated);
      const busy = sum(saturated);
      if (busy.ms >= RATE_MIN_MS && busy.completed > 0) {
        track.rate = busy.completed / busy.ms;
        track.stepMs = busy.ms / busy.steps;
      } else if (saturated.length === 0 && track.rate > 0) {
        // Not at capacity for a whole window: a capacity measured before may be stale (a cold
        // store's first seconds are slow), and kept, it would refuse a persister that keeps up.
        // It completes at least what it was seen completing, in steps as long as the recent ones.
        track.rate = Math.max(track.rate, track.floor);
        if (all.steps > 0) track.stepMs = all.ms / all.steps;
      }
      if (!before || p.done !== before.done || p.pending === 0) track.movedAt = at;
      // The newest entry waits for the step in progress, then for the one that takes it: steps take
      // what is pending when they begin, so its own step is about as long as the rest of the backlog.
      // Until the capacity is known the backlog is bounded in entries (admit), not in time: the floor
      // is the arrival rate, and the pending entries over it would overstate a burst's lag.
      const drainMs = p.pending === 0 || track.rate === 0 ? 0 : p.pending / track.rate + track.stepMs;
      track.lag = { partition, entries: p.pending, ms: Math.round(Math.max(drainMs, at - track.movedAt)) };
      return track;
    });
    this.sampledAt = at;
  }
}
