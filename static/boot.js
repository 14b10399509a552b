// Trunk's initializer (index.html `data-initializer`): fills the plain-HTML loading bar while
// the wasm downloads, removes it once the app runs, says so if it cannot start, and registers
// the service worker that lets the app open with no network after the first visit.
export default function boot() {
  const byId = (id) => document.getElementById(id);
  return {
    onProgress({ current, total }) {
      const fill = byId('boot-fill');
      if (fill && total > 0) {
        fill.style.width = `${Math.min(100, (100 * current) / total).toFixed(1)}%`;
      }
    },
    onSuccess() {
      byId('boot')?.remove();
      // The e2e first-paint figures read this mark (tests/e2e/offline.test.mjs).
      performance.mark('broker-lab-ready');
      if ('serviceWorker' in navigator && window.isSecureContext) {
        navigator.serviceWorker.register('./sw.js').catch((err) => console.warn('service worker:', err));
      }
    },
    onFailure(reason) {
      const text = byId('boot-text');
      if (text) {
        text.textContent = `Broker Lab could not start / Broker Lab을 시작하지 못했습니다: ${reason}`;
      }
      byId('boot')?.classList.add('failed');
    },
  };
}
