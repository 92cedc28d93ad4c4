import type { TestProject } from 'vitest/node';
import { connectDocker } from '../../src/docker/connect.js';
import { ensureBusyboxBase } from '../../tools/busybox-base.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Tag of the local busybox base image, or '' when no engine answered. */
    baseImage: string;
    /** Why no engine was usable, when baseImage is ''. */
    dockerProblem: string;
  }
}

/** Makes the busybox base image once per run and hands its tag to every test file. */
export default async function setup(project: TestProject): Promise<void> {
  try {
    const engine = await connectDocker();
    project.provide('baseImage', await ensureBusyboxBase(engine));
    project.provide('dockerProblem', '');
  } catch (error) {
    project.provide('baseImage', '');
    project.provide('dockerProblem', (error as Error).message);
  }
}
