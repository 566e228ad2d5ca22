// Shared UI bits: the toast, error boxes, navigation.
import { ApiError } from './api.js';
import { h } from './dom.js';

/** Shows a short message to screen readers and sighted users alike. */
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('shown'), 4000);
}

/** A problem+json error as a readable alert. */
export function errorBox(error) {
  const detail = error instanceof ApiError ? error.detail || error.title : error?.message ?? String(error);
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  return h('div.alert', { role: 'alert' }, h('strong', { text: `${title}: ` }), detail);
}

export function navigate(route) {
  location.hash = `#${route}`;
}

