// Prints the tag of the local busybox base image, creating it first when needed (used by make demo and bench).
import { connectDocker } from '../src/docker/connect.js';
import { ensureBusyboxBase } from './busybox-base.js';

const engine = await connectDocker();
process.stdout.write(`${await ensureBusyboxBase(engine)}\n`);
