import { readJson } from '../../test/support/fixtures';
import { ec2Tags, type Scenario } from '../scenario';

const VPC = 'vpc-e5b8f483';
const finding = readJson('asr-ec2.6-finding.json');

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      DescribeVpcs: {
        Vpcs: [{ VpcId: VPC, Tags: ec2Tags(tags) }],
      },
      // Read: no flow log; verify after the change: hubfix's, active.
      DescribeFlowLogs: [
        { FlowLogs: [] },
        {
          FlowLogs: [
            {
              FlowLogId: 'fl-0a1b2c3d4e5f60718',
              FlowLogStatus: 'ACTIVE',
              TrafficType: 'REJECT',
              LogGroupName: `/hubfix/vpc-flow-logs/${VPC}`,
            },
          ],
        },
      ],
      CreateFlowLogs: { FlowLogIds: ['fl-0a1b2c3d4e5f60718'], Unsuccessful: [] },
    },
    logs: { CreateLogGroup: {}, PutRetentionPolicy: {} },
  }),
  provisioned: {
    deliveryRoleArn: 'arn:aws:iam::111111111111:role/hubfix-ec2-6-flow-logs-us-east-1',
  },
  minimum: {
    remediate: {
      resourceCalls: 6,
      why: "read the VPC (tags) and its flow logs (2); create the log group, set its retention (CreateLogGroup takes none), create the flow log (3); list the VPC's flow logs to verify (1)",
    },
    notify: {
      resourceCalls: 2,
      why: 'read the VPC (tags) and its flow logs, to say whether a fix is needed and what it would create (2)',
    },
    suppress: { resourceCalls: 1, why: 'read the VPC and its tags (1)' },
  },
};
