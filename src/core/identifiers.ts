/**
 * Quotes an SQL identifier. Identifiers reaching SQL come from the catalog only; they are
 * quoted anyway so that a name can never end a statement early.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
