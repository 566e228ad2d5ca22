// A small typed client for Slipway's Cloud Manager-compatible API: fetch-based, follows HAL
// links where the API offers them, and turns problem+json answers into clear errors.
import {
  embedded, expandTemplate, linkOf, rel,
  type EnvironmentView, type ExecutionView, type HalResource, type Metric, type Pipeline, type Program,
  type StepStateView, type VariableView,
} from './hal.ts';

/** An HTTP answer that is not a success; `detail` is what a person should read. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly title: string, readonly detail: string, readonly problemType?: string) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
  }
}

/** The API could not be reached at all (wrong URL, server down). */
export class ConnectionError extends Error {
  constructor(readonly baseUrl: string, cause: unknown) {
    super(`cannot reach Slipway at ${baseUrl}: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`);
    this.name = 'ConnectionError';
  }
}

export interface ClientOptions {
  baseUrl: string;
  token: string;
}

export interface Response<T> {
  status: number;
  headers: Headers;
  body: T;
}

type ErrorBody = { title?: string; detail?: string; type?: string; message?: string; errors?: unknown };

function describeErrors(errors: unknown): string {
  if (Array.isArray(errors)) {
    return errors.map((e) => (typeof e === 'string' ? e : (e as { message?: string }).message ?? JSON.stringify(e))).join('; ');
  }
  return '';
}

