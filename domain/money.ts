import { z } from 'zod';

/** ISO 4217 currencies we sell in, with their minor-unit exponent. */
const MINOR_UNITS = { EUR: 2, GBP: 2, USD: 2, CHF: 2, JPY: 0 } as const;
export type Currency = keyof typeof MINOR_UNITS;
export const currencySchema = z.enum(Object.keys(MINOR_UNITS) as [Currency, ...Currency[]]);

const AMOUNT = /^\d{1,9}(\.\d{1,2})?$/;
const decimalsOf = (amount: string) => amount.split('.')[1]?.length ?? 0;
const MINOR_UNITS_TEXT = Object.entries(MINOR_UNITS).map(([code, digits]) => `${code} ${digits}`).join(', ');

/**
 * Money on the wire: a decimal string and a currency, never a float. The pattern admits the
 * most decimals any currency has; the refinement holds each amount to its own currency's, so
 * `100.5 JPY` is a 400 at `amount`, not a RangeError from toMinor later.
 */
export const moneySchema = z
  .strictObject({
    amount: z
      .string()
      .regex(AMOUNT, 'must be a decimal string such as "123.45"')
      .describe(`At most as many decimals as the currency has minor units (${MINOR_UNITS_TEXT})`),
    currency: currencySchema,
  })
  .superRefine((money, ctx) => {
    // zod runs this even after refusing a field; that issue is reported already, once.
    const allowed: number | undefined = MINOR_UNITS[money.currency];
    if (allowed !== undefined && AMOUNT.test(money.amount) && decimalsOf(money.amount) > allowed) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: allowed === 0 ? `must be a whole number for ${money.currency}` : `must have at most ${allowed} decimals for ${money.currency}`,
      });
    }
  });
export type Money = z.infer<typeof moneySchema>;

/** Minor units (cents) as an integer; JSON- and Temporal-safe. */
export function toMinor(money: Money): number {
  const exponent = MINOR_UNITS[money.currency];
  const [whole = '0', fraction = ''] = money.amount.split('.');
  if (fraction.length > exponent) throw new RangeError(`too many decimals for ${money.currency}`);
  return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
}

export function fromMinor(minor: number, currency: Currency): Money {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError('minor units must be a non-negative integer');
  const exponent = MINOR_UNITS[currency];
  if (exponent === 0) return { amount: String(minor), currency };
  const digits = String(minor).padStart(exponent + 1, '0');
  return { amount: `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`, currency };
}
