import { randomInt } from 'node:crypto';

/** Cookies as a browser keeps them: by name, with the attributes each Set-Cookie carried. */
export class CookieJar {
  readonly cookies = new Map<string, { value: string; attributes: string[] }>();

  take(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const [name, ...value] = pair!.split('=');
      const cleared = attributes.some((a) => /^max-age=0$/i.test(a)) || value.join('=') === '';
      if (cleared) this.cookies.delete(name!);
      else this.cookies.set(name!, { value: value.join('='), attributes });
    }
  }

  value(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  /** The Cookie header a browser would send to `path` (path-scoped cookies only under their path). */
  header(path = '/api/v1/users/me'): string {
    return [...this.cookies]
      .filter(([, c]) => {
        const scope = c.attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
        return path.startsWith(scope);
      })
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }
}

/** A private address per simulated client (16 million of them: no two tests share a bucket), sent through the trusted proxy. */
export const randomClientIp = () => `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

/** An HTTP client of one API base URL that keeps cookies and may claim a client IP via X-Forwarded-For. */
export function httpClient(baseUrl: string, options: { ip?: string; cookies?: CookieJar } = {}) {
  const jar = options.cookies ?? new CookieJar();
  const ip = options.ip ?? randomClientIp();
  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; cookies?: boolean } = {}) {
    const headers: Record<string, string> = { 'x-forwarded-for': ip, ...init.headers };
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    if (init.cookies !== false && jar.cookies.size > 0) headers.cookie = jar.header(path);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });
    jar.take(response);
    return response;
  }
  /** The X-CSRF-Token header a browser page sends, read from the CSRF cookie. */
  const csrf = (): Record<string, string> => ({ 'x-csrf-token': jar.value('__Host-tc_csrf') ?? '' });
  return { jar, ip, call, csrf };
}
export type HttpClient = ReturnType<typeof httpClient>;
