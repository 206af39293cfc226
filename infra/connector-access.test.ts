import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES, type TableKey } from '../shared/tables.ts';
import {
  CONNECTOR_DEAD_LETTER_ACTIONS,
  CONNECTOR_QUEUE_ACTIONS,
  CONNECTOR_TABLE_ACCESS,
} from './connector-access.ts';
import { connectorCommonName } from './site-resources.ts';
import { buildTestApp, logicalId, synthTemplate, writeTempFile } from './test-support.ts';
import type { WinfleetStack } from './winfleet-stack.ts';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const SITES = {
  sites: [
    { siteId: 'site-a', name: 'A' },
    { siteId: 'site-b', name: 'B' },
    { siteId: 'site-b2', name: 'B2, whose id starts like site-b' },
  ],
};

let stack: WinfleetStack;
let template: Template;

beforeAll(() => {
  const sitesFile = writeTempFile('sites.json', JSON.stringify(SITES));
  const built = buildTestApp({ sitesFile, prefix: 'wf-' });
  stack = built.stack;
  template = synthTemplate(built.app, stack);
});

function site(siteId: string) {
  const resources = stack.sites.get(siteId);
  if (!resources) throw new Error(`no site ${siteId}`);
  return resources;
}

function connectorStatements(siteId: string): Statement[] {
  const roleId = logicalId(stack, site(siteId).connectorRole);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Logical ids that a statement's resources point at. */
function resourceIds(statement: Statement): string[] {
  return [statement.Resource].flat().map((resource) => {
    const getAtt = (resource as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
    if (!getAtt?.[0]) throw new Error(`unexpected resource ${JSON.stringify(resource)}`);
    return getAtt[0];
  });
}

function tableKeyOf(id: string): TableKey | undefined {
  return (Object.keys(TABLES) as TableKey[]).find(
    (key) => logicalId(stack, stack.tables.table(key)) === id,
  );
}

describe('connector identity', () => {
  it.each(['site-a', 'site-b'])('lets only the certificate named for %s assume its role', (id) => {
    const role = template.toJSON().Resources[logicalId(stack, site(id).connectorRole)];
    const trust: Statement[] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'sts:AssumeRole',
      'sts:SetSourceIdentity',
      'sts:TagSession',
    ]);
    for (const statement of trust) {
      expect(statement).toMatchObject({
        Principal: { Service: 'rolesanywhere.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:PrincipalTag/x509Subject/CN': connectorCommonName('wf-', id) },
        },
      });
    }
  });

  it('binds the roles to the account when no trust anchor is configured', () => {
    const role = template.toJSON().Resources[logicalId(stack, site('site-a').connectorRole)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toEqual(
      expect.objectContaining({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }),
    );
  });

  it('binds the roles to the trust anchor made from the CA file', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
    const built = buildTestApp({ connectorCaFile: writeTempFile('ca.pem', ca) });
    const other = synthTemplate(built.app, built.stack);
    other.hasResourceProperties('AWS::RolesAnywhere::TrustAnchor', {
      Source: { SourceType: 'CERTIFICATE_BUNDLE', SourceData: { X509CertificateData: ca } },
    });
    const anchors = other.findResources('AWS::RolesAnywhere::TrustAnchor');
    const anchorId = Object.keys(anchors)[0];
    const roles = Object.values(other.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r).includes('rolesanywhere'),
    );
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      for (const statement of role.Properties.AssumeRolePolicyDocument.Statement) {
        expect(statement.Condition.ArnEquals).toEqual({
          'aws:SourceArn': { 'Fn::GetAtt': [anchorId, 'TrustAnchorArn'] },
        });
      }
    }
  });

  it.each(['site-a', 'site-b'])('gives %s a Roles Anywhere profile for its role only', (id) => {
    template.hasResourceProperties('AWS::RolesAnywhere::Profile', {
      Name: `wf-connector-${id}`,
      RoleArns: [{ 'Fn::GetAtt': [logicalId(stack, site(id).connectorRole), 'Arn'] }],
    });
  });
});

