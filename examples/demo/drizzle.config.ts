import { defineConfig } from 'drizzle-kit';

// Only generates migrations (`npm run db:generate`); apply them with `mvfleet migrate`,
// which also restores MV indexes drizzle-kit cannot express.
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/index.ts',
  out: './drizzle',
});
