import { presenceContract } from '../../core/presence/presence.contract.js';
import { gatewayBusContract } from '../../core/routing/gateway-bus.contract.js';
import { routesContract } from '../../core/routing/routes.contract.js';
import { blockStoreContract } from '../../core/safety/block-store.contract.js';
import { MemoryBlocks } from './blocks.js';
import { MemoryGatewayBus } from './gateway-bus.js';
import { MemoryPresence } from './presence.js';
import { MemoryRoutes } from './routes.js';

presenceContract('MemoryPresence', async () => new MemoryPresence());
routesContract('MemoryRoutes', async () => new MemoryRoutes());
gatewayBusContract('MemoryGatewayBus', async () => new MemoryGatewayBus());

let chats = 0;
blockStoreContract('MemoryBlocks', {
  open: async () => {
    const blocks = new MemoryBlocks();
    return {
      blocks,
      // Memory has no conversations: it knows the direct chats it is told about, nothing of groups.
      chat: async (kind, [a, b]) => {
        const id = `c_mem_${++chats}`;
        if (kind === 'direct' && a && b) blocks.registerDirectChat(id, a, b);
        return id;
      },
      close: async () => undefined,
    };
  },
});
