// An Angular app that verifies a face with <veriface-capture> (the web component of
// @veriface/web): CUSTOM_ELEMENTS_SCHEMA lets the template use it, the session and key are set as
// properties on the element, results come as DOM events (bound with (veriface-result)). The
// Angular CLI bundles only the app's own workers, so the package's worker is hosted as files
// (angular.json assets: vf/src/) and named with worker-url. No
// component styles: Angular would inject them as <style> elements, which a strict
// Content-Security-Policy blocks. The demo server creates the session; a real app asks its backend.
import { AfterViewInit, Component, CUSTOM_ELEMENTS_SCHEMA, ElementRef, signal, viewChild } from '@angular/core';
import { createSessionKey, createDemoSession, type CaptureResult, type VerifaceError } from '@veriface/web';
import type { VerifaceCaptureElement } from '@veriface/web/component';

@Component({
  selector: 'app-root',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: `<main [attr.data-state]="phase()">
  <h1>Verify with Angular</h1>
  <veriface-capture #capture base-url="/vf/" worker-url="/vf/src/worker.js" submit="" lazy
    (veriface-result)="onResult($event)" (veriface-error)="onError($event)"></veriface-capture>
  <p class="status">{{ text() }}</p>
</main>`,
})
export class AppComponent implements AfterViewInit {
  readonly capture = viewChild.required<ElementRef<VerifaceCaptureElement>>('capture');
  readonly phase = signal('loading');
  readonly text = signal('Preparing…');

  async ngAfterViewInit(): Promise<void> {
    try {
      const key = await createSessionKey();
      const session = await createDemoSession(location.origin, key.publicKeySpki);
      const el = this.capture().nativeElement;
      el.key = key;
      el.session = session;
      this.phase.set('ready');
      this.text.set('Press Start.');
    } catch (e) {
      this.phase.set('error');
      this.text.set(String((e as Error).message || e));
    }
  }

  onResult(e: Event): void {
    const r = (e as CustomEvent<{ result: CaptureResult }>).detail.result;
    this.phase.set('done');
    this.text.set(r.answer ? r.answer.message : 'Done');
  }

  onError(e: Event): void {
    const err = (e as CustomEvent<{ error: VerifaceError }>).detail.error;
    this.phase.set('error');
    this.text.set(`${err.code}: ${err.message}`);
  }
}
