// `npm run build`: assembles dist/, the directory that becomes the app image:
// the sources, the static assets and package.json (no dependencies to install).
import { cpSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
for (const entry of ['src', 'public', 'package.json']) cpSync(entry, `dist/${entry}`, { recursive: true });
console.log('dist/ ready: src/, public/, package.json');
