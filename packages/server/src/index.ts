export { startServer, type RunningServer } from './server.js';
export { loadConfig, type Config } from './config/config.js';
