import { z } from 'zod';
import { e164Phone, personName } from '../booking.schemas.js';
import { freeText } from '../free-text.js';

// The policy (12–128 characters, not common, not the address) is checked with the address at
// hand in the service; the schema only bounds what is parsed.
const password = freeText({ min: 1, max: 512 });
const email = z.email().max(255);
// Our opaque tokens: 32 random bytes in base64url.
const opaqueToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a valid token');
const tokenDelivery = z.enum(['cookie', 'body']).default('cookie');

export const signupSchema = z.strictObject({ email, password, name: personName, phone: e164Phone.optional() });
// The password chosen at signup: only the person who chose it can switch that signup on.
export const verifyEmailSchema = z.strictObject({ token: opaqueToken, password, tokenDelivery });
export const loginSchema = z.strictObject({
  email,
  password,
  captchaToken: freeText({ min: 1, max: 4096 }).optional(),
  tokenDelivery,
});
export const refreshSchema = z.strictObject({ refreshToken: opaqueToken.optional(), tokenDelivery });
export const passwordResetRequestSchema = z.strictObject({ email });
export const passwordResetConfirmSchema = z.strictObject({ token: opaqueToken, newPassword: password });
export const profilePatchSchema = z.strictObject({ name: personName.optional(), phone: e164Phone.nullable().optional() });
export const roleChangeSchema = z.strictObject({ role: z.enum(['user', 'support', 'admin']) });
export const accountDeletionSchema = z.strictObject({ password });
