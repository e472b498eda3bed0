// Package cli is rovd's command line: global options, command dispatch
// and the mapping of outcomes to exit statuses, following the Routinator
// manual (GNU-style options, `rovd [options] command [command options]`).
//
// It may use every other part of rovd; nothing but cmd/rovd imports it,
// and it never imports bench.
package cli
