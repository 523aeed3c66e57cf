// Entry point: start the messenger with settings from the environment; SIGTERM/SIGINT drain it.
import { ConfigError, loadConfig } from './config/config.js';
import { startTracing } from './observability/tracing.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // Before the server, so every span of this process has a provider; a no-op unless configured.
  const tracing = startTracing(process.env, `messenger-${config.roles.join('-')}`);
  const server = await startServer(config);
  // Last line of defence: a forgotten rejection is logged, not fatal to every socket of this process.
  process.on('unhandledRejection', (reason) => server.logger.error({ err: reason }, 'unhandled rejection'));
  server.logger.info(
    { url: server.url, backend: server.backend.name, roles: config.roles, dataDir: config.dataDir },
    'messenger started',
  );
  if (server.gateway) process.stdout.write(`\nMessenger is running at ${server.url}\n\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void server
      .close()
      .then(() => tracing.shutdown())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
