// The shipped step handlers: only real ones. A pipeline whose layout needs a handler that is
// not here fails `validate`, saying which.
import type { PushRegistry } from '../artifacts/push.ts';
import type { Environment } from '../domain/model.ts';
import { makeBuildImageHandler } from './build-image.ts';
import { buildHandler } from './build.ts';
import { codeQualityHandler } from './code-quality.ts';
import { contentAudit } from './content-audit.ts';
import { deployHandler } from './deploy.ts';
import { functionalTest } from './functional-test.ts';
import type { HandlerRegistry } from './handler.ts';
import { loadTest } from './load-test.ts';
import { productTest } from './product-test.ts';
import { securityTest } from './security-test.ts';
import { uiTest } from './ui-test.ts';
import { makeValidateHandler } from './validate.ts';
import { approvalHandler, managedHandler, scheduleHandler } from './waiting.ts';

export function shippedHandlers(deps: {
  environment(id: string): Promise<Environment | undefined>;
  /** Slipway's public URL once known (images get registry references from it). */
  publicUrl?(): string | undefined;
  /** A configured registry that images are pushed to (SLIPWAY_REGISTRY). */
  pushTo?(): PushRegistry | undefined;
}): HandlerRegistry {
  const registry: HandlerRegistry = {
    build: buildHandler,
    codeQuality: codeQualityHandler,
    buildImage: makeBuildImageHandler(deps),
    deploy: deployHandler,
    productTest,
    functionalTest,
    uiTest,
    contentAudit,
    securityTest,
    loadTest,
    approval: approvalHandler,
    schedule: scheduleHandler,
    managed: managedHandler,
  };
  registry.validate = makeValidateHandler({ handlers: () => registry, environment: deps.environment });
  return registry;
}
