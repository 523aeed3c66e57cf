// Builds the browser client into dist/, which the server serves at `/`.
// The workspace packages are compiled from source, so the web build does not depend on their dist/.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const src = (pkg: string) => fileURLToPath(new URL(`../${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      '@messenger/sdk': src('sdk'),
      '@messenger/protocol': src('protocol'),
    },
  },
  // Source maps would publish the source next to the app; WEB_SOURCEMAP=1 builds them for debugging.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: process.env.WEB_SOURCEMAP === '1' },
  server: {
    // `npm run dev -w @messenger/web` against a server started on the default port.
    proxy: { '/v1': { target: `http://127.0.0.1:${process.env.API_PORT ?? 8080}`, ws: true } },
  },
});
