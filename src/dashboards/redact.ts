/**
 * What an error message shows a viewer without the token: its first line, with file paths,
 * URLs and network addresses replaced. A refresh error ("canceling statement due to
 * statement timeout") stays readable; where the server keeps its files and which hosts and
 * ports its services listen on does not leak.
 */
export function redactDetails(text: string): string;
export function redactDetails(text: string | null): string | null;
export function redactDetails(text: string | null): string | null {
  if (text === null) return null;
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  return firstLine
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/(^|[\s"'(=:])(?:[A-Za-z]:\\|\\\\|~?\/)[^\s"')]*[/\\][^\s"')]*/g, '$1[path]')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '[address]')
    // IPv6: a `::` or more groups than a clock time has.
    .replace(/(^|[\s(])(\[?(?:[0-9a-f]{0,4}:){2,8}[0-9a-f]{0,4}\]?)(?=$|[\s),;])/gi, (match, before: string, address: string) =>
      address.includes('::') || address.split(':').length > 4 ? `${before}[address]` : match,
    );
}
