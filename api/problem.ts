import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Stable error codes of docs/api.md "Conventions" and the HTTP status each maps to. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_MISSING: 400,
  INVALID_TOKEN: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  SESSION_EXPIRED: 401,
  CAPTCHA_REQUIRED: 401,
  FORBIDDEN: 403,
  CSRF_FAILED: 403,
  EMAIL_NOT_VERIFIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_KEY_IN_USE: 409,
  BOOKING_NOT_CANCELLABLE: 409,
  CASE_NOT_RESOLVABLE: 409,
  BOOKING_NOT_REFUNDABLE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  REFUND_EXCEEDS_CAPTURE: 422,
  RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The request is not valid.',
  IDEMPOTENCY_KEY_MISSING: 'An Idempotency-Key header (a UUID) is required.',
  INVALID_TOKEN: 'The link is invalid or has expired.',
  UNAUTHENTICATED: 'Authentication is required.',
  INVALID_CREDENTIALS: 'Invalid credentials.',
  SESSION_EXPIRED: 'The session has expired. Please sign in again.',
  CAPTCHA_REQUIRED: 'Invalid credentials. Complete the CAPTCHA and try again.',
  FORBIDDEN: 'Access denied.',
  CSRF_FAILED: 'Access denied.',
  EMAIL_NOT_VERIFIED: 'Confirm your e-mail address first: follow the link we sent.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'Method not allowed.',
  IDEMPOTENCY_KEY_IN_USE: 'A request with this Idempotency-Key is still being handled.',
  BOOKING_NOT_CANCELLABLE: 'This booking cannot be cancelled now.',
  CASE_NOT_RESOLVABLE: 'This case cannot be resolved this way now.',
  BOOKING_NOT_REFUNDABLE: 'This booking has no captured payment to refund.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than 1 MiB.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body must be application/json.',
  IDEMPOTENCY_KEY_REUSED: 'This Idempotency-Key was already used with a different request.',
  REFUND_EXCEEDS_CAPTURE: 'The refund is more than what was captured and not yet refunded.',
  RATE_LIMITED: 'Too many requests.',
  ACCOUNT_LOCKED: 'Too many failed sign-ins. Try again later or reset your password.',
  INTERNAL: 'An error occurred. Please try again.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable. Please try again.',
};

export interface FieldProblem {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  detail?: string;
  errors?: FieldProblem[];
  /** Extension members of the problem document (RFC 9457 §3.2). */
  extensions?: Record<string, unknown>;
  /** Response headers that go with it, such as Retry-After. */
  headers?: Record<string, string>;
}

/** What handlers throw; the error funnel renders it as problem+json. */
export class ApiError extends Error {
  readonly detail?: string;
  readonly errors?: FieldProblem[];
  readonly extensions?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    { detail, errors, extensions, headers }: ApiErrorOptions = {},
  ) {
    super(TITLES[code]);
    this.name = 'ApiError';
    this.detail = detail;
    this.errors = errors;
    this.extensions = extensions;
    this.headers = headers;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export function problemBody(error: ApiError, requestId: string) {
  return {
    type: `https://travelconnect.dev/problems/${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: error.message,
    status: error.status,
    code: error.code,
    ...(error.detail ? { detail: error.detail } : {}),
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}
