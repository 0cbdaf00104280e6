import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { paymentFailedSignal, paymentSucceededSignal } from '../workflows/booking.workflow.js';
import type { PaymentNews } from './my-bookings.service.js';

/** The saga's payment signals, sent when a reader of the booking learns Stripe's decision before its webhook does. */
export function createPaymentNews(temporal: Client): PaymentNews {
  return {
    async tell(workflowId, decided) {
      const saga = temporal.workflow.getHandle(workflowId);
      try {
        if (decided === 'authorized') await saga.signal(paymentSucceededSignal);
        else await saga.signal(paymentFailedSignal, { code: 'PAYMENT_DECLINED' });
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error; // a finished saga needs no news
      }
    },
  };
}
