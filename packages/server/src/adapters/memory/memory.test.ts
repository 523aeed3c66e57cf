import { presenceContract } from '../../core/presence/presence.contract.js';
import { gatewayBusContract } from '../../core/routing/gateway-bus.contract.js';
import { routesContract } from '../../core/routing/routes.contract.js';
import { MemoryGatewayBus } from './gateway-bus.js';
import { MemoryPresence } from './presence.js';
import { MemoryRoutes } from './routes.js';

presenceContract('MemoryPresence', async () => new MemoryPresence());
routesContract('MemoryRoutes', async () => new MemoryRoutes());
gatewayBusContract('MemoryGatewayBus', async () => new MemoryGatewayBus());
