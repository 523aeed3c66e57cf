import { attemptLimiterContract } from '../../core/users/attempt-limiter.contract.js';
import { MemoryAttemptLimiter } from './attempt-limiter.js';

attemptLimiterContract('MemoryAttemptLimiter', async () => new MemoryAttemptLimiter());
