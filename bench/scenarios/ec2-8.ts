import { readJson } from '../../test/support/fixtures';
import { ec2Tags, type Scenario } from '../scenario';

const INSTANCE = 'i-077c4d5f32561ac45';
const finding = readJson('asr-ec2.8-finding.json');

function described(httpTokens: string, state: string, tags: Readonly<Record<string, string>>) {
  return {
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: 'running' },
            // Running since long before the 14-day window, so its metric is evidence.
            LaunchTime: new Date('2025-01-01T00:00:00Z'),
            MetadataOptions: {
              State: state,
              HttpTokens: httpTokens,
              HttpEndpoint: 'enabled',
              HttpPutResponseHopLimit: 2,
            },
            Tags: ec2Tags(tags),
          },
        ],
      },
    ],
  };
}

export const scenario: Scenario = {
  finding,
  answers: (tags) => ({
    ec2: {
      // Read: tokens optional; verify after the change: required (still pending on the host).
      DescribeInstances: [
        described('optional', 'applied', tags),
        described('required', 'pending', tags),
      ],
      ModifyInstanceMetadataOptions: {
        InstanceId: INSTANCE,
        InstanceMetadataOptions: { State: 'pending', HttpTokens: 'required' },
      },
    },
    cloudwatch: {
      // A data point for each day of the 14-day window, none with an IMDSv1 call.
      GetMetricData: {
        MetricDataResults: [
          { Id: 'imdsv1', StatusCode: 'Complete', Values: new Array<number>(14).fill(0) },
        ],
      },
    },
  }),
  minimum: {
    remediate: {
      resourceCalls: 4,
      why: 'read the instance (metadata options, tags, launch time: it must have run the whole window) (1); preflight: MetadataNoToken over the window, so no IMDSv1 user breaks (1); require tokens (1); read the instance to verify (1)',
    },
    notify: {
      resourceCalls: 1,
      why: 'read the instance: its HttpTokens, endpoint and hop limit say what a fix would change (1)',
    },
    suppress: { resourceCalls: 1, why: 'read the instance and its tags (1)' },
  },
};
