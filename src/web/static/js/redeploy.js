// "Redeploy this release" (a rollback): a button for an execution that offers Slipway's
// redeploy link. The confirmation says what goes live again (artifacts version, commit, the
// build they come from) and where (the pipeline's production environment); the new execution
// opens once it started.
import { embedded, get, linkOf, paths, rel, request } from './api.js';
import { confirmAct } from './confirm.js';
import { h } from './dom.js';
import { errorBox, navigate, toast } from './ui.js';

/** The execution that built the release: the execution itself, or a re-execution's source. */
async function buildOf(execution) {
  const id = execution.sourceExecutionId;
  if (!id || id === execution.id) return execution;
  return get(paths.execution(execution.programId, execution.pipelineId, id)).catch(() => undefined);
}

/** What the confirmation lists: version, commit, where it comes from, where it goes. */
async function releaseFacts(execution, pipeline) {
  const build = await buildOf(execution);
  const commit = embedded(build, 'stepStates').find((s) => s.action === 'build' && s.commitId)?.commitId;
  const prod = pipeline?.phases?.find((p) => p.type === 'DEPLOY' && p.environmentType === 'prod');
  return [
    `Release (artifacts) ${execution.artifactsVersion ?? 'unknown'}`,
    commit ? `Commit ${commit.slice(0, 10)}` : 'Commit unknown',
    ...(build && build.id !== execution.id ? [`Built by execution ${build.id}`] : []),
    `To ${prod?.environmentName ?? prod?.environmentId ?? 'the production environment'} (production)`,
  ];
}

/** The button, or null when the execution offers no redeploy link (not allowed, or not for this role). */
export function redeployButton(execution, pipeline, showError) {
  const href = linkOf(execution, rel.redeploy);
  if (!href) return null;
  let busy = false;
  return h('button.secondary', {
    type: 'button',
    'aria-label': `Redeploy this release (execution ${execution.id})`,
    onClick: async (event) => {
      // Not disabled while the dialog is open: the button keeps the focus the dialog returns to.
      if (busy) return;
      busy = true;
      const button = event.currentTarget;
      try {
        const answer = await confirmAct({
          title: `Redeploy the release of execution ${execution.id}`,
          text: 'This release goes live again in place of what production runs now, through the same rolling deployment (each pair drained, deployed, warmed and put back):',
          items: await releaseFacts(execution, pipeline),
          confirmLabel: 'Redeploy this release',
          danger: false,
          comment: false,
        });
        if (!answer) return;
        button.disabled = true;
        const { body } = await request('PUT', href);
        toast(`Redeploying the release of execution ${execution.id} as execution ${body.id}`);
        navigate(`/program/${body.programId}/pipeline/${body.pipelineId}/execution/${body.id}`);
      } catch (error) {
        showError(errorBox(error));
      } finally {
        busy = false;
        button.disabled = false;
      }
    },
  }, 'Redeploy this release');
}
