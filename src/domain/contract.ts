// The repository contract: `slipway.yaml` at the repository root says how to build, where the
// reports and outputs are, how the app starts, and where the dispatcher package and the test
// bundles are. Everything has a default by convention, so a plain Node project needs no file.
// Pure: parsing is done on an already-loaded YAML value; errors name the file and the field.
import { z } from 'zod';
import { patternProblem } from './patterns.ts';

export const CONTRACT_FILE = 'slipway.yaml';
export const DISPATCHER_FILE = 'dispatcher.yaml';
export const UI_TEST_MARKER = 'testing.properties';

/** A regular expression from the repository: refused unless the linear-time engine accepts it. */
const pattern = z.string().min(1).superRefine((source, ctx) => {
  const problem = patternProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const relPath = z.string().min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path inside the repository');

const testBundle = z.object({
  /** Directory (in the build workspace, after the build) that becomes the test bundle. */
  path: relPath,
  /** Command run inside the bundle directory; writes JUnit XML into $REPORTS_PATH. */
  command: z.string().min(1),
  timeoutMinutes: z.number().positive().max(120).default(30),
});

/** A Debian package name (Debian policy §5.6.1): lower case, digits, + - . ; at least 2 chars. */
const debianPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]{1,99}$/, 'a Debian package name (lower case letters, digits, + - .)');

/** The bases an app image can have (src/artifacts/base-image.ts builds them). */
export const APP_IMAGE_BASES = ['node', 'static', 'none'] as const;

const imageSection = z.object({
  /**
   * node: Debian's nodejs; static: busybox (a shell and httpd, for static sites); none: no
   * Debian system (the output brings its own binary), or Debian's essential set with `packages`.
   */
  base: z.enum(APP_IMAGE_BASES).default('node'),
  /** Extra Debian packages installed into the base (e.g. python3 for a Python app). */
  packages: z.array(debianPackage).max(50).default([]),
}).strict().refine((image) => image.base !== 'static' || image.packages.length === 0, {
  message: 'base "static" takes no packages: choose "none" (or "node") to add Debian packages',
  path: ['packages'],
});

export const contractSchema = z.object({
  build: z.object({
    command: z.string().min(1).default('npm ci && npm test && npm run build --if-present'),
    timeoutMinutes: z.number().positive().max(240).default(30),
  }).strict().default({ command: 'npm ci && npm test && npm run build --if-present', timeoutMinutes: 30 }),
  reports: z.object({
    /** Globs of JUnit XML files written by the unit tests. */
    junit: z.array(z.string()).default(['reports/junit/*.xml']),
    /** Globs of coverage reports: lcov (.info), Cobertura or JaCoCo (.xml). */
    coverage: z.array(z.string()).default(['coverage/lcov.info']),
    /** Globs of SARIF files from any scanner. */
    sarif: z.array(z.string()).default(['reports/*.sarif']),
  }).strict().default({ junit: ['reports/junit/*.xml'], coverage: ['coverage/lcov.info'], sarif: ['reports/*.sarif'] }),
  /** Source globs scanned by code quality (JS/TS built in). */
  sources: z.array(z.string()).default(['src/**/*.{js,mjs,ts}']),
  app: z.object({
    /** Directory whose content becomes the app image ('.' = the workspace without .git). */
    output: relPath.default('.'),
    /** Start command, run in the release directory; the port comes in $PORT. */
    start: z.string().min(1).default('npm start'),
    health: z.string().startsWith('/').default('/health'),
  }).strict().default({ output: '.', start: 'npm start', health: '/health' }),
  image: imageSection.default({ base: 'node', packages: [] }),
  dispatcher: z.object({
    /** Directory holding dispatcher.yaml (and anything it refers to). */
    path: relPath.default('dispatcher'),
  }).strict().optional(),
  tests: z.object({
    functional: testBundle.optional(),
    ui: testBundle.optional(),
  }).strict().default({}),
  audit: z.object({
    paths: z.array(z.string().startsWith('/')).max(25).default(['/']),
  }).strict().optional(),
}).strict();

export type RepositoryContract = z.infer<typeof contractSchema>;

/** The dispatcher package: what the cache in front of each publish node does. */
export const dispatcherSchema = z.object({
  /** Requests whose path matches a rule are cached for `ttlSeconds`. First match wins. */
  cache: z.array(z.object({
    /** Regular expression over the URL path, e.g. "^/assets/". */
    match: pattern,
    ttlSeconds: z.number().int().nonnegative(),
  }).strict()).default([]),
  /** Regular expressions of paths answered 403 by the dispatcher, never passed to publish. */
  deny: z.array(pattern).default([]),
  methods: z.array(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])).default(['GET', 'HEAD', 'POST']),
  /** Paths requested through the dispatcher after a flush, until each is a cache hit. */
  warm: z.array(z.string().startsWith('/')).default([]),
}).strict();

export type DispatcherPackage = z.infer<typeof dispatcherSchema>;

export class ContractError extends Error {
  constructor(readonly file: string, readonly field: string, readonly expected: string) {
    super(`${file}: ${field || '(root)'}: ${expected}`);
    this.name = 'ContractError';
  }
}

function parseWith<T>(schema: z.ZodType<T>, file: string, value: unknown): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ContractError(file, issue?.path.join('.') ?? '', issue?.message ?? 'invalid');
}

export function parseContract(value: unknown, file = CONTRACT_FILE): RepositoryContract {
  return parseWith(contractSchema, file, value);
}

export function parseDispatcherPackage(value: unknown, file = DISPATCHER_FILE): DispatcherPackage {
  return parseWith(dispatcherSchema, file, value);
}
