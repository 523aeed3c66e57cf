// JSON logs through pino; every module gets a child logger named for its component.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'messenger' } });
}
