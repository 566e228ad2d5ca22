// The event shapes (Cloud Manager's event reference, events.yaml), pure.
import { describe, expect, it } from 'vitest';
import { cloudManagerEvent, publishes, retryDelayMs, type EventRecord } from '../../src/domain/cloud-events.ts';

const record: EventRecord = {
  eventId: '3dd172b8-0000-4000-8000-000000000001', kind: 'execution.started', programId: '1', pipelineId: '2', executionId: '3',
  objectPath: '/api/program/1/pipeline/2/execution/3', published: Date.parse('2021-08-23T08:37:41.846Z'), org: 'acme', actor: 'ada', status: 'RUNNING',
};

describe('Cloud Manager event shapes', () => {
  it('an execution start names the actor, the organisation and the absolute execution URL', () => {
    expect(cloudManagerEvent(record, 'https://slipway.example/')).toEqual({
      event_id: record.eventId,
      event: {
        '@id': `urn:oeid:cloudmanager:${record.eventId}`,
        '@type': 'https://ns.adobe.com/experience/cloudmanager/event/started',
        'xdmEventEnvelope:objectType': 'https://ns.adobe.com/experience/cloudmanager/pipeline-execution',
        'activitystreams:published': '2021-08-23T08:37:41.846Z',
        'activitystreams:to': { '@type': 'xdmImsOrg', 'xdmImsOrg:id': 'acme' },
        'activitystreams:actor': { '@type': 'xdmImsUser', 'xdmImsUser:id': 'ada' },
        'activitystreams:object': {
          '@id': 'https://slipway.example/api/program/1/pipeline/2/execution/3',
          '@type': 'https://ns.adobe.com/experience/cloudmanager/pipeline-execution',
        },
      },
      slipway: { type: 'execution.started', programId: '1', pipelineId: '2', executionId: '3', status: 'RUNNING' },
    });
  });

  it('step events are execution-step-state objects, without an actor; extras ride under `slipway`', () => {
    const step: EventRecord = {
      ...record, kind: 'step.waiting', stepId: '9', objectPath: '/api/program/1/pipeline/2/execution/3/phase/33/step/9',
      action: 'approval', status: 'WAITING', environment: 'prod',
    };
    const json = cloudManagerEvent(step, 'http://h:1') as { event: Record<string, unknown>; slipway: Record<string, unknown> };
    expect(json.event['@type']).toBe('https://ns.adobe.com/experience/cloudmanager/event/waiting');
    expect(json.event['xdmEventEnvelope:objectType']).toBe('https://ns.adobe.com/experience/cloudmanager/execution-step-state');
    expect(json.event['activitystreams:object']).toEqual({
      '@id': 'http://h:1/api/program/1/pipeline/2/execution/3/phase/33/step/9',
      '@type': 'https://ns.adobe.com/experience/cloudmanager/execution-step-state',
    });
    expect(json.event).not.toHaveProperty('activitystreams:actor');
    expect(json.slipway).toMatchObject({ action: 'approval', status: 'WAITING', environment: 'prod', stepId: '9' });
  });

  it('codeQuality, approval, schedule and managed never emit start events; other kinds are published', () => {
    for (const action of ['codeQuality', 'approval', 'schedule', 'managed'] as const) {
      expect(publishes('step.started', action)).toBe(false);
      expect(publishes('step.ended', action)).toBe(true);
    }
    expect(publishes('step.started', 'build')).toBe(true);
    expect(publishes('step.updated', 'deploy')).toBe(false);
  });

  it('retries back off exponentially up to the cap', () => {
    const delays = [1, 2, 3, 4, 20].map((n) => retryDelayMs(n, 1000, 60_000, 0.5));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(retryDelayMs(2, 1000, 60_000, 0)).toBeLessThan(retryDelayMs(2, 1000, 60_000, 1));
  });
});
