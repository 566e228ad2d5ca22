// Environment and pipeline variables. A PATCH carries only the changes; an empty value deletes.
// Secret values are sealed (secret-box.ts) before they reach the database.
import type { Kysely, Selectable } from 'kysely';
import type { Variable, VariableType } from '../domain/model.ts';
import type { Database, VariableTable } from './schema.ts';
import { toId } from './json.ts';
import { SecretBox } from './secret-box.ts';

type K = Kysely<Database>;
export type VariableOwner = 'environment' | 'pipeline';

const SECRET = 'secretString';

/** What a sealed value is bound to: its row. */
const contextOf = (r: { owner_kind: string; owner_id: number | string; name: string; service: string }) =>
  `${r.owner_kind}/${r.owner_id}/${r.name}/${r.service}`;

/** listVariables' query (also read together with others: engine/context.ts). */
export const variablesQuery = (db: K, owner: VariableOwner, ownerId: string) => db.selectFrom('variables').selectAll()
  .where('owner_kind', '=', owner).where('owner_id', '=', toId(ownerId)).orderBy('name').orderBy('service');

/** A variable as its row holds it, its secret value opened. */
export const toVariable = (box: SecretBox, r: Selectable<VariableTable>): Variable => ({
  name: r.name, value: r.type === SECRET ? box.open(r.value, contextOf(r)) : r.value,
  type: r.type as VariableType, ...(r.service ? { service: r.service } : {}),
});

export async function listVariables(db: K, box: SecretBox, owner: VariableOwner, ownerId: string): Promise<Variable[]> {
  return (await variablesQuery(db, owner, ownerId).execute()).map((r) => toVariable(box, r));
}

export async function patchVariables(db: K, box: SecretBox, owner: VariableOwner, ownerId: string, changes: Variable[]): Promise<void> {
  const id = toId(ownerId);
  for (const v of changes) {
    const service = v.service ?? '';
    await db.deleteFrom('variables').where('owner_kind', '=', owner).where('owner_id', '=', id)
      .where('name', '=', v.name).where('service', '=', service).execute();
    if (v.value !== '') {
      const row = { owner_kind: owner, owner_id: id, name: v.name, service, type: v.type };
      await db.insertInto('variables')
        .values({ ...row, value: v.type === SECRET ? box.seal(v.value, contextOf(row)) : v.value }).execute();
    }
  }
}

/**
 * Seals every secret value with the box's current key: plaintext ones (written before secrets
 * were encrypted) and those sealed with another key (a rotation). Run it inside a transaction;
 * returns how many values changed.
 */
export async function resealSecrets(db: K, from: SecretBox, to: SecretBox = from): Promise<number> {
  const rows = await db.selectFrom('variables').selectAll().where('type', '=', SECRET).execute();
  let changed = 0;
  for (const r of rows) {
    if (SecretBox.keyIdOf(r.value) === to.currentKeyId) continue;
    const value = to.seal(from.open(r.value, contextOf(r)), contextOf(r));
    await db.updateTable('variables').set({ value })
      .where('owner_kind', '=', r.owner_kind).where('owner_id', '=', r.owner_id)
      .where('name', '=', r.name).where('service', '=', r.service).execute();
    changed++;
  }
  return changed;
}

/** Deletes the variables of these owners (a deleted pipeline's, environment's or program's). */
export async function deleteVariablesOf(db: K, owner: VariableOwner, ownerIds: (string | number)[]): Promise<void> {
  if (ownerIds.length === 0) return;
  await db.deleteFrom('variables').where('owner_kind', '=', owner).where('owner_id', 'in', ownerIds.map((i) => toId(i))).execute();
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
