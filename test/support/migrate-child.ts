// Opens the store and applies the migrations, printing what this process applied (as JSON).
import { migrate, openDb } from '../../src/store/db.ts';

const db = openDb({ dataDir: process.env.SLIPWAY_DATA!, databaseUrl: process.env.SLIPWAY_DATABASE_URL || undefined });
process.stdout.write(`${JSON.stringify(await migrate(db))}\n`);
await db.close();
