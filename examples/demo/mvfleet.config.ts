import { fileURLToPath } from 'node:url';
import { defineConfig } from 'mvfleet';
import { demoCommand } from './commands/demo.js';
import { seedCommand } from './commands/seed.js';
import { createDemoApi } from './read-api.js';
import { demoViewDefinitions } from './schema/catalog.js';
import { demoEvents } from './schema/events.js';

/**
 * The example's mvfleet config: the eight views of the four source applications, their
 * events, the example's drizzle-kit migrations, its read API on the dashboard, and two
 * commands of its own (`mvfleet seed`, `mvfleet demo`).
 */
export default defineConfig({
  views: demoViewDefinitions,
  events: demoEvents,
  // Absolute, so the repository root's config can re-export this one.
  migrations: fileURLToPath(new URL('./drizzle', import.meta.url)),
  dashboard: {
    routes: (app, { reader, logger }) => {
      app.route('/api/demo', createDemoApi({ reader, logger }));
    },
  },
  commands: [seedCommand, demoCommand],
});
