// Who is signed in and what their roles allow on each program (from /api/whoami), so each screen
// offers only the actions the user may take. The server decides anyway: this only hides what
// would be refused.
import { get } from './api.js';

const OPERATORS = ['BUSINESS_OWNER', 'DEPLOYMENT_MANAGER', 'PROGRAM_MANAGER'];
const ROLE_NAMES = {
  BUSINESS_OWNER: 'Business Owner', DEPLOYMENT_MANAGER: 'Deployment Manager', PROGRAM_MANAGER: 'Program Manager',
  DEVELOPER: 'Developer', SUPPORT: 'Support',
};

let current;

export async function loadSession() {
  const who = await get('/api/whoami');
  current = {
    name: who?.name ?? 'signed in',
    admin: Boolean(who?.admin),
    roles: new Map((who?.programs ?? []).map((p) => [String(p.programId), p.roles ?? []])),
  };
  return current;
}

export const session = () => current;

export const roleName = (role) => ROLE_NAMES[role] ?? role;

/** "Administrator", "Deployment Manager", "Developer · read only", … for the header. */
export function roleText(programId) {
  if (!current) return '';
  if (current.admin) return 'Administrator';
  const roles = current.roles.get(String(programId)) ?? [];
  if (roles.length === 0) return programId ? 'no role here' : '';
  return `${roles.map(roleName).join(', ')}${mayOperate(programId) ? '' : ' · read only'}`;
}

/** Start, approve, cancel, edit pipelines and environments. */
export function mayOperate(programId) {
  if (!current) return false;
  return current.admin || (current.roles.get(String(programId)) ?? []).some((r) => OPERATORS.includes(r));
}

/** Grant and revoke roles. */
export const isAdmin = () => Boolean(current?.admin);
