// A program's lists (pipelines, history, environments) kept current by the program's event
// stream (…/events/stream): each event patches the list where it can; whenever the stream
// (re)opens the list is read afresh, so what happened while it was down is not missed. The
// indicator says Live / Reconnecting…; an error banner clears once the server answers again.
import { followEvents, paths } from './api.js';
import { h } from './dom.js';
import { errorBox } from './ui.js';

/** The "Live" indicator (the execution screen's style). */
export function liveIndicator() {
  return h('span.live', { hidden: true, 'aria-live': 'polite' });
}

function show(indicator, state) {
  if (!indicator) return;
  indicator.hidden = !state;
  indicator.dataset.state = state ?? '';
  indicator.replaceChildren(...(state === 'live' ? [h('span.live-dot', { 'aria-hidden': 'true' }), 'Live']
    : state === 'reconnecting' ? ['Reconnecting…'] : state === 'polling' ? ['Refreshing every 5 s'] : []));
}

/**
 * Follows the program's events until the returned stop() is called. `onEvent(type, data)`
 * patches the page (it may return false to ask for a full `resync()` instead); `problem` is
 * the element that shows an error.
 */
export function followProgram(programId, { onEvent, resync, problem, indicator }) {
  const abort = new AbortController();
  let poll;
  let running;
  const refetch = () => {
    // One read at a time; a request while one runs makes one more afterwards.
    if (running) { running.again = true; return; }
    running = { again: false };
    resync().then(() => problem.replaceChildren(), (error) => problem.replaceChildren(errorBox(error))).finally(() => {
      const again = running.again;
      running = undefined;
      if (again && !abort.signal.aborted) refetch();
    });
  };
  followEvents(`${paths.program(programId)}/events/stream`, {
    signal: abort.signal,
    onOpen: () => { show(indicator, 'live'); refetch(); },
    onDrop: () => show(indicator, 'reconnecting'),
    onEvent: (type, data) => {
      let patched = false;
      try { patched = onEvent(type, data) !== false; } catch { patched = false; }
      // An error still shown while the server answers again: read the list, which clears it.
      if (!patched || problem.childElementCount > 0) refetch();
    },
    onFailure: (error) => {
      // Refused (not a network failure): fall back to reading the list now and then.
      show(indicator, 'polling');
      problem.replaceChildren(errorBox(error));
      poll = setInterval(refetch, 5000);
    },
  });
  return () => { abort.abort(); clearInterval(poll); };
}
