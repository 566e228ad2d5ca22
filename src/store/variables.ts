// Environment and pipeline variables. A PATCH carries only the changes; an empty value deletes.
import type { Kysely } from 'kysely';
import type { Variable, VariableType } from '../domain/model.ts';
import type { Database } from './schema.ts';
import { toId } from './json.ts';

type K = Kysely<Database>;
export type VariableOwner = 'environment' | 'pipeline';

export async function listVariables(db: K, owner: VariableOwner, ownerId: string): Promise<Variable[]> {
  const rows = await db.selectFrom('variables').selectAll()
    .where('owner_kind', '=', owner).where('owner_id', '=', toId(ownerId)).orderBy('name').orderBy('service').execute();
  return rows.map((r) => ({
    name: r.name, value: r.value, type: r.type as VariableType, ...(r.service ? { service: r.service } : {}),
  }));
}

export async function patchVariables(db: K, owner: VariableOwner, ownerId: string, changes: Variable[]): Promise<void> {
  const id = toId(ownerId);
  for (const v of changes) {
    const service = v.service ?? '';
    await db.deleteFrom('variables').where('owner_kind', '=', owner).where('owner_id', '=', id)
      .where('name', '=', v.name).where('service', '=', service).execute();
    if (v.value !== '') {
      await db.insertInto('variables')
        .values({ owner_kind: owner, owner_id: id, name: v.name, service, type: v.type, value: v.value }).execute();
    }
  }
}

/** The variables a service sees: service-specific values win over those for every service. */
export function variablesForService(all: Variable[], service: string): { values: Record<string, string>; secrets: string[] } {
  const values: Record<string, string> = {};
  const secrets: string[] = [];
  const ordered = [...all.filter((v) => !v.service), ...all.filter((v) => v.service === service)];
  for (const v of ordered) {
    values[v.name] = v.value;
    if (v.type === 'secretString' && v.value) secrets.push(v.value);
  }
  return { values, secrets };
}
