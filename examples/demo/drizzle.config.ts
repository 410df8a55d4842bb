import { defineConfig } from 'drizzle-kit';

// Generates the example's migrations (`npm run db:generate`, from the repository root);
// `mvfleet migrate` applies them and restores MV indexes drizzle-kit cannot express.
// mvfleet's own tables live in the `mvfleet` schema, which mvfleet migrates itself.
export default defineConfig({
  dialect: 'postgresql',
  schema: './examples/demo/schema/index.ts',
  out: './examples/demo/drizzle',
  schemaFilter: ['public'],
});
