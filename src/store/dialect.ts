/** The SQL dialects Slipway's store runs on (its own module: migrations need it, and db.ts imports the migrations). */
export type Dialect = 'sqlite' | 'postgres';
