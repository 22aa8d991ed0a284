/**
 * Renderer build: React + Vite, root renderer/, output renderer/dist/ (served by the headless server
 * and by the Electron app:// protocol). The production build gets the strict CSP as a meta tag too.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { RENDERER_CSP } from './main/server/csp.js';

const root = fileURLToPath(new URL('./renderer/', import.meta.url));

function cspMeta(): Plugin {
  return {
    name: 'workbench-csp-meta',
    apply: 'build',
    transformIndexHtml(html) {
      return html.replace('<meta charset="UTF-8" />', `<meta charset="UTF-8" />\n    <meta http-equiv="Content-Security-Policy" content="${RENDERER_CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors')).join('; ')}" />`);
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [react(), cspMeta()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    target: 'es2022',
  },
  server: {
    port: 5173,
    strictPort: false,
    fs: { allow: [fileURLToPath(new URL('./', import.meta.url))] },
  },
});
