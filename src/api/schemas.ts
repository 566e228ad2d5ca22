// JSON-schema fragments shared by the routes (Fastify validates; openapi.ts publishes them).
export const idSchema = { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } as const;

export function idParams<const K extends string>(...names: K[]) {
  return {
    type: 'object',
    required: names,
    properties: Object.fromEntries(names.map((n) => [n, idSchema])) as Record<K, typeof idSchema>,
  } as const;
}

export const pagingQuery = {
  type: 'object',
  properties: {
    start: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

export const nameSchema = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f]+$' } as const;
export const branchSchema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?!-)(?!.*\\.\\.)[A-Za-z0-9._/@+-]+$' } as const;
export const environmentTypeSchema = { type: 'string', enum: ['dev', 'stage', 'prod'] } as const;

export const environmentsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { dev: idSchema, stage: idSchema, prod: idSchema },
} as const;

export const pipelineOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    approval: { type: 'boolean' },
    schedule: { type: 'boolean' },
    managed: { type: 'boolean' },
    pauseBeforeProd: { type: 'boolean' },
    securityTest: { type: 'boolean' },
    loadTest: { type: 'boolean' },
    uiTests: { type: 'boolean' },
    // The experience audit cannot be skipped: at least one page.
    auditPaths: { type: 'array', minItems: 1, maxItems: 25, items: { type: 'string', pattern: '^/[^\\s]{0,1023}$' } },
    auditRuns: { type: 'integer', minimum: 1, maximum: 10 },
    importantMetrics: { type: 'string', enum: ['ask', 'fail', 'continue'] },
    waitTimeoutMs: { type: 'integer', minimum: 1000, maximum: 60 * 24 * 60 * 60 * 1000 },
    waitTimeoutOutcome: { type: 'string', enum: ['fail', 'continue'] },
    batchSize: { type: 'integer', minimum: 1, maximum: 100 },
    loadTest95thMs: { type: 'integer', minimum: 1, maximum: 600_000 },
    loadTestErrorRate: { type: 'number', minimum: 0, maximum: 1 },
    loadTestMinRpm: { type: 'integer', minimum: 0, maximum: 10_000_000 },
  },
} as const;

/** Any JSON body (advance/cancel bodies are judged by the domain rules). */
export const anyBody = {} as const;
