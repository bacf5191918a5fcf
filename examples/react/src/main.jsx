// A React app that verifies a face with <veriface-capture> (the web component of @veriface/web).
// React 19 passes attributes to custom elements; the session and key are properties, set from a
// ref, and the results come as DOM events. The demo server creates the session (POST
// /demo/sessions); a real app asks its own backend.
import { StrictMode, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createSessionKey, createDemoSession } from '@veriface/web';
import { defineVerifaceCapture } from '@veriface/web/component';

defineVerifaceCapture();

function App() {
  const ref = useRef(null);
  const [state, setState] = useState({ phase: 'loading', text: 'Preparing…' });
  useEffect(() => {
    const el = ref.current;
    let live = true;
    const onResult = (e) => setState({ phase: 'done', text: e.detail.result.answer.message });
    const onError = (e) => setState({ phase: 'error', text: `${e.detail.error.code}: ${e.detail.error.message}` });
    el.addEventListener('veriface-result', onResult);
    el.addEventListener('veriface-error', onError);
    (async () => {
      const key = await createSessionKey();
      const session = await createDemoSession(location.origin, key.publicKeySpki);
      if (!live) return;
      el.key = key;
      el.session = session;
      setState({ phase: 'ready', text: 'Press Start.' });
    })().catch((e) => setState({ phase: 'error', text: String(e.message || e) }));
    return () => {
      live = false;
      el.removeEventListener('veriface-result', onResult);
      el.removeEventListener('veriface-error', onError);
    };
  }, []);
  return (
    <main data-state={state.phase}>
      <h1>Verify with React</h1>
      <veriface-capture ref={ref} base-url="/vf/" submit="" lazy="" />
      <p className="status">{state.text}</p>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<StrictMode><App /></StrictMode>);
