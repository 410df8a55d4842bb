import type { MiddlewareHandler } from 'hono';

/** Options for {@link limitRequestBodies}. */
export interface RequestBodyLimits {
  /** Largest body accepted, in bytes; larger ones answer 413. */
  maxBytes: number;
  /** Deepest nesting of JSON arrays and objects accepted; deeper bodies answer 400. */
  maxDepth: number;
}

/** Whether `text` nests JSON arrays or objects deeper than `maxDepth` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i += 1;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return false;
}

const FORM_TYPES = /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i;

/**
 * Reads every request body in full before any route runs, refusing one over `maxBytes`
 * (413) or nested deeper than `maxDepth` (400). Routes that ignore their body (the refresh
 * endpoints) are covered too, and Bull Board parses whatever body arrives as JSON whatever
 * its content type, so the check cannot wait for a route to parse. The body is then handed
 * on from memory.
 */
export function limitRequestBodies({ maxBytes, maxDepth }: RequestBodyLimits): MiddlewareHandler {
  const tooLarge = `request body larger than ${maxBytes} bytes`;
  return async (c, next) => {
    // Checked before anything else: Node hands GET and HEAD handlers no body, but still receives it.
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      // The unread body would be taken for the next request on this connection: close it.
      c.header('Connection', 'close');
      return c.json({ error: tooLarge }, 413);
    }
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Not awaited: the rest of the body may never be read, and the answer must not wait for it.
        reader.cancel().catch(() => {});
        c.header('Connection', 'close');
        return c.json({ error: tooLarge }, 413);
      }
      chunks.push(value);
    }
    const bytes = Buffer.concat(chunks, size);
    if (!FORM_TYPES.test(c.req.header('content-type') ?? '') && nestsDeeperThan(bytes.toString('utf8'), maxDepth)) {
      return c.json({ error: `request body nests deeper than ${maxDepth} levels` }, 400);
    }
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}
