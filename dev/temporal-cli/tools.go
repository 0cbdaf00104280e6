//go:build tools

// Package tools pins the Temporal CLI the development stack runs (dev/install.sh builds it from
// this module): github.com/temporalio/cli v1.5.1 with a newer modernc.org/sqlite than the one it
// names. The dev server's SQLite driver before v1.44 could leave a connection answering every query
// with "interrupted (9)" once a request's deadline had interrupted one (upstream: temporalio/temporal
// PR #9198; cznic/sqlite issue 241): a loaded chaos run's server wedged so until restarted.
package tools

import _ "github.com/temporalio/cli/cmd/temporal"
