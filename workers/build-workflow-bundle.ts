import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../infra/temporal/connection.js';

// `npm run build:workflows [out]`: the workflow bundle for production start-up (WORKFLOW_BUNDLE_PATH).
const out = process.argv[2] ?? 'dist/workflow-bundle.js';
// The workflows' own failures are encoded as the worker's are (infra/temporal/failure-converter.cjs), and
// the OpenTelemetry workflow interceptors are in, as in the bundle a worker builds for itself.
const { code } = await bundleWorkflowCode(workflowBundleOptions());
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
process.stdout.write(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
