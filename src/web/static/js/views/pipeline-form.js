// Add or edit a pipeline (Cloud Manager's "Add Production Pipeline" / "Edit"): name, type,
// repository and branch, target environments, trigger, approval, schedule, CSE oversight, pause
// before production, what an important metric's failure does, the experience-audit pages.
// Defaults make a working production pipeline from a name alone when the program has one
// repository and one environment of each type.
import { embedded, get, paths, request } from '../api.js';
import { h } from '../dom.js';
import { checkField, selectField, textField } from '../form.js';
import { mayOperate } from '../session.js';
import { errorBox, navigate, setTitle, toast } from '../ui.js';
import { PIPELINE_TYPE_NAMES } from './programs.js';

/** Which target environments each type deploys to. */
const TARGETS = { fullStack: ['stage', 'prod'], devDeploy: ['dev'], codeQuality: [], webTier: ['stage', 'prod', 'dev'] };
const ENV_NAMES = { stage: 'Stage environment', prod: 'Production environment', dev: 'Development environment' };

export async function renderPipelineForm(main, [programId, pipelineId]) {
  const editing = Boolean(pipelineId);
  const base = paths.program(programId);
  const [program, repositories, environments, pipeline] = await Promise.all([
    get(base), get(`${base}/repositories`).then((r) => embedded(r, 'repositories')),
    get(paths.environments(programId)).then((r) => embedded(r, 'environments')),
    editing ? get(paths.pipeline(programId, pipelineId)) : undefined,
  ]);
  const title = editing ? `Edit ${pipeline.name}` : 'New pipeline';
  setTitle(`${title} · ${program.name}`);
  main.append(h('p.crumbs', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines')), h('h1', { text: title }));
  if (!mayOperate(programId)) {
    main.append(h('p', { text: 'Your role on this program does not allow changing pipelines.' }));
    return;
  }
  if (repositories.length === 0) {
    main.append(h('p', { text: 'This program has no repository yet; a pipeline builds one. Add one with `slipway repositories add` or POST /api/program/:id/repositories.' }));
    return;
  }
  const o = pipeline?.options ?? {};
  const build = pipeline?.phases?.find((p) => p.type === 'BUILD') ?? {};
  const targetOf = (type) => pipeline?.phases?.find((p) => p.type === 'DEPLOY' && p.environmentType === type)?.environmentId;

  const name = textField('Name', 'name', pipeline?.name ?? '', { required: true, maxlength: '64' });
  const type = selectField('Type', 'type', Object.entries(PIPELINE_TYPE_NAMES), pipeline?.slipwayType ?? 'fullStack',
    editing ? 'The type of an existing pipeline cannot change.' : 'Full stack: build, stage, tests, then production.');
  type.input.disabled = editing;
  const repository = selectField('Repository', 'repositoryId', repositories.map((r) => [r.id, r.repo ?? r.name]), build.repositoryId ?? repositories[0].id);
  const branch = textField('Branch', 'branch', build.branch ?? 'main', { required: true, list: 'branch-list' });
  const branchList = h('datalist', { id: 'branch-list' });
  const loadBranches = () => get(`${base}/repository/${encodeURIComponent(repository.input.value)}/branches`)
    .then((r) => branchList.replaceChildren(...embedded(r, 'branches').map((b) => h('option', { value: b.name }))))
    .catch(() => branchList.replaceChildren());
  repository.input.addEventListener('change', loadBranches);
  loadBranches();
  const targets = Object.fromEntries(['stage', 'prod', 'dev'].map((t) => {
    const candidates = environments.filter((e) => e.type === t);
    const f = selectField(ENV_NAMES[t], `env-${t}`, [['', '— none —'], ...candidates.map((e) => [e.id, `${e.name} (${e.status})`])], targetOf(t) ?? candidates[0]?.id ?? '');
    return [t, f];
  }));
  const trigger = selectField('Trigger', 'trigger', [['MANUAL', 'Manual'], ['ON_COMMIT', 'On git changes']], pipeline?.trigger ?? 'MANUAL');
  const approval = checkField('Go-live approval before production', 'approval', o.approval ?? true);
  const schedule = checkField('Schedule the production deployment', 'schedule', o.schedule ?? false);
  const managed = checkField('CSE oversight (a support engineer starts the deployment)', 'managed', o.managed ?? false);
  const pause = checkField('Pause before deploying to production', 'pauseBeforeProd', o.pauseBeforeProd ?? false);
  const uiTests = checkField('Run the repository\'s UI tests', 'uiTests', o.uiTests ?? true);
  const security = checkField('Security testing gate', 'securityTest', o.securityTest ?? false);
  const load = checkField('Load testing gate', 'loadTest', o.loadTest ?? false);
  const important = selectField('When an important metric fails', 'importantMetrics',
    [['ask', 'Ask a person (override or reject)'], ['fail', 'Fail the execution'], ['continue', 'Continue']], o.importantMetrics ?? 'ask');
  const audit = { input: h('textarea', { name: 'auditPaths', rows: '3', id: 'audit-paths', 'aria-describedby': 'audit-paths-hint' }, (o.auditPaths ?? ['/']).join('\n')) };
  const auditField = h('div.field', {}, h('label', { for: 'audit-paths', text: 'Experience audit pages' }), audit.input,
    h('span.hint', { id: 'audit-paths-hint', text: 'One path per line, starting with /; at least one (the audit always runs).' }));

  const targetBox = h('fieldset', {}, h('legend', { text: 'Where it deploys' }), Object.values(targets).map((f) => f.el));
  const prodBox = h('fieldset.production-options', {}, h('legend', { text: 'Production options' }),
    [approval, schedule, managed, pause, uiTests, security, load, important].map((f) => f.el), auditField);
  const showFor = () => {
    const t = type.input.value;
    for (const [env, f] of Object.entries(targets)) f.el.hidden = !TARGETS[t].includes(env);
    targetBox.hidden = TARGETS[t].length === 0;
    prodBox.hidden = t !== 'fullStack';
  };
  type.input.addEventListener('change', showFor);
  showFor();

  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button.primary', { type: 'submit' }, editing ? 'Save' : 'Create pipeline');
  const form = h('form.card.form', { 'aria-label': title, novalidate: true },
    h('fieldset', {}, h('legend', { text: 'Source' }), name.el, type.el, repository.el, branch.el, branchList, trigger.el),
    targetBox, prodBox, message, h('div.controls', {}, submit, h('a', { href: `#/program/${programId}` }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    if (!name.input.value.trim()) {
      message.replaceChildren(h('div.alert', { role: 'alert', text: 'Give the pipeline a name.' }));
      name.input.focus();
      return;
    }
    const t = type.input.value;
    const environmentsBody = Object.fromEntries(TARGETS[t].map((env) => [env, targets[env].input.value]).filter(([, id]) => id));
    const body = {
      name: name.input.value.trim(), repositoryId: repository.input.value, branch: branch.input.value.trim(),
      trigger: trigger.input.value, environments: environmentsBody,
    };
    if (t === 'fullStack') {
      body.options = {
        approval: approval.input.checked, schedule: schedule.input.checked, managed: managed.input.checked,
        pauseBeforeProd: pause.input.checked, uiTests: uiTests.input.checked, securityTest: security.input.checked,
        loadTest: load.input.checked, importantMetrics: important.input.value,
        auditPaths: audit.input.value.split('\n').map((l) => l.trim()).filter(Boolean),
      };
    }
    if (!editing) body.type = t;
    submit.disabled = true;
    try {
      const { body: saved } = editing
        ? await request('PATCH', paths.pipeline(programId, pipelineId), body)
        : await request('POST', `${base}/pipelines`, body);
      toast(editing ? `Pipeline ${saved.name} saved` : `Pipeline ${saved.name} created`);
      navigate(`/program/${programId}`);
    } catch (error) {
      submit.disabled = false;
      message.replaceChildren(errorBox(error));
      message.querySelector('[role="alert"]')?.focus?.();
    }
  });
  main.append(form);
  name.input.focus();
}