export class SlipwayClient {
  readonly baseUrl: string;
  private readonly token: string;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
  }

  url(href: string): string {
    return /^https?:\/\//.test(href) ? href : `${this.baseUrl}${href.startsWith('/') ? '' : '/'}${href}`;
  }

  async request<T>(method: string, href: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
    const init: RequestInit = {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'manual',
    };
    let res: globalThis.Response;
    try {
      res = await fetch(this.url(href), init);
    } catch (error) {
      throw new ConnectionError(this.baseUrl, error);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try { parsed = JSON.parse(text); } catch { parsed = text; }
    }
    if (res.status >= 400) {
      const e = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as ErrorBody;
      const detail = e.detail ?? e.message ?? describeErrors(e.errors) ?? (typeof parsed === 'string' ? parsed : '');
      throw new ApiError(res.status, e.title ?? `HTTP ${res.status}`, detail || describeErrors(e.errors), e.type);
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  async get<T>(href: string): Promise<T> {
    return (await this.request<T>('GET', href)).body;
  }

  // ---- programs and pipelines -------------------------------------------------------------

  async listPrograms(): Promise<Program[]> {
    return embedded<Program>(await this.get<HalResource>('/api/programs'), 'programs');
  }

  async program(programId: string): Promise<Program> {
    return this.get<Program>(`/api/program/${encodeURIComponent(programId)}`);
  }

  async listPipelines(programId: string): Promise<Pipeline[]> {
    const program = await this.program(programId);
    const href = linkOf(program, rel.pipelines) ?? `/api/program/${encodeURIComponent(programId)}/pipelines`;
    return embedded<Pipeline>(await this.get<HalResource>(href), 'pipelines');
  }

  async pipeline(programId: string, pipelineId: string): Promise<Pipeline> {
    return this.get<Pipeline>(`/api/program/${encodeURIComponent(programId)}/pipeline/${encodeURIComponent(pipelineId)}`);
  }

  private executionHref(pipeline: Pipeline): string {
    return linkOf(pipeline, rel.execution) ?? `/api/program/${pipeline.programId}/pipeline/${pipeline.id}/execution`;
  }

  // ---- executions -------------------------------------------------------------------------

  async startExecution(
    programId: string, pipelineId: string, options: { emergency?: boolean; pushUpgrade?: boolean } = {},
  ): Promise<ExecutionView> {
    const pipeline = await this.pipeline(programId, pipelineId);
    const query = new URLSearchParams();
    if (options.emergency) query.set('pipelineExecutionMode', 'EMERGENCY');
    if (options.pushUpgrade) query.set('trigger', 'PUSH_UPGRADES');
    const href = this.executionHref(pipeline) + (query.size ? `?${query}` : '');
    return (await this.request<ExecutionView>('PUT', href)).body;
  }

  /** The running execution, or undefined when the pipeline is idle (404). */
  async currentExecution(programId: string, pipelineId: string): Promise<ExecutionView | undefined> {
    const pipeline = await this.pipeline(programId, pipelineId);
    try {
      return await this.get<ExecutionView>(this.executionHref(pipeline));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async execution(programId: string, pipelineId: string, executionId: string): Promise<ExecutionView> {
    const pipeline = await this.pipeline(programId, pipelineId);
    const template = linkOf(pipeline, rel.executionId);
    const href = template
      ? expandTemplate(template, { executionId })
      : `/api/program/${programId}/pipeline/${pipelineId}/execution/${encodeURIComponent(executionId)}`;
    return this.get<ExecutionView>(href);
  }

  /** Newest first; follows `next` links until `limit` executions are collected. */
  async listExecutions(programId: string, pipelineId: string, limit = 20): Promise<ExecutionView[]> {
    const pipeline = await this.pipeline(programId, pipelineId);
    let href: string | undefined = linkOf(pipeline, rel.executions)
      ?? `/api/program/${programId}/pipeline/${pipelineId}/executions`;
    href = `${href.split('?')[0]}?start=0&limit=${Math.min(limit, 100)}`;
    const out: ExecutionView[] = [];
    while (href && out.length < limit) {
      const page: HalResource = await this.get<HalResource>(href);
      const items = embedded<ExecutionView>(page, 'executions');
      if (items.length === 0) break;
      out.push(...items);
      href = linkOf(page, 'next');
    }
    return out.slice(0, limit);
  }

  /** Re-reads a step through its `self` link. */
  async step(step: StepStateView): Promise<StepStateView> {
    const self = linkOf(step, 'self');
    if (!self) throw new Error(`step ${step.id} has no self link`);
    return this.get<StepStateView>(self);
  }

  async metrics(step: StepStateView): Promise<Metric[]> {
    const href = linkOf(step, rel.metrics);
    if (!href) return [];
    return (await this.get<{ metrics?: Metric[] }>(href)).metrics ?? [];
  }

  async advance(step: StepStateView, body: unknown): Promise<void> {
    const href = linkOf(step, rel.advance);
    if (!href) throw new ApiError(409, 'Not advanceable', `the ${step.action} step (${step.status}) offers no advance link (it is not waiting for input, or your role may not act on it)`);
    await this.request('PUT', href, body);
  }

  async cancel(step: StepStateView, body: unknown): Promise<void> {
    const href = linkOf(step, rel.cancel);
    if (!href) throw new ApiError(409, 'Not cancellable', `the ${step.action} step (${step.status}) offers no cancel link (it cannot be cancelled now, or your role may not cancel it)`);
    await this.request('PUT', href, body);
  }

  async reExecute(step: StepStateView): Promise<ExecutionView> {
    const href = linkOf(step, rel.reExecute);
    if (!href) throw new ApiError(409, 'Not re-executable', `the ${step.action} step offers no re-execute link (only a finished production deploy can be re-executed, by a role that may deploy)`);
    return (await this.request<ExecutionView>('PUT', href)).body;
  }

  /** Redeploys the release of an earlier execution (a rollback) through its redeploy link. */
  async redeploy(execution: ExecutionView): Promise<ExecutionView> {
    const href = linkOf(execution, rel.redeploy);
    if (!href) {
      throw new ApiError(409, 'Not redeployable', `execution ${execution.id} offers no redeploy link (only an earlier execution whose production deployment finished can be redeployed — the last one is re-executed — by a role that may deploy)`);
    }
    return (await this.request<ExecutionView>('PUT', href)).body;
  }

  /** Rolls the pipeline's production back to the release before its last live one (its rollbackLastSuccessfulExecution link). */
  async rollback(programId: string, pipelineId: string): Promise<ExecutionView> {
    const pipeline = await this.pipeline(programId, pipelineId);
    const href = linkOf(pipeline, rel.rollback);
    if (!href) throw new ApiError(409, 'No rollback', `pipeline ${pipelineId} deploys to no production environment`);
    return (await this.request<ExecutionView>('PUT', href)).body;
  }

  /** The URL of a step's log (served without authentication, with Range support). */
  async logUrl(step: StepStateView, file?: string): Promise<string> {
    const href = linkOf(step, rel.logs);
    if (!href) throw new ApiError(404, 'No log', `the ${step.action} step has no log`);
    const body = await this.get<{ redirect: string }>(file ? `${href}?file=${encodeURIComponent(file)}` : href);
    return this.url(body.redirect);
  }

  /** Reads a log from byte `offset`: 206 → text; 416/404 → nothing yet. No credentials are sent. */
  async readLog(url: string, offset = 0): Promise<{ status: number; bytes: Buffer }> {
    let res: globalThis.Response;
    try {
      res = await fetch(url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
    } catch (error) {
      throw new ConnectionError(this.baseUrl, error);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status === 416 || res.status === 404) return { status: res.status, bytes: Buffer.alloc(0) };
    if (res.status >= 400) throw new ApiError(res.status, `HTTP ${res.status}`, bytes.toString('utf8'));
    return { status: res.status, bytes };
  }

  // ---- environments and variables -----------------------------------------------------------

  async listEnvironments(programId: string): Promise<EnvironmentView[]> {
    const program = await this.program(programId);
    const href = linkOf(program, rel.environments) ?? `/api/program/${programId}/environments`;
    return embedded<EnvironmentView>(await this.get<HalResource>(href), 'environments');
  }

  private environmentVariablesHref(programId: string, environmentId: string): string {
    return `/api/program/${encodeURIComponent(programId)}/environment/${encodeURIComponent(environmentId)}/variables`;
  }

  private async pipelineVariablesHref(programId: string, pipelineId: string): Promise<string> {
    const pipeline = await this.pipeline(programId, pipelineId);
    return linkOf(pipeline, rel.variables) ?? `/api/program/${programId}/pipeline/${pipelineId}/variables`;
  }

  async environmentVariables(programId: string, environmentId: string): Promise<VariableView[]> {
    return embedded<VariableView>(await this.get<HalResource>(this.environmentVariablesHref(programId, environmentId)), 'variables');
  }

  async setEnvironmentVariables(programId: string, environmentId: string, changes: VariableView[]): Promise<void> {
    await this.request('PATCH', this.environmentVariablesHref(programId, environmentId), changes);
  }

  async pipelineVariables(programId: string, pipelineId: string): Promise<VariableView[]> {
    return embedded<VariableView>(await this.get<HalResource>(await this.pipelineVariablesHref(programId, pipelineId)), 'variables');
  }

  async setPipelineVariables(programId: string, pipelineId: string, changes: VariableView[]): Promise<void> {
    await this.request('PATCH', await this.pipelineVariablesHref(programId, pipelineId), changes);
  }
}
