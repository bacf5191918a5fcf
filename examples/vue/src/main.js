import { createApp } from 'vue';
import { defineVerifaceCapture } from '@veriface/web/component';
import App from './App.vue';

defineVerifaceCapture();
createApp(App).mount('#app');
