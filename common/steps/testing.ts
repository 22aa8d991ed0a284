/**
 * Test steps: no model needed; the shell tests, the e2e and the job drawer's "try a job" use them. They
 * are NOT in the production registry (common/steps/index.ts): the queue registers them only when asked
 * (`JobQueueOptions.testSteps`, or RW_TEST_STEPS=1 for the headless server that the e2e tests start).
 */
import { z } from 'zod';
import { defineStep } from './types.js';

export const countStep = defineStep({
  name: 'demo.count',
  title: 'Demo: count',
  description: 'Counts to `n` (default 50) sleeping `ms` (default 100) per tick; reports progress and honours cancel.',
  params: z.object({ n: z.number().int().positive().max(1_000_000).default(50), ms: z.number().nonnegative().max(60_000).default(100) }).strict(),
  result: z.object({ counted: z.number() }),
  outputs: [],
  codeVersion: 1,
  runFolder: 'job',
});

export const echoStep = defineStep({
  name: 'demo.echo',
  title: 'Demo: echo',
  description: 'Returns its params; for API tests.',
  params: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()),
  outputs: [],
  codeVersion: 1,
  runFolder: 'job',
});

export const TEST_STEPS = { 'demo.count': countStep, 'demo.echo': echoStep } as const;
