#!/usr/bin/env node
// The `mvfleet` command. tsx is registered first so that a TypeScript config file
// (mvfleet.config.ts) and the app code it imports load as they are. An installed package
// runs its compiled dist/; a clone of the repository runs its sources, with no build step.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const sources = new URL('../src/cli/run.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : new URL('../dist/cli/run.js', import.meta.url).href);
