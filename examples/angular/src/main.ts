import { bootstrapApplication } from '@angular/platform-browser';
import { provideZonelessChangeDetection } from '@angular/core';
import { defineVerifaceCapture } from '@veriface/web/component';
import { AppComponent } from './app';

defineVerifaceCapture();
bootstrapApplication(AppComponent, { providers: [provideZonelessChangeDetection()] }).catch((e) => console.error(e));