describe('connector policy', () => {
  it('receives, deletes and extends visibility on its own queue', () => {
    const queueId = logicalId(stack, site('site-a').queue);
    const queueStatements = connectorStatements('site-a').filter((s) =>
      resourceIds(s).includes(queueId),
    );
    expect(queueStatements).toHaveLength(1);
    expect(queueStatements[0]?.Action).toEqual([...CONNECTOR_QUEUE_ACTIONS]);
    expect(queueStatements[0] && resourceIds(queueStatements[0])).toEqual([queueId]);
  });

  it('receives and deletes on its own dead-letter queue, nothing more', () => {
    const dlqId = logicalId(stack, site('site-a').deadLetterQueue);
    const sqsStatements = connectorStatements('site-a').filter((s) =>
      [s.Action].flat().some((action) => action.startsWith('sqs:')),
    );
    const onDlq = sqsStatements.filter((s) => resourceIds(s).includes(dlqId));
    expect(sqsStatements).toHaveLength(2);
    expect(onDlq).toHaveLength(1);
    expect(onDlq[0]?.Action).toEqual([...CONNECTOR_DEAD_LETTER_ACTIONS]);
    expect(onDlq[0] && resourceIds(onDlq[0])).toEqual([dlqId]);
    expect(onDlq[0]?.Action).not.toContain('sqs:SendMessage');
  });

  it('writes the sites table only under its own site id', () => {
    const sitesId = logicalId(stack, stack.tables.table('sites'));
    const onSites = connectorStatements('site-a').filter((s) => resourceIds(s)[0] === sitesId);
    expect(onSites.length).toBeGreaterThan(0);
    for (const statement of onSites) {
      expect(statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys']).toEqual([
        'site-a',
      ]);
    }
  });

  it('limits writes to the attributes a connector owns where keys are not site-scoped', () => {
    const statements = connectorStatements('site-a');
    for (const [key, access] of Object.entries(CONNECTOR_TABLE_ACCESS)) {
      if (!access.attributes) continue;
      const tableId = logicalId(stack, stack.tables.table(key as TableKey));
      const write = statements.find(
        (s) => s.Sid?.startsWith('Write') && resourceIds(s)[0] === tableId,
      );
      expect(write?.Condition?.['ForAllValues:StringEquals']?.['dynamodb:Attributes']).toEqual(
        access.attributes,
      );
      expect(JSON.stringify(write)).not.toContain('address');
    }
  });

  it("cannot reach another site's queue, dead-letter queue or site item", () => {
    for (const [own, other] of [
      ['site-a', 'site-b'],
      ['site-b', 'site-a'],
      ['site-b', 'site-b2'],
      ['site-b2', 'site-b'],
    ] as const) {
      const statements = connectorStatements(own);
      const forbidden = [site(other).queue, site(other).deadLetterQueue];
      const reachable = new Set(statements.flatMap(resourceIds));
      for (const queue of forbidden) expect(reachable.has(logicalId(stack, queue))).toBe(false);

      const leadingKeys = statements.flatMap((s) => {
        const keys = s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
        return keys ? [keys].flat() : [];
      });
      expect(new Set(leadingKeys)).toEqual(new Set([own]));
      const text = JSON.stringify(statements);
      expect(text).not.toContain(`"${other}"`);
      expect(text).not.toMatch(/StringLike|\*/);
    }
  });

  it('touches only the tables that a connector writes, with no table-wide wildcard', () => {
    const statements = connectorStatements('site-b');
    const tables = new Set(statements.flatMap(resourceIds).map(tableKeyOf).filter(Boolean));
    expect(tables).toEqual(new Set(Object.keys(CONNECTOR_TABLE_ACCESS)));
    const actions = statements.flatMap((s) => [s.Action].flat());
    for (const forbidden of ['dynamodb:Scan', 'dynamodb:DeleteItem']) {
      expect(actions).not.toContain(forbidden);
    }
    // Query reads one operation's partition of the results table, for its progress; no other.
    const queries = statements.filter((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(queries.flatMap(resourceIds).map(tableKeyOf)).toEqual(['results']);
  });
});

describe('cdk-nag', () => {
  it('fails the synth on an unacknowledged finding', () => {
    const built = buildTestApp();
    // A queue without TLS enforcement nor a dead-letter queue breaks AwsSolutions-SQS3/SQS4.
    new Queue(Stack.of(built.stack), 'Careless');
    expect(() => built.app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
