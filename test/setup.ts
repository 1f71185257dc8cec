import 'aws-sdk-client-mock-vitest/extend';
import { afterAll } from 'vitest';
import { restoreAllStubs } from './support/aws';

afterAll(() => {
  restoreAllStubs();
});
