import { revocationsContract } from '../../core/users/revocations.contract.js';
import { MemoryRevocations } from './revocations.js';

revocationsContract('MemoryRevocations', {
  open: async () => {
    const revocations = new MemoryRevocations();
    return [revocations, revocations];
  },
});
