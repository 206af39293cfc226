import { type Stack, Validations } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The cdk-nag AwsSolutions findings we accept, each with its reason. Everything else is fixed
 * in the constructs (own log-group-only roles instead of AWSLambdaBasicExecutionRole, index
 * ARNs by name instead of `index/*`, SSL-only encrypted queues, access-logged API stage).
 */
export function acknowledgeNagFindings(stack: Stack): void {
  for (const fn of stack.node.findAll().filter((c) => c instanceof NodejsFunction)) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'nodejs22.x is the chosen runtime: the handlers are built and tested for Node 22 and ' +
        'earlier; moving to nodejs24.x waits until the project tests on Node 24.',
    });
  }
}
