export {
  type DeliveryOutcome,
  ResultDelivery,
  type ResultDeliveryOptions,
} from './result-delivery.ts';
