export {
  type DeliveryOutcome,
  OperationProgress,
  ResultDelivery,
  type ResultDeliveryOptions,
} from './result-delivery.ts';
