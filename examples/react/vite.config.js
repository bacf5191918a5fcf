import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  // the package ships a worker: keep it out of the dev server's pre-bundling (web/README.md)
  optimizeDeps: { exclude: ['@veriface/web'] },
});
