// Webhook subscriptions per program. The secret is kept, sealed like secret variables, to sign
// deliveries; it is never listed back to clients (the API drops it).
import type { Kysely, Selectable } from 'kysely';
import type { EventKind } from '../domain/cloud-events.ts';
import type { Database, WebhookTable } from './schema.ts';
import { lastEventSeq } from './events.ts';
import { parseJson, toId } from './json.ts';
import { SecretBox } from './secret-box.ts';

type K = Kysely<Database>;

export interface Webhook {
  id: string;
  programId: string;
  url: string;
  /** The signing secret as stored (sealed); `webhookSecret` opens it. */
  sealedSecret: string;
  events: EventKind[];
  enabled: boolean;
  fannedOutTo: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The associated data that binds a sealed secret to its program (a row copied elsewhere does not open). */
const contextOf = (programId: string | number) => `webhook:${String(programId)}`;

export function webhookSecret(w: Webhook, box: SecretBox): string {
  return box.open(w.sealedSecret, contextOf(w.programId));
}

const toWebhook = (r: Selectable<WebhookTable>): Webhook => ({
  id: String(r.id), programId: String(r.program_id), url: r.url, sealedSecret: r.secret,
  events: parseJson<EventKind[]>(r.events, []), enabled: Boolean(r.enabled), fannedOutTo: Number(r.fanned_out_to),
  createdAt: new Date(Number(r.created_at)), updatedAt: new Date(Number(r.updated_at)),
});

/** A new subscription hears what happens from now on, not the journal's past (that is what pull is for). */
export async function createWebhook(
  db: K, box: SecretBox, w: { programId: string; url: string; secret: string; events: EventKind[] }, now = Date.now(),
): Promise<Webhook> {
  const row = await db.insertInto('webhooks').values({
    program_id: toId(w.programId), url: w.url, secret: box.seal(w.secret, contextOf(w.programId)), events: JSON.stringify(w.events), enabled: 1,
    fanned_out_to: await lastEventSeq(db, w.programId), created_at: now, updated_at: now,
  }).returningAll().executeTakeFirstOrThrow();
  return toWebhook(row);
}

export async function getWebhook(db: K, id: string, programId?: string): Promise<Webhook | undefined> {
  let q = db.selectFrom('webhooks').selectAll().where('id', '=', toId(id));
  if (programId !== undefined) q = q.where('program_id', '=', toId(programId));
  const row = await q.executeTakeFirst();
  return row && toWebhook(row);
}

/** One program's subscriptions, or every enabled one (the delivery worker's view). */
export async function listWebhooks(db: K, programId?: string): Promise<Webhook[]> {
  let q = db.selectFrom('webhooks').selectAll().orderBy('id');
  q = programId !== undefined ? q.where('program_id', '=', toId(programId)) : q.where('enabled', '=', 1);
  return (await q.execute()).map(toWebhook);
}

export async function updateWebhook(
  db: K, box: SecretBox, w: Pick<Webhook, 'id' | 'programId'>,
  patch: { url?: string; secret?: string; events?: EventKind[]; enabled?: boolean }, now = Date.now(),
): Promise<void> {
  await db.updateTable('webhooks').set({
    ...(patch.url !== undefined ? { url: patch.url } : {}),
    ...(patch.secret !== undefined ? { secret: box.seal(patch.secret, contextOf(w.programId)) } : {}),
    ...(patch.events !== undefined ? { events: JSON.stringify(patch.events) } : {}),
    ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
    updated_at: now,
  }).where('id', '=', toId(w.id)).execute();
}

/** Seals every webhook secret with `to`'s current key (a rotation; see variables.ts resealSecrets). */
export async function resealWebhookSecrets(db: K, from: SecretBox, to: SecretBox = from): Promise<number> {
  let changed = 0;
  for (const r of await db.selectFrom('webhooks').select(['id', 'program_id', 'secret']).execute()) {
    if (SecretBox.keyIdOf(r.secret) === to.currentKeyId) continue;
    const secret = to.seal(from.open(r.secret, contextOf(r.program_id)), contextOf(r.program_id));
    await db.updateTable('webhooks').set({ secret }).where('id', '=', r.id).execute();
    changed++;
  }
  return changed;
}

export async function deleteWebhook(db: K, id: string): Promise<boolean> {
  const r = await db.deleteFrom('webhooks').where('id', '=', toId(id)).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
