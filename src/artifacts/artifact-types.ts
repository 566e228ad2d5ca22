// The artifact types the build steps record, by name; later steps find their inputs by type.
// Types marked (image) are OCI image manifests: read them with unpackImage (src/artifacts/oci.ts).
export const ARTIFACT_TYPES = {
  /** (image) The checked-out sources without .git and node_modules, before the build. */
  SOURCE: 'SOURCE',
  /** The parsed repository contract (slipway.yaml with defaults) as JSON. */
  CONTRACT: 'CONTRACT',
  /** (image) The content of the contract's app.output directory after the build. */
  BUILD_OUTPUT: 'BUILD_OUTPUT',
  /** (image) The dispatcher package directory (holds dispatcher.yaml). */
  DISPATCHER_PACKAGE: 'DISPATCHER_PACKAGE',
  /** (image) Test bundles: the contract's tests.functional.path / tests.ui.path after the build. */
  FUNCTIONAL_TESTS: 'FUNCTIONAL_TESTS',
  UI_TESTS: 'UI_TESTS',
  /** One artifact per file; name = the file's path in the workspace. */
  TEST_RESULTS: 'TEST_RESULTS',
  COVERAGE: 'COVERAGE',
  SARIF: 'SARIF',
  /** (image) Final images made by buildImage, and the Kubernetes manifests (YAML). */
  APP_IMAGE: 'APP_IMAGE',
  DISPATCHER_IMAGE: 'DISPATCHER_IMAGE',
  K8S_MANIFESTS: 'K8S_MANIFESTS',
  /** The code scan's issues (JSON), for the quality gate and the UI. */
  SCAN_ISSUES: 'SCAN_ISSUES',
  /** Stage testing's reports: UI test results and screenshots, audits, security and load tests. */
  UI_TEST_RESULTS: 'UI_TEST_RESULTS',
  UI_TEST_SCREENSHOT: 'UI_TEST_SCREENSHOT',
  CONTENT_AUDIT_REPORT: 'CONTENT_AUDIT_REPORT',
  CONTENT_AUDIT_RESULTS: 'CONTENT_AUDIT_RESULTS',
  SECURITY_TEST_RESULTS: 'SECURITY_TEST_RESULTS',
  LOAD_TEST_RESULTS: 'LOAD_TEST_RESULTS',
} as const;

/** Every type an artifact may have: steps record only these. */
export type ArtifactType = (typeof ARTIFACT_TYPES)[keyof typeof ARTIFACT_TYPES];

/** The app image's label naming its health path (the contract's app.health): deploys check it. */
export const HEALTH_LABEL = 'io.slipway.health';
