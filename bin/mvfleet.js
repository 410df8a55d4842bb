#!/usr/bin/env node
// The `mvfleet` command. tsx is registered first so that a TypeScript config file
// (mvfleet.config.ts) and the app code it imports load as they are. An installed package
// runs its compiled dist/; a clone of the repository runs its sources with no build step,
// under the repository's tsconfig (which maps the package name to src/, so the example's
// `import … from 'mvfleet'` works from any working directory).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const sources = new URL('../src/cli/run.ts', import.meta.url);
if (existsSync(sources)) {
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(sources.href);
} else {
  register();
  await import(new URL('../dist/cli/run.js', import.meta.url).href);
}
