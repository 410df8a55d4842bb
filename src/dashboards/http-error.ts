import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Catalog, CatalogView } from '../catalog/catalog.js';

/** An error the API answers with its status and `{ error: message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

/** Reads an optional integer query parameter, rejecting anything else with a 400 that names it. */
export function integerQuery(c: Context, name: string, options: { min: number; max: number; fallback: number }): number {
  const raw = c.req.query(name);
  if (raw === undefined) return options.fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `${name} must be an integer (got "${raw.slice(0, 40)}")`);
  const value = Number(raw);
  if (value < options.min || value > options.max) {
    throw new HttpError(400, `${name} must be between ${options.min} and ${options.max} (got ${value})`);
  }
  return value;
}

/** The catalog view named in the path, or a 404 listing the known ones. */
export function viewParam(catalog: Catalog, name: string): CatalogView {
  if (!catalog.has(name)) {
    throw new HttpError(404, `unknown view "${name.slice(0, 80)}" (known: ${catalog.views.map((view) => view.name).join(', ')})`);
  }
  return catalog.get(name);
}
