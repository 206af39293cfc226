import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLES, type TableDefinition, type TableKey, tableName } from '../shared/tables.ts';

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export interface WinfleetTablesProps {
  prefix: string;
  /** What happens to the data when the stack is deleted. Default: RETAIN. */
  removalPolicy?: RemovalPolicy;
}

/** Every table of `shared/tables.ts`: on demand, point-in-time recovery, TTL where defined. */
export class WinfleetTables extends Construct {
  private readonly tables = new Map<TableKey, Table>();

  constructor(scope: Construct, id: string, props: WinfleetTablesProps) {
    super(scope, id);
    for (const key of Object.keys(TABLES) as TableKey[]) {
      this.tables.set(key, this.createTable(key, TABLES[key], props));
    }
  }

  table(key: TableKey): ITable {
    const table = this.tables.get(key);
    if (!table) throw new Error(`no table ${key}`);
    return table;
  }

  /**
   * Grants reading or writing one table and its own indexes by name (CDK's grants would
   * name `index/*`).
   */
  grant(grantee: IGrantable, key: TableKey, mode: 'read' | 'write'): void {
    const table = this.table(key);
    const indexes = TABLES[key].indexes.map((i) => `${table.tableArn}/index/${i.indexName}`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: mode === 'read' ? READ_ACTIONS : WRITE_ACTIONS,
        resources: [table.tableArn, ...(mode === 'read' ? indexes : [])],
      }),
    );
  }

  /** Table ARNs by key, for policies written statement by statement. */
  arns(): Record<TableKey, string> {
    const entries = [...this.tables].map(([key, table]) => [key, table.tableArn]);
    return Object.fromEntries(entries) as Record<TableKey, string>;
  }

  private createTable(key: TableKey, definition: TableDefinition, props: WinfleetTablesProps) {
    const table = new Table(this, key, {
      tableName: tableName(props.prefix, key),
      partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
      sortKey: stringKey(definition.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of definition.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: stringKey(index.sortKey),
      });
    }
    return table;
  }
}

function stringKey(name: string | undefined) {
  return name ? { name, type: AttributeType.STRING } : undefined;
}
