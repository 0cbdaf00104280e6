import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
// The dev server (`npm run web:dev`) sends API calls to the API, so cookies stay same-origin.
const api = process.env.API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  // Preact's JSX runtime, without a plugin (tsconfig says the same to the type checker).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // No source maps: the API serves this directory to everyone, and a map would publish the client's source.
  build: { outDir: process.env.WEB_OUT_DIR ?? `${root}dist`, emptyOutDir: true, sourcemap: false },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy: { '/api': api, '/openapi.json': api, '/docs': api } },
});
