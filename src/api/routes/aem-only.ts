// Cloud Manager routes for features only AEM has (IP allowlists, content sets, content flows):
// every method on them answers a 404 that names the feature, instead of "no route". Programs
// carry no link to them, so HAL clients see at once that the feature is absent.
import type { FastifyInstance } from 'fastify';
import { aemOnly } from '../problem.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Path prefixes (a trailing `*` matches the rest: `ipAllowlists`, `ipAllowlist/7/bindings`, ...). */
const AEM_ONLY_ROUTES: readonly { feature: string; urls: readonly string[] }[] = [
  { feature: 'IP allowlists', urls: ['/api/program/:programId/ipAllowlist*'] },
  { feature: 'Content sets', urls: ['/api/program/:programId/contentSet*'] },
  {
    feature: 'Content flows',
    urls: ['/api/program/:programId/contentFlow*', '/api/program/:programId/environment/:environmentId/contentFlow*'],
  },
];

export function aemOnlyRoutes(app: FastifyInstance): void {
  for (const { feature, urls } of AEM_ONLY_ROUTES) {
    for (const url of urls) {
      app.route({ method: [...METHODS], url, handler: async () => { throw aemOnly(feature); } });
    }
  }
}
