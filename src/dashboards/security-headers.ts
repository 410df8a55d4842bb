import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** The CSP source that allows exactly this inline script. */
export function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

/**
 * The Content-Security-Policy of every response. Scripts come from this server or are the
 * inline scripts named by hash; everything else comes from this server alone, so no page
 * (Bull Board's asks for web fonts from the internet) makes a request to a third party.
 * Inline styles stay allowed: the freshness page and Bull Board set widths and colours in
 * `style` attributes, and a style cannot run code. No other site may frame the dashboard.
 */
export function contentSecurityPolicy(inlineScripts: readonly string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${inlineScripts.map(scriptHash).join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Sets the security headers on every response, Bull Board's and error answers included, and `no-store` on pages and API answers. */
export function securityHeaders(options: { inlineScripts: readonly string[] }): MiddlewareHandler {
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(options.inlineScripts),
    'X-Content-Type-Options': 'nosniff',
    // For browsers without frame-ancestors.
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
  return async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
    // Pages and API answers may carry what only the token's holders should see: a shared cache
    // in a proxy must not keep them. Bull Board's scripts and stylesheets stay cacheable.
    if (!c.res.headers.has('cache-control') && /json|html|text\/plain/.test(c.res.headers.get('content-type') ?? '')) {
      c.res.headers.set('Cache-Control', 'no-store');
    }
  };
}
