import { main } from './main.js';

/** The `mvfleet` executable. */
process.exitCode = await main(process.argv.slice(2));
