import { BlockList, isIP } from 'node:net';

// Loopback and "this host": a page there is whatever runs on the user's own machine.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('0.0.0.0', 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addAddress('::', 'ipv6');

/** This machine (loopback, `localhost`, "this host"): what a deployment must never mean by a remote service. */
export function isLoopback(hostname: string): boolean {
  // `localhost.` is the same name written fully qualified; resolvers strip the root's dot.
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * What is wrong with TEMPORAL_UI_URL in production: its origin is the one credentialed CORS origin of
 * /codec/* (operators' decrypted payloads), so it must be said, and be https and not loopback, like CORS_ORIGINS.
 */
export function temporalUiUrlProblems(value: string | undefined): string[] {
  if (value === undefined) return ["TEMPORAL_UI_URL: production needs the Web UI's own https URL (its origin may call the codec server)"];
  const url = new URL(value); // the schema took it as a URL
  if (url.protocol === 'https:' && !isLoopback(url.hostname)) return [];
  return [`TEMPORAL_UI_URL: ${url.origin} is refused in production (https only, never loopback or localhost)`];
}

/**
 * What is wrong with CORS_ORIGINS, one line per entry. Anywhere: `null`, and an entry that is not
 * an origin as browsers send it (it would never match). In production also plain http and loopback
 * origins (SECURITY.md §33): a credentialed page there is not ours.
 */
export function corsOriginProblems(origins: readonly string[], production: boolean): string[] {
  return origins.flatMap((origin) => {
    if (origin === 'null') return ['CORS_ORIGINS: `null` is never allowed'];
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== origin) return [`CORS_ORIGINS: ${origin} is not an origin (scheme://host[:port], as a browser sends it)`];
    if (production && (url.protocol !== 'https:' || isLoopback(url.hostname))) {
      return [`CORS_ORIGINS: ${origin} is refused in production (https origins only, never loopback or localhost)`];
    }
    return [];
  });
}
