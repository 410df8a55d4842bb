#!/usr/bin/env node
// Entry for `npx mvfleet` in a clone: runs the TypeScript sources through tsx so no
// build step is needed after `npm ci`. The Docker image runs the compiled `dist/cli/main.js`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
