#!/usr/bin/env node
// The `slipway` command: runs the TypeScript sources through tsx (no build step to forget).
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register('tsx/esm', pathToFileURL('./'));
await import('../src/cli/main.ts');
