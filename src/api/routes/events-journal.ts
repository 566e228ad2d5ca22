// The pull alternative to webhooks (like Adobe's journaling API): a program's events in order,
// from a cursor, so a consumer that was down catches up. Same JSON as the webhooks POST.
import type { FastifyInstance } from 'fastify';
import { cloudManagerEvent } from '../../domain/cloud-events.ts';
import { eventsAfter } from '../../store/events.ts';
import { authorize } from '../auth.ts';
import { baseUrlOf, type ApiDeps } from '../deps.ts';
import { link, paths } from '../hal.ts';
import { loadProgram } from '../load.ts';
import { idParams } from '../schemas.ts';

export function eventJournalRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.slipway.rt.db.kysely;
  type Q = { after: string; limit: number };
  app.get<{ Params: { programId: string }; Querystring: Q }>('/api/program/:programId/events', {
    schema: {
      params: idParams('programId'), summary: 'The program\'s events after a cursor, oldest first, with the next cursor',
      querystring: {
        type: 'object',
        properties: {
          after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$', default: '0' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      },
    },
  }, async (req) => {
    const program = await loadProgram(deps, req.params.programId);
    await authorize(req, deps, program.id, 'read');
    const entries = await eventsAfter(db, program.id, Number(req.query.after), req.query.limit);
    const cursor = String(entries.at(-1)?.seq ?? req.query.after);
    const base = baseUrlOf(deps, req);
    const self = `${paths.program(program.id)}/events`;
    return {
      cursor,
      _links: {
        self: link(`${self}?after=${req.query.after}&limit=${req.query.limit}`),
        next: link(`${self}?after=${cursor}&limit=${req.query.limit}`),
      },
      _embedded: { events: entries.map((e) => cloudManagerEvent(e.record, base)) },
    };
  });
}
