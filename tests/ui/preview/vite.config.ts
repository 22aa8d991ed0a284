import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./', import.meta.url)),
  base: './',
  plugins: [react()],
  build: { outDir: process.env.PREVIEW_OUT ?? '/tmp/wb-preview', emptyOutDir: true, chunkSizeWarningLimit: 8192 },
});
