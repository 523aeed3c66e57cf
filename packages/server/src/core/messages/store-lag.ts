// StoreLag: how far the store trails the log, per partition, and the back-pressure that bounds it.
// Where a persister writes the store behind the log (cluster), a log that acknowledges more than the
// store absorbs grows a backlog without bound: every catch-up read then waits and answers 503 until
// it drains. So a gateway samples the persister's position, and past the bound it refuses new sends
// with 503 and Retry-After (clients' outboxes retry them; sends are deduplicated on clientMsgId)
// rather than acknowledging work the store cannot take.
//
// The lag of a partition is the time the persister needs to complete what the log holds now: its
// pending entries at the rate it completed that partition's entries over the last seconds of a
// backlog (its capacity, not the arrival rate), and at least the time since it last completed one (a stalled
// persister's lag grows by itself). Between samples, what this gateway admitted since counts too,
// and admission closes one sampling interval before the bound, so what was admitted (here and at
// the other gateways meanwhile) drains within about the bound.
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
  /** The samples of the current busy stretch within RATE_WINDOW_MS, oldest first. */
  busy: { at: number; done: number }[];
  /** Sends this gateway admitted to the partition since the sample. */
  admitted: number;
  lag: PartitionLag;
}

/**
 * The rate is measured over this much of the latest busy stretch: the persister completes a
 * partition in steps (one per store transaction, up to a second apart when the store is slow), so
 * one sampling interval says little.
 */
const RATE_WINDOW_MS = 3_000;
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
    const ms = track.lag.ms + (track.rate > 0 ? track.admitted / track.rate : 0);
    const threshold = Math.max(this.boundMs / 2, this.boundMs - this.intervalMs);
    if (ms <= threshold) {
      track.admitted += 1;
      return;
    }
    const retryAfterSeconds = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((ms - threshold) / 1000)));
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
        ? { ...before, done: p.done, at, admitted: 0 }
        : { done: p.done, at, movedAt: at, rate: 0, busy: [], admitted: 0, lag: { partition, entries: 0, ms: 0 } };
      // Saturated (a backlog of full batches) since the stretch began: what it completed is its
      // capacity, not what arrived. A trickle keeps a few entries pending and says nothing of it.
      if (p.pending >= SATURATED) {
        track.busy = [...track.busy.filter((b) => at - b.at <= RATE_WINDOW_MS), { at, done: p.done }];
        const first = track.busy[0]!;
        if (at > first.at && p.done > first.done) track.rate = (p.done - first.done) / (at - first.at);
      } else {
        track.busy = [];
      }
      if (!before || p.done !== before.done || p.pending === 0) track.movedAt = at;
      const drainMs = p.pending === 0 ? 0 : track.rate > 0 ? p.pending / track.rate : 0;
      track.lag = { partition, entries: p.pending, ms: Math.round(Math.max(drainMs, at - track.movedAt)) };
      return track;
    });
    this.sampledAt = at;
  }
}
