import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../infra/temporal/connection.js';
import { failureConverterPath } from '../infra/temporal/data-converter.js';

// `npm run build:workflows [out]`: the workflow bundle for production start-up (WORKFLOW_BUNDLE_PATH).
const out = process.argv[2] ?? 'dist/workflow-bundle.js';
// The workflows' own failures are encoded as the worker's are (infra/temporal/failure-converter.cjs).
const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), failureConverterPath });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
process.stdout.write(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
