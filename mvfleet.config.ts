// In a clone of the repository, `npx mvfleet <command>` runs on the example app.
export { default } from './examples/demo/mvfleet.config.js';
