'use strict';
// Failure messages and stack traces go into an encoded payload, which the encryption codec then
// encrypts like any other: an error's text (a mail server naming a recipient, a supplier's reason)
// never reaches the Temporal server, its database or its Web UI in clear.
// CommonJS because the worker require()s this file by path and the workflow bundler packs it as is.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
