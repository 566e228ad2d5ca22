import { makeHarness, call, waitForExecution, stepIs } from '/work/main/test/api/harness.ts';
const h = await makeHarness({ handlers: { buildLogMs: 200 } });
try {
  const p = `/api/program/${h.programId}`;
  let r = await call(h, 'GET', '/api/programs'); console.log(r.status, JSON.stringify(r.json).slice(0, 300));
  r = await call(h, 'GET', `${p}/pipelines`); console.log(r.status, JSON.stringify(r.json).slice(0, 600));
  r = await h.app.inject({ method: 'PUT', url: `${p}/pipeline/${h.fullStack.id}/execution`, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
  console.log(r.statusCode, r.headers.location, r.body.slice(0, 300));
  const id = JSON.parse(r.body).id;
  const e = await waitForExecution(h, id, stepIs('codeQuality', 'WAITING'));
  r = await h.app.inject({ method: 'GET', url: `${p}/pipeline/${h.fullStack.id}/execution`, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
  console.log(r.statusCode, r.body.slice(0, 3000));
  r = await h.app.inject({ method: 'PUT', url: `${p}/pipeline/${h.fullStack.id}/execution`, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
  console.log(r.statusCode, r.headers['content-type'], r.body);
  r = await h.app.inject({ method: 'GET', url: `/api/openapi.json`, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
  console.log(r.statusCode, Object.keys(JSON.parse(r.body).paths).length);
  r = await h.app.inject({ method: 'GET', url: `/api/nothing`, headers: { authorization: 'Bearer slw_test_admin_token_0123456789' } });
  console.log(r.statusCode, r.body);
  r = await h.app.inject({ method: 'GET', url: `/api/programs` });
  console.log(r.statusCode, r.body);
} finally { await h.close(); }
