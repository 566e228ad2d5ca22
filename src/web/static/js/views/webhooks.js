// A program's webhook subscriptions and their recent deliveries, with a Redeliver button.
// (Subscriptions are created with POST /api/program/:id/webhooks: the endpoint is challenged.)
import { embedded, get, paths, request } from '../api.js';
import { formatTime, h } from '../dom.js';
import { errorBox, toast } from '../ui.js';

const DELIVERY_BADGE = { delivered: 'ok', pending: 'run', failed: 'bad' };

function deliveryRow(delivery, status) {
  const button = h('button', { type: 'button', 'aria-label': `Redeliver delivery ${delivery.id}` }, 'Redeliver');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await request('POST', delivery._links.redeliver.href);
      toast(`Delivery ${delivery.id} queued again`);
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return h('tr', {},
    h('td', { text: `Execution ${delivery.executionId} · event ${delivery.eventCursor}` }),
    h('td', { 'data-label': 'Status' }, h(`span.badge.badge-${DELIVERY_BADGE[delivery.status] ?? 'idle'}`, { text: delivery.status })),
    h('td', { 'data-label': 'Attempts', text: String(delivery.attempts) }),
    h('td', { 'data-label': 'Response', text: delivery.responseCode ? String(delivery.responseCode) : (delivery.error ?? '—') }),
    h('td', { 'data-label': 'Last attempt', text: formatTime(delivery.lastAttemptAt) || '—' }),
    h('td.actions', { 'data-label': 'Actions' }, button));
}

export async function renderWebhooks(main, [programId]) {
  const program = await get(paths.program(programId));
  main.append(h('h1', { text: `${program.name}: webhooks` }));
  const webhooks = embedded(await get(`${paths.program(programId)}/webhooks`), 'webhooks');
  if (webhooks.length === 0) {
    main.append(h('p', { text: 'No webhooks yet. Subscribe one with POST /api/program/:id/webhooks {url, secret}.' }));
    return;
  }
  for (const webhook of webhooks) {
    const deliveries = embedded(await get(`${webhook._links.deliveries.href}?limit=20`), 'deliveries');
    const status = h('div.row-status');
    main.append(h('section.card', {},
      h('h2.url', { text: webhook.url }),
      h('p.muted', { text: `${webhook.enabled ? 'enabled' : 'disabled'} · ${webhook.events.join(', ')}` }),
      deliveries.length === 0
        ? h('p', { text: 'No deliveries yet.' })
        : h('table.data.responsive', {},
          h('caption.sr-only', { text: `Recent deliveries to ${webhook.url}` }),
          h('thead', {}, h('tr', {}, ['Event', 'Status', 'Attempts', 'Response', 'Last attempt', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', {}, deliveries.map((d) => deliveryRow(d, status)))),
      status));
  }
}
