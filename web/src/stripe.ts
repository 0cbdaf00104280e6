import { api } from './api/client';

/** The part of Stripe.js v3 this client uses (card element, PaymentMethods, the 3-D Secure challenge). */
export interface StripeError {
  type: string;
  code?: string;
  message?: string;
}
export interface CardElement {
  mount(target: HTMLElement): void;
  destroy(): void;
  on(event: 'change', handler: (event: { complete: boolean; error?: StripeError }) => void): void;
}
export interface PaymentMethod {
  id: string;
  card?: { brand?: string; last4?: string; exp_month?: number; exp_year?: number };
}
export interface StripeJs {
  elements(): { create(type: 'card'): CardElement };
  createPaymentMethod(options: { type: 'card'; card: CardElement; billing_details?: { name?: string; email?: string } }): Promise<{ paymentMethod?: PaymentMethod; error?: StripeError }>;
  handleNextAction(options: { clientSecret: string }): Promise<{ paymentIntent?: { status: string }; error?: StripeError }>;
}
declare global {
  interface Window {
    Stripe?: (publishableKey: string) => StripeJs;
  }
}

let loading: Promise<StripeJs> | undefined;

/** Loads the Stripe.js the API names (Stripe's own in production) once, with the publishable key. */
export function loadStripe(): Promise<StripeJs> {
  loading ??= (async () => {
    const { data } = await api.GET('/api/v1/payments/config');
    if (!data) throw new Error('The payment configuration could not be loaded.');
    if (!window.Stripe) {
      await new Promise<void>((resolve, reject) => {
        const script = document.createElement('script');
        script.src = data.stripeJsUrl;
        script.onload = () => resolve();
        script.onerror = () => reject(new Error('Stripe.js could not be loaded.'));
        document.head.appendChild(script);
      });
    }
    if (!window.Stripe) throw new Error('Stripe.js did not load.');
    return window.Stripe(data.publishableKey);
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
