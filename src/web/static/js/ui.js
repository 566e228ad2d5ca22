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


/** The page's title: "Execution 12 · Production · Slipway". */
export function setTitle(text) {
  document.title = text ? `${text} · Slipway` : 'Slipway';
}

/**
 * An empty state that offers the action: a sentence and, for users who may act, the button.
 * `action` is { text, onClick } or { text, href }.
 */
export function emptyState(text, action) {
  const button = action?.href ? h('a.button.primary', { href: action.href }, action.text)
    : action ? h('button.primary', { type: 'button', onClick: action.onClick }, action.text) : null;
  return h('div.card.empty', {}, h('p', { text }), button);
}
