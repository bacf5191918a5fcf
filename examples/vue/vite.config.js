import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  // <veriface-*> are custom elements, not Vue components
  plugins: [vue({ template: { compilerOptions: { isCustomElement: (tag) => tag.startsWith('veriface-') } } })],
  // the package ships a worker: keep it out of the dev server's pre-bundling (web/README.md)
  optimizeDeps: { exclude: ['@veriface/web'] },
});
