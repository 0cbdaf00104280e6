/** The login flow's view of a CAPTCHA service: was this token solved by a human just now? */
export interface CaptchaVerifier {
  verify(token: string, remoteIp: string): Promise<boolean>;
}

export interface HttpCaptchaVerifierOptions {
  /** A siteverify endpoint: Cloudflare Turnstile, reCAPTCHA, or the local development one. */
  verifyUrl: string;
  secret: string;
  timeoutMs: number;
  /** Hears why a verification could not be made (network, timeout, bad answer), for the log. */
  onError?: (error: unknown) => void;
}

/**
 * Speaks the Turnstile/reCAPTCHA siteverify protocol. Fails closed: an unreachable, slow or
 * confused service answers `false`, so an outage cannot switch the CAPTCHA off.
 */
export function createHttpCaptchaVerifier(options: HttpCaptchaVerifierOptions): CaptchaVerifier {
  return {
    async verify(token, remoteIp) {
      if (!token) return false;
      try {
        const response = await fetch(options.verifyUrl, {
          method: 'POST',
          body: new URLSearchParams({ secret: options.secret, response: token, ...(remoteIp ? { remoteip: remoteIp } : {}) }),
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: 'error',
        });
        if (!response.ok) throw new Error(`siteverify answered ${response.status}`);
        const body = (await response.json()) as { success?: unknown } | null;
        return body?.success === true;
      } catch (error) {
        options.onError?.(error);
        return false;
      }
    },
  };
}
